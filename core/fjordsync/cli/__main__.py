"""``python -m fjordsync.cli``: the ``fjordsync`` command."""

from fjordsync.cli import main

main()
