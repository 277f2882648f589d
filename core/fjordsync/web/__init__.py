"""``fjordsync web``: a small browser view of what the CLI knows, for the people who check pay
before it goes out (``fjordsync.web.app``; docs/web.md). Needs the ``web`` extra
(``pip install 'fjordsync[web]'``); nothing here is imported by the rest of fjordsync."""
