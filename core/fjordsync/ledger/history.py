"""Run history: runs with their per-record items (no personal data, messages and labels
masked), each item's problem as a value, the run's problems grouped by cause
(``RunRecord.problems``), and closing the runs whose process died as ``interrupted``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from fjordsync.domain.problems import Problem, ProblemGroup, ProblemKind, group_problems
from fjordsync.errors import LedgerError
from fjordsync.ledger.engine import LedgerEngine, _masked, _utc
from fjordsync.ledger.locks import _holder_is_dead, _process_of
from fjordsync.ledger.schema import Run, RunItem, RunLock

__all__ = ["History", "RunItemRecord", "RunRecord", "problem_columns"]

# The longest field name the ledger keeps (``RunItem.problem_field``, a VARCHAR(255)).
_FIELD_LENGTH = 255


def problem_columns(problem: Problem | None) -> dict[str, str | None]:
    """A run item's problem as its ledger columns: kind, field and codes (a JSON list)."""
    if problem is None:
        return {"problem_kind": None, "problem_field": None, "problem_codes": None}
    return {
        "problem_kind": problem.kind.value,
        "problem_field": problem.field[:_FIELD_LENGTH] if problem.field else problem.field,
        "problem_codes": json.dumps(list(problem.codes)),
    }


def _problem_of(kind: str | None, field: str | None, codes: str | None) -> Problem | None:
    """The problem a run item's columns keep; None when it has none, or its kind is one this
    version does not know (a newer fjordsync wrote it): the item is then grouped by message."""
    if kind is None:
        return None
    try:
        known = ProblemKind(kind)
        listed = json.loads(codes) if codes else []
    except ValueError:
        return None
    return Problem(known, field, tuple(str(code) for code in listed))


@dataclass(frozen=True, slots=True)
class RunItemRecord:
    entity: str
    record_key: str
    action: str
    outcome: str
    message: str | None
    changed_fields: tuple[str, ...]
    # What a clerk recognises the record by (masked as messages are), and what is wrong with it.
    label: str | None = None
    problem: Problem | None = None

    @property
    def key(self) -> str:
        """The record's key (``group_problems`` reads items by ``key``, as a run's items)."""
        return self.record_key


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    tenant: str
    flow: str
    trigger: str
    dry_run: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    message: str | None
    items: tuple[RunItemRecord, ...] = ()

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish; None while it runs."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    @property
    def problems(self) -> list[ProblemGroup]:
        """The run's invalid, conflict and failed items grouped by cause (the largest first);
        empty for a run read without its items."""
        return group_problems(self.items)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "flow": self.flow,
            "trigger": self.trigger,
            "dry_run": self.dry_run,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": self.duration_s,
            "counts": dict(self.counts),
            "message": self.message,
            "problems": [group.as_dict() for group in self.problems],
            "items": [
                {
                    "entity": i.entity,
                    "key": i.record_key,
                    "label": i.label,
                    "action": i.action,
                    "outcome": i.outcome,
                    "message": i.message,
                    "problem": i.problem.as_dict() if i.problem else None,
                    "changed_fields": list(i.changed_fields),
                }
                for i in self.items
            ],
        }


def _run_record(run: Run, with_items: bool) -> RunRecord:
    items = (
        tuple(
            RunItemRecord(
                i.entity,
                i.record_key,
                i.action,
                i.outcome,
                i.message,
                tuple(filter(None, (i.changed_fields or "").split(","))),
                i.label,
                _problem_of(i.problem_kind, i.problem_field, i.problem_codes),
            )
            for i in run.items
        )
        if with_items
        else ()
    )
    return RunRecord(
        run.id,
        run.tenant,
        run.flow,
        run.trigger,
        run.dry_run,
        run.status,
        _utc(run.started_at),
        _utc(run.finished_at),
        dict(run.counts or {}),
        run.message,
        items,
    )


def _why_dead(run: Run, lock: RunLock | None, now: datetime) -> str | None:
    """Why a ``running`` run is not going on any more, or None when it may be."""
    who = _process_of(run.holder)
    if run.holder and _holder_is_dead(run.holder):
        return f"the process running it ({who}) is gone"
    if lock is None:
        return f"the process running it ({who}) is gone: its run lock was released"
    if run.holder is not None and lock.holder != run.holder:
        return f"the process running it ({who}) is gone: another run took its lock over"
    if run.holder is None and _utc(lock.acquired_at) > _utc(run.started_at):
        return "the process running it is gone: another run took its lock over"
    if _utc(lock.expires_at) < now:
        return f"the process running it ({who}) is gone: its run lock expired"
    return None


class History(LedgerEngine):
    """The runs of a ledger and what each did to each record."""

    def start_run(
        self, tenant: str, flow: str, *, trigger: str, dry_run: bool, holder: str | None = None
    ) -> int:
        """A new run, ``running``. ``holder`` is the run lock's holder (``lock_holder()``), so
        ``close_dead_runs`` can tell whether its process is still there."""
        with self._session() as session:
            run = Run(
                tenant=tenant,
                flow=flow,
                trigger=trigger,
                dry_run=dry_run,
                status="running",
                started_at=self._now(),
                counts={},
                holder=holder,
            )
            session.add(run)
            session.flush()
            return run.id

    def record_item(
        self,
        run_id: int,
        *,
        entity: str,
        key: str,
        action: str,
        outcome: str,
        message: str | None = None,
        changed_fields: tuple[str, ...] = (),
        label: str | None = None,
        problem: Problem | None = None,
    ) -> None:
        """Save one run item; ``label`` (masked like the message) and ``problem`` as
        ``State.save_outcomes`` keeps them."""
        # Core, not the ORM: a run records one item per record (``State.save_outcomes`` saves
        # many in one transaction).
        with self._connection() as connection, connection.begin():
            connection.execute(
                insert(RunItem),
                {
                    "run_id": run_id,
                    "entity": entity,
                    "record_key": key,
                    "action": str(action),
                    "outcome": str(outcome),
                    "message": _masked(message),
                    "changed_fields": ",".join(changed_fields) or None,
                    "label": _masked(label),
                    **problem_columns(problem),
                },
            )

    def finish_run(
        self, run_id: int, *, status: str, counts: Mapping[str, int], message: str | None = None
    ) -> None:
        with self._session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise LedgerError(f"no run {run_id}")
            run.status = status
            run.counts = dict(counts)
            run.message = _masked(message)
            run.finished_at = self._now()

    def add_run_notes(self, run_id: int, notes: list[str]) -> None:
        """Append ``notes`` to a finished run's message (what happened after it closed: the
        notifications that could not be sent, an apply's held-back writes), its status, counts
        and finish time as they are."""
        if not notes:
            return
        with self._session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise LedgerError(f"no run {run_id}")
            run.message = _masked("; ".join(filter(None, [run.message, *notes])))

    def close_dead_runs(self, *, tenant: str | None = None, flow: str | None = None) -> list[int]:
        """Close as ``interrupted`` every run still ``running`` that nothing runs any more, and
        return their ids. A run is dead when its flow's run lock is gone or held by another
        holder (the lock outlives a run only when its process died), when the lock expired, or
        when its holder's process on this machine is gone. A run whose holder still holds a
        live lock is left alone, on any machine."""
        now = self._now()
        closed: list[int] = []
        with self._session() as session:
            query = select(Run).where(Run.status == "running")
            if tenant:
                query = query.where(Run.tenant == tenant)
            if flow:
                query = query.where(Run.flow == flow)
            for run in session.scalars(query):
                reason = _why_dead(run, session.get(RunLock, (run.tenant, run.flow)), now)
                if reason is None:
                    continue
                run.status = "interrupted"
                run.message = _masked(reason)
                run.finished_at = now
                closed.append(run.id)
        return closed

    def runs(
        self,
        *,
        tenant: str | None = None,
        flow: str | None = None,
        limit: int = 50,
        status: str | None = None,
        since: datetime | None = None,
    ) -> list[RunRecord]:
        """The latest runs, newest first; ``since`` (aware) keeps those started at or after it."""
        with self._session() as session:
            query = select(Run).order_by(Run.id.desc()).limit(limit)
            if tenant:
                query = query.where(Run.tenant == tenant)
            if flow:
                query = query.where(Run.flow == flow)
            if status:
                query = query.where(Run.status == status)
            if since is not None:
                query = query.where(Run.started_at >= _utc(since))
            return [_run_record(run, with_items=False) for run in session.scalars(query)]

    def run(self, run_id: int) -> RunRecord | None:
        with self._session() as session:
            run = session.get(Run, run_id)
            return _run_record(run, with_items=True) if run else None

    def failed_keys(self, run_id: int) -> dict[str, set[str]]:
        """Per entity, the keys whose write failed or was invalid in a run (for retries)."""
        with self._session() as session:
            rows = session.execute(
                select(RunItem.entity, RunItem.record_key).where(
                    RunItem.run_id == run_id, RunItem.outcome.in_(("failed", "invalid"))
                )
            )
            keys: dict[str, set[str]] = {}
            for entity, key in rows:
                keys.setdefault(entity, set()).add(key)
            return keys
