"""The Celery app: ``celery -A fjordsync.runtime.distributed.app worker`` (or ``fjordsync
worker``), configured from the environment so every worker and scheduler of a deployment is
set up by its service's environment alone:

    FJORDSYNC_BROKER_URL         the Redis broker (redis://host:6379/0; default on localhost)
    FJORDSYNC_CONFIG             the config file the workers run the tenants' flows from
    FJORDSYNC_LEDGER_URL         the shared ledger (postgresql+psycopg://...); when set it wins
                                 over the config's [ledger] url, so the password lives in the
                                 service's environment, not in a file every worker reads
    FJORDSYNC_QUEUE              the queue's name (fjordsync)
    FJORDSYNC_VISIBILITY_TIMEOUT seconds before Redis hands an unacknowledged run (its worker
                                 vanished) to another worker (10800: longer than a run, whose
                                 lock lives 2 hours; a run handed over early meets its lock)
    FJORDSYNC_BUDGET_REDIS_URL   where the shared rate budgets are counted (the broker's Redis)

Runs are acknowledged late and requeued when their worker is lost, one at a time per worker
process (prefetch 1: a long run never holds a queue of others behind it), and send events so
Flower (``celery -A fjordsync.runtime.distributed.app flower``) can watch them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from celery import Celery  # type: ignore[import-untyped]  # Celery ships no types
from celery.signals import (  # type: ignore[import-untyped]
    after_setup_logger,
    after_setup_task_logger,
)

from fjordsync import logs

__all__ = [
    "BROKER_URL_ENV",
    "CONFIG_ENV",
    "QUEUE_ENV",
    "Settings",
    "app",
    "create_app",
    "settings_from_env",
]

BROKER_URL_ENV = "FJORDSYNC_BROKER_URL"
CONFIG_ENV = "FJORDSYNC_CONFIG"
QUEUE_ENV = "FJORDSYNC_QUEUE"
VISIBILITY_TIMEOUT_ENV = "FJORDSYNC_VISIBILITY_TIMEOUT"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "fjordsync"
DEFAULT_VISIBILITY_TIMEOUT = 3 * 60 * 60


@dataclass(frozen=True, slots=True)
class Settings:
    broker_url: str
    queue: str
    visibility_timeout: int


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    timeout = env.get(VISIBILITY_TIMEOUT_ENV, "").strip()
    return Settings(
        broker_url=env.get(BROKER_URL_ENV) or DEFAULT_BROKER_URL,
        queue=env.get(QUEUE_ENV) or DEFAULT_QUEUE,
        visibility_timeout=int(timeout) if timeout.isdigit() else DEFAULT_VISIBILITY_TIMEOUT,
    )


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or settings_from_env()
    celery = Celery("fjordsync", include=["fjordsync.runtime.distributed.tasks"])
    celery.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout},
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        # A run's outcome is in the ledger (runs, dispatched_runs): no result backend to keep.
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_send_task_events=True,
        task_send_sent_event=True,
        # Celery's own logging setup is kept; the redaction filter goes on its handlers below.
        worker_hijack_root_logger=True,
        enable_utc=True,
        timezone="UTC",
    )
    return celery


app = create_app()


def _redacted(logger: logging.Logger, **_: Any) -> None:
    """Every log line a worker writes passes fjordsync's masking (secrets, personal numbers),
    as the CLI's do, in the format the CLI's do (``--log-format``, ``$FJORDSYNC_LOG_FORMAT``):
    with json, Celery's handlers write fjordsync's JSON lines instead of Celery's text."""
    logs.install_redaction(logger)
    logs.install_redaction(logging.getLogger())
    if logs.configured_format() == "json":
        for handler in (*logger.handlers, *logging.getLogger().handlers):
            handler.setFormatter(logs.JsonFormatter())
    # Celery logs at INFO; a line per HTTP request (with its URL) is not a worker's business.
    for name in ("httpx", "httpcore", "zeep"):
        logging.getLogger(name).setLevel(logging.WARNING)


after_setup_logger.connect(_redacted, weak=False)
after_setup_task_logger.connect(_redacted, weak=False)
