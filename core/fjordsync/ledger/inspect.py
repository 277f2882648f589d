"""What an operator looks at and clears by hand (``fjordsync state show|clear``), and the
aggregates the Prometheus metrics read at scrape time (``fjordsync.metrics``).

Nothing here holds or returns personal data: cursors are dates or ids a connector chose, pending
writes and owed marks are source keys and markers, a lock names a host and a process.

Clearing is for a person who has looked: a cleared pending write may be sent again (its
reconciliation against the target is what made it exactly once), a cleared cursor makes the next
run read from the start of its window, a cleared owed mark leaves an hour in 24SevenOffice that
SmartDok does not know was exported. Only a stale lock (expired, or its process gone from this
machine) may be cleared: a live one belongs to a run going on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from fjordsync.ledger.engine import LedgerEngine, _utc
from fjordsync.ledger.locks import _holder_is_dead, _process_of
from fjordsync.ledger.schema import Cursor, OwedMark, PendingWrite, Run, RunLock

__all__ = [
    "CursorState",
    "FlowState",
    "Inspect",
    "LockState",
    "OwedMarkState",
    "PendingState",
    "RunTotals",
]


@dataclass(frozen=True, slots=True)
class CursorState:
    name: str
    value: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PendingState:
    entity: str
    source_key: str
    marker: str
    created_at: datetime
    run_id: int | None


@dataclass(frozen=True, slots=True)
class OwedMarkState:
    source_key: str
    export_id: str
    created_at: datetime
    run_id: int | None


@dataclass(frozen=True, slots=True)
class LockState:
    holder: str
    acquired_at: datetime
    expires_at: datetime
    stale: bool
    why: str  # "expired", "its process is gone", or "held" (live)

    @property
    def process(self) -> str:
        """The holder as "pid N on host H"."""
        return _process_of(self.holder)


@dataclass(frozen=True, slots=True)
class FlowState:
    """What the ledger keeps between runs of one flow of one tenant."""

    tenant: str
    flow: str
    cursors: tuple[CursorState, ...]
    pending: tuple[PendingState, ...]
    owed_marks: tuple[OwedMarkState, ...]
    lock: LockState | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "flow": self.flow,
            "cursors": [
                {"name": c.name, "value": c.value, "updated_at": c.updated_at.isoformat()}
                for c in self.cursors
            ],
            "pending_writes": {
                "count": len(self.pending),
                "writes": [
                    {
                        "entity": p.entity,
                        "key": p.source_key,
                        "marker": p.marker,
                        "created_at": p.created_at.isoformat(),
                        "run_id": p.run_id,
                    }
                    for p in self.pending
                ],
            },
            "owed_marks": {
                "count": len(self.owed_marks),
                "marks": [
                    {
                        "key": m.source_key,
                        "export_id": m.export_id,
                        "created_at": m.created_at.isoformat(),
                        "run_id": m.run_id,
                    }
                    for m in self.owed_marks
                ],
            },
            "lock": None
            if self.lock is None
            else {
                "holder": self.lock.holder,
                "acquired_at": self.lock.acquired_at.isoformat(),
                "expires_at": self.lock.expires_at.isoformat(),
                "state": "stale" if self.lock.stale else "live",
                "why": self.lock.why,
            },
        }


@dataclass(frozen=True, slots=True)
class RunTotals:
    """The run history summed for the metrics: finished runs by status and their records by
    outcome per tenant and flow, the runs going on, and when each flow's last run (and last
    successful one) finished. Dry runs are left out: they write nothing. A run going on is not
    among the finished (its status is still to come), so the finished counts only ever rise."""

    runs: dict[tuple[str, str, str], int]  # (tenant, flow, status) -> finished runs
    running: dict[tuple[str, str], int]  # (tenant, flow) -> runs going on
    records: dict[tuple[str, str, str], int]  # (tenant, flow, outcome) -> records
    last_finished: dict[tuple[str, str], datetime]
    last_succeeded: dict[tuple[str, str], datetime]


class Inspect(LedgerEngine):
    """The state of a flow as an operator sees it, what may be cleared by hand, and the run
    history's totals."""

    def flow_state(self, tenant: str, flow: str) -> FlowState:
        now = self._now()
        with self._session() as session:
            cursors = session.execute(
                select(Cursor.name, Cursor.value, Cursor.updated_at)
                .where(Cursor.tenant == tenant, Cursor.flow == flow)
                .order_by(Cursor.name)
            ).all()
            pending = session.execute(
                select(
                    PendingWrite.entity,
                    PendingWrite.source_key,
                    PendingWrite.marker,
                    PendingWrite.created_at,
                    PendingWrite.run_id,
                )
                .where(PendingWrite.tenant == tenant, PendingWrite.flow == flow)
                .order_by(PendingWrite.entity, PendingWrite.source_key)
            ).all()
            owed = session.execute(
                select(
                    OwedMark.source_key, OwedMark.export_id, OwedMark.created_at, OwedMark.run_id
                )
                .where(OwedMark.tenant == tenant, OwedMark.flow == flow)
                .order_by(OwedMark.source_key)
            ).all()
            lock = session.get(RunLock, (tenant, flow))
            lock_state = _lock_state(lock, now) if lock is not None else None
        return FlowState(
            tenant,
            flow,
            tuple(CursorState(name, value, _utc(at)) for name, value, at in cursors),
            tuple(
                PendingState(entity, key, marker, _utc(at), run_id)
                for entity, key, marker, at, run_id in pending
            ),
            tuple(OwedMarkState(key, export, _utc(at), run_id) for key, export, at, run_id in owed),
            lock_state,
        )

    def run_locks(self, now: datetime | None = None) -> dict[tuple[str, str], LockState]:
        """Every run lock, by (tenant, flow), live or stale at ``now`` (default: the ledger's
        clock), in one query (``fjordsync status``)."""
        at = now or self._now()
        with self._session() as session:
            return {
                (lock.tenant, lock.flow): _lock_state(lock, at)
                for lock in session.scalars(select(RunLock))
            }

    def clear_cursors(self, tenant: str, flow: str) -> int:
        """Forget the flow's cursors: its next run reads its whole window again. Returns how
        many were cleared."""
        with self._session() as session:
            rows = session.execute(
                select(func.count()).where(Cursor.tenant == tenant, Cursor.flow == flow)
            ).scalar_one()
            session.execute(delete(Cursor).where(Cursor.tenant == tenant, Cursor.flow == flow))
        return int(rows)

    def clear_pending(self, tenant: str, flow: str) -> int:
        """Forget the flow's pending writes: each may be sent again by the next run, without
        being looked up in the target first. Returns how many were cleared."""
        with self._session() as session:
            rows = session.execute(
                select(func.count()).where(PendingWrite.tenant == tenant, PendingWrite.flow == flow)
            ).scalar_one()
            session.execute(
                delete(PendingWrite).where(PendingWrite.tenant == tenant, PendingWrite.flow == flow)
            )
        return int(rows)

    def clear_owed_marks(self, tenant: str, flow: str) -> int:
        """Forget the source marks the flow owes: the source is not told of those writes.
        Returns how many were cleared."""
        with self._session() as session:
            rows = session.execute(
                select(func.count()).where(OwedMark.tenant == tenant, OwedMark.flow == flow)
            ).scalar_one()
            session.execute(
                delete(OwedMark).where(OwedMark.tenant == tenant, OwedMark.flow == flow)
            )
        return int(rows)

    def clear_stale_lock(self, tenant: str, flow: str) -> LockState | None:
        """Remove the flow's run lock if it is stale; returns the lock as it was (None: there
        was none). A live lock is left alone and returned with ``stale`` False."""
        now = self._now()
        with self._session() as session:
            lock = session.get(RunLock, (tenant, flow))
            if lock is None:
                return None
            state = _lock_state(lock, now)
            if state.stale:
                # Only this holder's row: a run that took the lock over since is not touched.
                session.execute(
                    delete(RunLock).where(
                        RunLock.tenant == tenant,
                        RunLock.flow == flow,
                        RunLock.holder == lock.holder,
                    )
                )
            return state

    def run_totals(self) -> RunTotals:
        """The run history's totals, one aggregate query and one pass over the runs' counts
        (a run's counts by outcome are kept with the run, so no run item is read)."""
        runs: dict[tuple[str, str, str], int] = {}
        running: dict[tuple[str, str], int] = {}
        records: dict[tuple[str, str, str], int] = defaultdict(int)
        last_finished: dict[tuple[str, str], datetime] = {}
        last_succeeded: dict[tuple[str, str], datetime] = {}
        with self._connection() as connection:
            for tenant, flow, status, count, finished in connection.execute(
                select(Run.tenant, Run.flow, Run.status, func.count(), func.max(Run.finished_at))
                .where(Run.dry_run.is_(False))
                .group_by(Run.tenant, Run.flow, Run.status)
            ):
                if status == "running":
                    running[(tenant, flow)] = int(count)
                    continue
                runs[(tenant, flow, status)] = int(count)
                if finished is None:
                    continue
                moment = _utc(_datetime(finished))
                key = (tenant, flow)
                if key not in last_finished or moment > last_finished[key]:
                    last_finished[key] = moment
                if status == "succeeded":
                    last_succeeded[key] = moment
            for tenant, flow, counts in connection.execute(
                select(Run.tenant, Run.flow, Run.counts).where(Run.dry_run.is_(False))
            ):
                for outcome, number in (counts or {}).items():
                    records[(tenant, flow, outcome)] += int(number)
        return RunTotals(runs, running, dict(records), last_finished, last_succeeded)


def _datetime(value: datetime | str) -> datetime:
    """``max()`` of a timestamp column: SQLite gives text (the aggregate loses the type)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _lock_state(lock: RunLock, now: datetime) -> LockState:
    expires = _utc(lock.expires_at)
    if expires < now:
        return LockState(lock.holder, _utc(lock.acquired_at), expires, True, "expired")
    if _holder_is_dead(lock.holder):
        return LockState(lock.holder, _utc(lock.acquired_at), expires, True, "its process is gone")
    return LockState(lock.holder, _utc(lock.acquired_at), expires, False, "held")
