"""Schedule state: for each scheduled flow of a tenant, when it is due next and the schedule that
time was worked out from, so a restart of ``fjordsync serve`` neither repeats nor skips a run.
What the times are is the scheduler's business (``runtime.scheduler``); this keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fjordsync.ledger.engine import LedgerEngine, _utc
from fjordsync.ledger.schema import Schedule

__all__ = ["ScheduleState", "Schedules"]


@dataclass(frozen=True, slots=True)
class ScheduleState:
    spec: str  # the schedule as text ("mon,thu 06:30:00 Europe/Oslo")
    next_due: datetime  # UTC


class Schedules(LedgerEngine):
    """The schedule state of a ledger."""

    def schedule(self, tenant: str, flow: str) -> ScheduleState | None:
        """When ``flow`` of ``tenant`` is due next; None when its schedule was never seen."""
        with self._session() as session:
            row = session.get(Schedule, (tenant, flow))
            return ScheduleState(row.spec, _utc(row.next_due)) if row else None

    def set_schedule(self, tenant: str, flow: str, *, spec: str, next_due: datetime) -> None:
        """``flow`` of ``tenant`` is due next at ``next_due``, by the schedule ``spec``."""
        due = _utc(next_due)
        with self._session() as session:
            row = session.get(Schedule, (tenant, flow))
            if row is None:
                session.add(
                    Schedule(
                        tenant=tenant, flow=flow, spec=spec, next_due=due, updated_at=self._now()
                    )
                )
            else:
                row.spec = spec
                row.next_due = due
                row.updated_at = self._now()
