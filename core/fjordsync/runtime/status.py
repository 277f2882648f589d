"""Status at a glance (``fjordsync status``, the web view): per tenant and flow, the last run, when
the next scheduled run is due and why, the run lock and who holds it, and the open problems.

Read-only: nothing here writes the ledger, not even the schedule state a scheduler would store
on first seeing a schedule, so the next due time of a schedule no scheduler has seen yet is
what the first-run rule would make it if one saw it now (``runtime.scheduler.due_at`` is the
rule this mirrors).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fjordsync.config import Config, FlowConfig
from fjordsync.domain.schedule import FIRST_RUN_ZONE
from fjordsync.ledger import Ledger, RunRecord
from fjordsync.runtime.scheduler import upcoming

__all__ = ["FlowStatus", "flow_statuses"]


@dataclass(frozen=True, slots=True)
class FlowStatus:
    """One flow of one tenant as it stands. ``schedule``: its text ("mon,thu 06:30
    Europe/Oslo"), None when it runs by hand only; ``next_due``: aware, in the schedule's own
    zone (None when no run is due by schedule), and ``next_due_reason`` why; ``lock_holder``:
    who holds its run lock ("pid N on host H (manual)"), ``lock_stale`` when that holder is
    dead or its lock ran out; ``open_problems``: its problems not gone yet, ``new_problems``
    those of them its last run found first. ``broken``: the tenant's config is broken (then
    ``flow`` is empty and nothing else is known)."""

    tenant: str
    flow: str
    enabled: bool
    schedule: str | None
    last_run: RunRecord | None
    next_due: datetime | None
    next_due_reason: str
    lock_holder: str | None
    lock_stale: bool
    open_problems: int
    new_problems: int = 0
    broken: str | None = None

    def as_dict(self) -> dict[str, Any]:
        last = self.last_run
        return {
            "tenant": self.tenant,
            "flow": self.flow,
            "enabled": self.enabled,
            "schedule": self.schedule,
            "last_run": None
            if last is None
            else {
                "id": last.id,
                "trigger": last.trigger,
                "dry_run": last.dry_run,
                "status": last.status,
                "started_at": last.started_at.isoformat(),
                "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                "duration_s": last.duration_s,
                "counts": dict(last.counts),
            },
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "next_due_reason": self.next_due_reason,
            "lock": None
            if self.lock_holder is None
            else {"holder": self.lock_holder, "stale": self.lock_stale},
            "open_problems": self.open_problems,
            "new_problems": self.new_problems,
            "broken": self.broken,
        }


def _schedule_text(flow: FlowConfig) -> str | None:
    return flow.schedule.text if flow.schedule is not None else None


def _next_due(
    ledger: Ledger, tenant: str, name: str, flow: FlowConfig, now: datetime
) -> tuple[datetime | None, str]:
    """When the scheduler runs the flow next, and why then (``scheduler.due_at``'s rule)."""
    schedule = flow.schedule
    if not flow.enabled:
        return None, "the flow is disabled"
    if schedule is None:
        return None, "manual only: no schedule"
    if not schedule.enabled:
        return None, "manual only: its schedule is disabled"
    when, why = upcoming(ledger.schedule(tenant, name), schedule, now)
    due = when.astimezone(schedule.zone)
    if why == "first_run":
        at = when.astimezone(FIRST_RUN_ZONE)
        return due, f"first-run rule: the day after a scheduler first sees it, {at:%H:%M} Oslo time"
    if why == "changed":
        return due, "the schedule was changed: its next time by the new schedule"
    if when <= now:
        return due, "due now: a running scheduler starts it at its next tick"
    return due, "by the schedule"


def _locks(ledger: Ledger, now: datetime) -> dict[tuple[str, str], tuple[str, bool]]:
    """Every run lock: (tenant, flow) -> (who holds it, whether it is stale)."""
    locks = {}
    for place, lock in ledger.run_locks(now).items():
        holder = lock.holder
        trigger = holder.rsplit(":", 1)[-1] if holder.count(":") >= 2 else None
        locks[place] = (lock.process + (f" ({trigger})" if trigger else ""), lock.stale)
    return locks


def flow_statuses(config: Config, ledger: Ledger, now: datetime) -> list[FlowStatus]:
    """Each flow of each tenant (by tenant name, flows in the config's order), and one line
    for each broken tenant, at ``now`` (aware)."""
    locks = _locks(ledger, now)
    statuses: list[FlowStatus] = []
    for tenant in sorted([*config.tenants, *config.broken]):
        if tenant in config.broken:
            count = len(config.broken[tenant])
            problems = f"{count} problem{'' if count == 1 else 's'}"
            statuses.append(
                FlowStatus(
                    tenant=tenant,
                    flow="",
                    enabled=False,
                    schedule=None,
                    last_run=None,
                    next_due=None,
                    next_due_reason="never runs while its config is broken",
                    lock_holder=None,
                    lock_stale=False,
                    open_problems=0,
                    broken=f"its config has {problems}: fjordsync config check",
                )
            )
            continue
        problem_counts = ledger.open_problem_counts(tenant)
        for name, flow in config.tenants[tenant].flows.items():
            latest = ledger.runs(tenant=tenant, flow=name, limit=1)
            last_run = latest[0] if latest else None
            due, why = _next_due(ledger, tenant, name, flow, now)
            holder, stale = locks.get((tenant, name), (None, False))
            by_run = problem_counts.get(name, {})
            statuses.append(
                FlowStatus(
                    tenant=tenant,
                    flow=name,
                    enabled=flow.enabled,
                    schedule=_schedule_text(flow),
                    last_run=last_run,
                    next_due=due,
                    next_due_reason=why,
                    lock_holder=holder,
                    lock_stale=stale,
                    open_problems=sum(by_run.values()),
                    new_problems=by_run.get(last_run.id, 0) if last_run else 0,
                )
            )
    return statuses
