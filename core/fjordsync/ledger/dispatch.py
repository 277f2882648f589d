"""Dispatched runs: one row per run key (tenant, flow, due time) that a distributed scheduler
or ``fjordsync run --queue`` put on the queue, and how it went.

Inserting the row is the claim: the run key is the primary key, so of two schedulers that find
one run due, only the first inserts it and enqueues; the second's insert fails and it enqueues
nothing. The task marks the row ``done`` only after the run finished, so a task redelivered
after its worker was lost runs again while its key is not done (the run lock and the flows'
exactly-once reconciliation make that safe), and is a no-op once it is.

Statuses: ``claimed`` (inserted, not yet on the queue: a scheduler that died here leaves it for
``reclaim`` to enqueue), ``queued``, ``running``, ``deferred`` (re-enqueued for when a rate
budget allows), ``retrying`` (re-enqueued after a transient failure or a held lock), ``done``
and ``failed`` (final). Nothing here is personal data: tenant and flow are names from the
config, the message is the run's masked message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Index, Integer, String, Text, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from fjordsync.ledger.engine import LedgerEngine, _masked, _utc
from fjordsync.ledger.schema import Base

__all__ = ["FINAL", "DispatchState", "DispatchedRun", "Dispatches"]

FINAL = frozenset({"done", "failed"})


class DispatchedRun(Base):
    __tablename__ = "dispatched_runs"
    __table_args__ = (Index("ix_dispatched_runs_status", "status", "enqueued_at"),)
    run_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    flow: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    task_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int | None] = mapped_column(Integer)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resume_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class DispatchState:
    run_key: str
    tenant: str
    flow: str
    due_at: datetime
    trigger: str
    status: str
    task_id: str | None
    attempts: int
    run_id: int | None
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    resume_at: datetime | None
    message: str | None

    @property
    def final(self) -> bool:
        return self.status in FINAL


def _state(row: DispatchedRun) -> DispatchState:
    return DispatchState(
        run_key=row.run_key,
        tenant=row.tenant,
        flow=row.flow,
        due_at=_utc(row.due_at),
        trigger=row.trigger,
        status=row.status,
        task_id=row.task_id,
        attempts=row.attempts,
        run_id=row.run_id,
        enqueued_at=_utc(row.enqueued_at),
        started_at=_utc(row.started_at),
        finished_at=_utc(row.finished_at),
        resume_at=_utc(row.resume_at),
        message=row.message,
    )


def _changed(result: Any) -> int:
    return cast("CursorResult[Any]", result).rowcount


class Dispatches(LedgerEngine):
    """The dispatched runs of a ledger."""

    def claim(
        self, run_key: str, *, tenant: str, flow: str, due_at: datetime, trigger: str
    ) -> bool:
        """Claim ``run_key`` for enqueueing; False when it was claimed before (by this or
        another scheduler), and then nothing may be enqueued for it."""
        try:
            with self._sessions.begin() as session:
                session.add(
                    DispatchedRun(
                        run_key=run_key,
                        tenant=tenant,
                        flow=flow,
                        due_at=_utc(due_at),
                        trigger=trigger,
                        status="claimed",
                        attempts=0,
                        enqueued_at=self._now(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def queued(self, run_key: str, task_id: str) -> None:
        """The claimed run is on the queue as task ``task_id``."""
        with self._session() as session:
            session.execute(
                update(DispatchedRun)
                .where(DispatchedRun.run_key == run_key, DispatchedRun.status == "claimed")
                .values(status="queued", task_id=task_id, enqueued_at=self._now())
            )

    def reclaim(self, run_key: str, *, older_than: datetime) -> bool:
        """Take over a claim left ``claimed`` since before ``older_than`` (its scheduler died
        between claiming and enqueueing); True for the one scheduler whose update won."""
        with self._session() as session:
            return (
                _changed(
                    session.execute(
                        update(DispatchedRun)
                        .where(
                            DispatchedRun.run_key == run_key,
                            DispatchedRun.status == "claimed",
                            DispatchedRun.enqueued_at < _utc(older_than),
                        )
                        .values(enqueued_at=self._now())
                    )
                )
                == 1
            )

    def stale_claims(self, *, older_than: datetime) -> list[DispatchState]:
        with self._session() as session:
            rows = session.scalars(
                select(DispatchedRun).where(
                    DispatchedRun.status == "claimed",
                    DispatchedRun.enqueued_at < _utc(older_than),
                )
            )
            return [_state(row) for row in rows]

    def begin_dispatch(self, run_key: str, task_id: str | None) -> DispatchState | None:
        """A task starts on ``run_key``: counted as an attempt and ``running``, unless the key
        is final already (then it is returned unchanged and the task does nothing). None for a
        key that was never claimed."""
        with self._session() as session:
            row = session.get(DispatchedRun, run_key, with_for_update=True)
            if row is None:
                return None
            if row.status not in FINAL:
                row.status = "running"
                row.attempts += 1
                row.task_id = task_id or row.task_id
                row.started_at = self._now()
            return _state(row)

    def finish_dispatch(
        self, run_key: str, *, status: str, run_id: int | None = None, message: str | None = None
    ) -> None:
        """The run of ``run_key`` ended: ``done`` or ``failed`` (final)."""
        if status not in FINAL:
            raise ValueError(f"not a final status: {status}")
        self._set(run_key, status=status, run_id=run_id, message=message, final=True)

    def requeue_dispatch(
        self,
        run_key: str,
        *,
        status: str,
        resume_at: datetime | None = None,
        run_id: int | None = None,
        message: str | None = None,
    ) -> None:
        """The run is back on the queue: ``deferred`` (it stopped on a rate budget and goes on
        at ``resume_at``) or ``retrying`` (a transient failure, or its flow's lock was held)."""
        if status not in {"deferred", "retrying"}:
            raise ValueError(f"not a requeued status: {status}")
        self._set(run_key, status=status, run_id=run_id, message=message, resume_at=resume_at)

    def _set(
        self,
        run_key: str,
        *,
        status: str,
        run_id: int | None,
        message: str | None,
        final: bool = False,
        resume_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "message": _masked(message)}
        if run_id is not None:
            values["run_id"] = run_id
        if final:
            values["finished_at"] = self._now()
        if resume_at is not None:
            values["resume_at"] = _utc(resume_at)
        with self._session() as session:
            session.execute(
                update(DispatchedRun)
                .where(DispatchedRun.run_key == run_key, DispatchedRun.status.not_in(FINAL))
                .values(**values)
            )

    def dispatch(self, run_key: str) -> DispatchState | None:
        with self._session() as session:
            row = session.get(DispatchedRun, run_key)
            return _state(row) if row else None

    def dispatches(
        self, *, tenant: str | None = None, flow: str | None = None
    ) -> list[DispatchState]:
        """Dispatched runs, oldest due first."""
        query = select(DispatchedRun).order_by(DispatchedRun.due_at, DispatchedRun.run_key)
        if tenant is not None:
            query = query.where(DispatchedRun.tenant == tenant)
        if flow is not None:
            query = query.where(DispatchedRun.flow == flow)
        with self._session() as session:
            return [_state(row) for row in session.scalars(query)]
