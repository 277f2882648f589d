"""The distributed scheduler: each tick, every due run of every tenant's schedules is claimed in
the ledger by its run key and enqueued for the workers. It runs nothing itself.

When a flow is due and what it is due next come from the embedded scheduler
(``runtime.scheduler``: the schedule state in the ledger, first run shortly after 06:00 CET the
next day, the schedule's own days, time and zone after that), so both modes agree to the
minute. The due time is the stored next due time, the same for any scheduler that reads it, so
the run key is too: a second scheduler started by mistake makes the same key, its claim fails
and it enqueues nothing. A claim whose scheduler died before enqueueing is enqueued by the
next tick of any scheduler after ``STALE_CLAIM`` (one of them wins the update).

One tenant's trouble (its ledger rows, a schedule the ledger cannot store) is reported for that
tenant and flow; the others are still ticked. A tenant whose config is broken
(``Config.broken``) is reported when the scheduler starts and never enqueued.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from fjordsync.config import Config
from fjordsync.errors import FjordsyncError
from fjordsync.runtime.distributed.keys import RunKey
from fjordsync.runtime.distributed.ledger import DistributedLedger
from fjordsync.runtime.scheduler import due_at, next_due, signature, tick_until_stopped

__all__ = ["STALE_CLAIM", "Enqueue", "enqueue_with_celery", "serve", "submit", "task_id_of", "tick"]

log = logging.getLogger("fjordsync.distributed.scheduler")

STALE_CLAIM = timedelta(minutes=2)

# (run key, period or None) -> the task id it was sent as
Enqueue = Callable[[RunKey, "list[str] | None"], str]


def task_id_of(key: RunKey) -> str:
    """The Celery task id of a run key's first message: the same for every scheduler, so
    Flower shows one task per run key."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fjordsync:{key.text}"))


def enqueue_with_celery(key: RunKey, period: list[str] | None = None) -> str:
    from fjordsync.runtime.distributed.tasks import run

    task_id = task_id_of(key)
    try:
        run.apply_async(args=[key.text, period], task_id=task_id, retry=True)
    except Exception as exc:  # kombu's OperationalError, after its retries (kombu is Celery's)
        # The claim stays "claimed": a scheduler enqueues it once the broker is back.
        raise FjordsyncError(
            f"the broker cannot be reached ({type(exc).__name__}); run {key.text} is claimed "
            f"and will be enqueued by the scheduler within {STALE_CLAIM.seconds // 60} minutes"
        ) from None
    return task_id


def submit(
    ledger: DistributedLedger,
    key: RunKey,
    *,
    trigger: str,
    enqueue: Enqueue = enqueue_with_celery,
    period: list[str] | None = None,
) -> bool:
    """Claim ``key`` and enqueue its run; False (nothing enqueued) when it was claimed before."""
    if not ledger.claim(
        key.text, tenant=key.tenant, flow=key.flow, due_at=key.due_at, trigger=trigger
    ):
        return False
    ledger.queued(key.text, enqueue(key, period))
    return True


def tick(
    config: Config,
    ledger: DistributedLedger,
    now: Callable[[], datetime],
    *,
    enqueue: Enqueue = enqueue_with_celery,
) -> list[tuple[str, str, str]]:
    """Claim and enqueue every due run; returns (tenant, flow, what happened) for each due one:
    ``enqueued <key>``, ``claimed elsewhere`` or ``error: ...``."""
    done: list[tuple[str, str, str]] = []
    for tenant, tenant_config in config.tenants.items():
        for flow, flow_config in tenant_config.flows.items():
            schedule = flow_config.schedule
            if not flow_config.enabled or schedule is None or not schedule.enabled:
                continue
            moment = now()
            try:
                due = due_at(ledger, tenant, flow, schedule, moment)
                if due is None:
                    continue
                key = RunKey(tenant, flow, due)
                won = submit(ledger, key, trigger="scheduled", enqueue=enqueue)
                # Both schedulers move the schedule on alike: to the same next time.
                ledger.set_schedule(
                    tenant, flow, spec=signature(schedule), next_due=next_due(schedule, moment)
                )
            except FjordsyncError as error:  # this flow's trouble; the others still tick
                log.warning("scheduling %s for %s failed: %s", flow, tenant, error)
                done.append((tenant, flow, f"error: {error}"))
                continue
            done.append((tenant, flow, f"enqueued {key.text}" if won else "claimed elsewhere"))
    done += _reenqueue_stale(ledger, now(), enqueue)
    return done


def _reenqueue_stale(
    ledger: DistributedLedger, moment: datetime, enqueue: Enqueue
) -> list[tuple[str, str, str]]:
    done = []
    cutoff = moment - STALE_CLAIM
    try:
        stale = ledger.stale_claims(older_than=cutoff)
        for claim in stale:
            if ledger.reclaim(claim.run_key, older_than=cutoff):
                key = RunKey.parse(claim.run_key)
                ledger.queued(claim.run_key, enqueue(key, None))
                done.append((claim.tenant, claim.flow, f"enqueued {claim.run_key} (stale claim)"))
    except FjordsyncError as error:
        log.warning("re-enqueueing stale claims failed: %s", error)
    return done


async def serve(
    config: Config,
    ledger: DistributedLedger,
    now: Callable[[], datetime],
    *,
    tick_seconds: float = 30.0,
    once: bool = False,
    report: Callable[[str], None] = print,
    enqueue: Enqueue = enqueue_with_celery,
) -> None:
    """Tick until stopped (or once). Tenants whose config is broken are reported at the start
    (the config is read once) and never enqueued; the others are."""

    async def enqueue_due() -> list[tuple[str, str, str]]:
        return tick(config, ledger, now, enqueue=enqueue)

    await tick_until_stopped(
        config, now, enqueue_due, tick_seconds=tick_seconds, once=once, report=report, logger=log
    )
