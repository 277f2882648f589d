"""The distributed runtime (issue 13): runs as Celery tasks over Redis, the ledger shared
(PostgreSQL), one scheduler that enqueues due runs, and rate budgets shared by every worker.

Nothing here is imported by the embedded runtime: ``fjordsync serve`` and ``fjordsync run``
need neither Celery nor Redis (the ``fjordsync[distributed]`` extra).

- ``keys``: run keys (tenant, flow, due time);
- ``ledger``: the ledger with its dispatched runs (``fjordsync.ledger.dispatch``);
- ``app``: the Celery app, configured from the environment;
- ``tasks``: the run task;
- ``scheduler``: the distributed scheduler's tick;
- ``budget``: a request budget per credential, shared in Redis (``fjordsync.budget``);
- ``commands``: what ``fjordsync worker``, ``fjordsync scheduler`` and ``run --queue`` call.
"""
