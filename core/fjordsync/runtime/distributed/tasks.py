"""The run task: one run key, run with the same ``run_flow`` the CLI uses.

- A key already ``done`` or ``failed`` is a no-op: a task redelivered after its run finished
  (its worker died before acknowledging) runs nothing twice.
- A key not final runs (again): a redelivered task after a lost worker continues the run; the
  per-(tenant, flow) run lock keeps it from overlapping a run still going on, and the flows'
  exactly-once reconciliation (pending writes) keeps a second run from writing a record twice.
- The run's flow lock held (another run of that flow, or a copy of this task Redis handed over
  while the first still runs): retried later, until the key is final.
- Transient failures (a system unreachable, the ledger's database away) are retried with
  exponential backoff, ``MAX_RETRIES`` times, then the key is ``failed``.
- A run stopped on a vendor's rate budget is enqueued again for when the budget allows
  (``RateLimited.resume_at``), never slept on in a worker.
- Anything else ends the key as ``failed`` with the run's message; no traceback and no record
  value goes to the worker's log (an unexpected error is logged by its class).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fjordsync.errors import FjordsyncError, LedgerError, RateLimited, RunLocked, Unavailable
from fjordsync.runtime.distributed.app import app
from fjordsync.runtime.distributed.keys import RunKey
from fjordsync.runtime.distributed.ledger import Runtime, load_runtime

__all__ = ["MAX_RETRIES", "run", "runtime"]

log = logging.getLogger("fjordsync.distributed")

MAX_RETRIES = 6
BACKOFF_BASE = 5.0  # seconds: 5, 10, 20, 40, 80, 160 (with up to 20% jitter)
BACKOFF_CAP = 300.0
LOCKED_COUNTDOWN = 30.0  # a held flow lock is tried again this often
# When a run stopped on a budget whose reset time it did not say: the next clock hour (the
# 24SevenOffice budget's), a minute in.
HOUR_GRACE = timedelta(minutes=1)

_RUNTIME: Runtime | None = None


def runtime() -> Runtime:
    """This process's runtime, built on first use (after a prefork pool's fork)."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = load_runtime()
    return _RUNTIME


def reset_runtime() -> None:
    global _RUNTIME
    if _RUNTIME is not None:
        _RUNTIME.ledger.close()
    _RUNTIME = None


def _jitter() -> float:
    # Spreads the retries of many runs that failed together (not a secret: any source does).
    return secrets.randbelow(1000) / 5000


def backoff(retries: int) -> float:
    delay: float = min(BACKOFF_BASE * 2**retries, BACKOFF_CAP)
    return delay * (1 + _jitter())


def _next_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1) + HOUR_GRACE


def _period(period: list[str] | None) -> Any:
    if not period:
        return None
    from fjordsync.domain.values import DateRange

    return DateRange(date.fromisoformat(period[0]), date.fromisoformat(period[1]), field="period")


@app.task(
    bind=True,
    name="fjordsync.run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # counted by kind below: a held lock waits as long as the run it waits for
    # The ledger's database away while the task reads or marks its key (outside the run):
    # retried with backoff until it is back; its message names the error's class only.
    autoretry_for=(LedgerError,),
    retry_backoff=int(BACKOFF_BASE),
    retry_backoff_max=int(BACKOFF_CAP),
    retry_jitter=True,
)
def run(self: Any, run_key: str, period: list[str] | None = None) -> dict[str, Any]:
    """Run the run of ``run_key``; returns what became of it (no record values)."""
    key = RunKey.parse(run_key)
    env = runtime()
    ledger = env.ledger
    state = ledger.begin_dispatch(run_key, self.request.id)
    if state is None:
        log.warning("run key %s was never claimed: nothing run", run_key)
        return {"run_key": run_key, "status": "unknown"}
    if state.final:
        return {"run_key": run_key, "status": state.status, "repeated": True}
    try:
        result = asyncio.run(_run_flow(env, key, trigger=state.trigger, period=_period(period)))
    except RunLocked:
        ledger.requeue_dispatch(
            run_key, status="retrying", message="its flow's run lock is held: tried again later"
        )
        raise self.retry(countdown=LOCKED_COUNTDOWN * (1 + _jitter())) from None
    except RateLimited as limited:
        resume_at = limited.resume_at or _next_hour(env.clock.now())
        return _defer(run_key, period, resume_at, None, str(limited))
    except (Unavailable, LedgerError) as error:
        if self.request.retries >= MAX_RETRIES:
            ledger.finish_dispatch(run_key, status="failed", message=str(error))
            return {"run_key": run_key, "status": "failed"}
        ledger.requeue_dispatch(run_key, status="retrying", message=str(error))
        raise self.retry(countdown=backoff(self.request.retries), max_retries=None) from None
    except FjordsyncError as error:
        ledger.finish_dispatch(run_key, status="failed", message=str(error))
        return {"run_key": run_key, "status": "failed"}
    except Exception as error:  # a bug, here or in a plugin: its class, not its text
        log.error("run %s stopped on an unexpected error (%s)", run_key, type(error).__name__)
        ledger.finish_dispatch(
            run_key,
            status="failed",
            message=f"the run stopped on an unexpected error ({type(error).__name__})",
        )
        return {"run_key": run_key, "status": "failed"}
    if result.stopped:
        resume_at = result.resume_at or _next_hour(env.clock.now())
        return _defer(run_key, period, resume_at, result.run_id, result.stopped)
    ledger.finish_dispatch(
        run_key,
        status="done",
        run_id=result.run_id,
        message=f"run {result.run_id}: {result.status}",
    )
    return {
        "run_key": run_key,
        "status": "done",
        "run_id": result.run_id,
        "run_status": result.status,
        "counts": result.counts,
    }


async def _run_flow(env: Runtime, key: RunKey, *, trigger: str, period: Any) -> Any:
    from fjordsync.runtime.runner import run_flow

    return await run_flow(
        env.config,
        env.connectors,
        env.ledger,
        key.flow,
        tenant=key.tenant,
        trigger=trigger,
        period=period,
        now=env.clock.now,
    )


def _defer(
    run_key: str,
    period: list[str] | None,
    resume_at: datetime,
    run_id: int | None,
    message: str,
) -> dict[str, Any]:
    """Enqueue the run again for ``resume_at``: a new message with an ETA, so the worker is
    free for other tenants' runs meanwhile. (A budget resets within the hour, well inside the
    broker's visibility timeout, which an ETA must not outlast or Redis hands it out twice.)"""
    resume_at = resume_at.astimezone(UTC)
    env = runtime()
    env.ledger.requeue_dispatch(
        run_key, status="deferred", resume_at=resume_at, run_id=run_id, message=message
    )
    run.apply_async(args=[run_key, period], eta=resume_at)
    return {"run_key": run_key, "status": "deferred", "resume_at": resume_at.isoformat()}
