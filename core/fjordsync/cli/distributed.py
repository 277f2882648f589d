"""``fjordsync worker`` and ``fjordsync scheduler``: the distributed engine (Celery workers over
Redis, one scheduler, the ledger shared, usually in PostgreSQL; docs/distributed.md).

Celery is the optional extra ``fjordsync[distributed]``: without it these commands say how to
install it, and nothing else of the CLI imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from fjordsync.cli.app import ConfigFileOption, app, fail, out
from fjordsync.cli.serve import MetricsHostOption, MetricsPortOption, TickOption, start_metrics
from fjordsync.errors import FjordsyncError

if TYPE_CHECKING:
    from types import ModuleType

INSTALL_HINT = "the distributed engine needs Celery and Redis: pip install 'fjordsync[distributed]'"


class NotInstalled(FjordsyncError):
    """An optional part of fjordsync is not installed."""


def commands() -> ModuleType:
    """fjordsync.runtime.distributed.commands, or a clear error when Celery is missing."""
    try:
        from fjordsync.runtime.distributed import commands as module
    except ImportError as exc:
        missing(exc, as_json=False)
    return module


def missing(exc: ImportError, *, as_json: bool) -> NoReturn:
    name = exc.name or "celery"
    fail(NotInstalled(f"{INSTALL_HINT} ({name} is missing)"), as_json)


@app.command("worker")
def worker_command(
    config: ConfigFileOption,
    concurrency: Annotated[int, typer.Option(min=1, help="Runs at once (worker processes).")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork or solo.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
    metrics_port: MetricsPortOption = None,
    metrics_host: MetricsHostOption = "127.0.0.1",
) -> None:
    """Run queued flows (a Celery worker) until stopped."""
    import os

    from fjordsync import logs

    module = commands()
    # The pool's processes log as this one does (runtime/distributed/app.py reads it).
    os.environ[logs.LOG_FORMAT_ENV] = logs.configured_format()
    try:
        if metrics_port is not None:
            # The ledger the workers share (FJORDSYNC_LEDGER_URL over the config's), so a
            # worker's run figures are every worker's and serve's alike.
            from fjordsync.runtime.distributed.ledger import load_runtime

            start_metrics(load_runtime(config).ledger, metrics_port, metrics_host)
        module.worker(config, concurrency=concurrency, pool=pool, loglevel=loglevel)
    except FjordsyncError as exc:
        fail(exc, False)


@app.command("scheduler")
def scheduler_command(
    config: ConfigFileOption,
    tick: TickOption = 30.0,
    once: Annotated[
        bool, typer.Option("--once", help="Enqueue what is due now, then stop.")
    ] = False,
) -> None:
    """Enqueue every due run of every tenant's schedules, once, for the workers."""
    from fjordsync.cli.render import cell

    module = commands()
    try:
        module.scheduler(
            config,
            tick=tick,
            once=once,
            report=lambda line: out.print(cell(line), highlight=False),
        )
    except KeyboardInterrupt:
        return
    except FjordsyncError as exc:
        fail(exc, False)
