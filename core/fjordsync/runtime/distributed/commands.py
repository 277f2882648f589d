"""What the CLI's distributed commands call (``fjordsync worker``, ``fjordsync scheduler``,
``fjordsync run FLOW --queue``). Each returns an exit code and reports through ``report``;
errors are fjordsync errors with their message, for the CLI to show as it shows any other.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime

from fjordsync.runtime.distributed.app import CONFIG_ENV
from fjordsync.runtime.distributed.keys import RunKey

__all__ = ["queue_run", "scheduler", "worker"]


def _use_config(config: str) -> None:
    """The worker's pool processes, the Celery app and the shared budgets read the config, the
    broker and the budgets' Redis from the environment: the config's ``[distributed]`` section
    fills in what the environment does not say (the environment wins)."""
    from fjordsync.budget import BUDGET_REDIS_URL_ENV
    from fjordsync.config import load_config
    from fjordsync.runtime.distributed.app import BROKER_URL_ENV, app, settings_from_env

    os.environ[CONFIG_ENV] = os.path.abspath(config)
    # Without connectors only the file and its sections are checked: quick, and a tenant's
    # trouble is its own (the workers report it per run).
    section = load_config(config).distributed
    for name, value in (
        (BROKER_URL_ENV, section.broker_url),
        (BUDGET_REDIS_URL_ENV, section.budget_redis_url),
    ):
        if value and not os.environ.get(name):
            os.environ[name] = value
    # The app was configured from the environment when it was imported, before this.
    app.conf.broker_url = settings_from_env().broker_url


def worker(
    config: str,
    *,
    concurrency: int = 1,
    pool: str = "prefork",
    loglevel: str = "INFO",
    hostname: str | None = None,
) -> None:
    """A Celery worker that runs the tenants' flows of ``config`` from the queue, until
    stopped. Its config and ledger are checked first, so a wrong path or URL stops it at once
    instead of failing every task."""
    _use_config(config)
    from fjordsync.runtime.distributed.app import app
    from fjordsync.runtime.distributed.tasks import runtime

    runtime().ledger.close()  # opens (and migrates) the ledger: it is reachable
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


def scheduler(
    config: str,
    *,
    tick: float = 30.0,
    once: bool = False,
    report: Callable[[str], None] = print,
) -> None:
    """Tick the schedules of ``config`` and enqueue each due run once."""
    _use_config(config)
    from fjordsync.runtime.distributed.ledger import load_runtime
    from fjordsync.runtime.distributed.scheduler import serve

    env = load_runtime(config)
    try:
        asyncio.run(
            serve(
                env.config, env.ledger, env.clock.now, tick_seconds=tick, once=once, report=report
            )
        )
    finally:
        env.ledger.close()


def queue_run(
    config: str,
    flow: str,
    *,
    tenant: str | None = None,
    period: tuple[str, str] | None = None,
) -> RunKey:
    """Put a manual run of ``flow`` for ``tenant`` on the queue (``run --queue``); returns its
    run key. The tenant and flow are checked here, so a typo is an error now, not a failed
    task later."""
    from fjordsync.errors import ConfigError
    from fjordsync.runtime.distributed.ledger import load_runtime
    from fjordsync.runtime.distributed.scheduler import submit

    _use_config(config)
    env = load_runtime(config)
    try:
        tenant_name, tenant_config = env.config.tenant(tenant)
        if flow not in tenant_config.flows:
            raise ConfigError(
                f"tenant {tenant_name!r} has no flow {flow!r}",
                file=str(env.config.path),
                path=f"tenants.{tenant_name}.flows",
            )
        key = RunKey(tenant_name, flow, datetime.now(UTC))
        submit(env.ledger, key, trigger="manual", period=list(period) if period else None)
        return key
    finally:
        env.ledger.close()
