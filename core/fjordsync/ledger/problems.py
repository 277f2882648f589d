"""The ledger's memory of problems: each record's problem across runs (first seen, last seen,
gone), so a run can say "2 new problems, 342 known" and a notification tells only of new trouble.

A problem is a run item whose outcome is ``invalid``, ``conflict`` or ``failed``. Its
``signature`` tells one problem of a record from another without keeping a value: a digest of
its ``Problem``'s kind, field and codes when the item has one, else of its message with the
record's key taken out (so the key does not make two records' same problem look different).

A record's open problem that a run does not meet again is closed (``gone_at``) when that run met
the record without it, and, when the run covered the flow's whole scope (``complete``), also
when the record was not in the run at all (it was deleted, or left the scope). A run of a part
(``--employees``, ``--retry-failed``, a period) leaves the problems of records it did not meet
open. A problem that was gone and comes back is new again.

Messages and labels are masked on the way in (``logs.redact``), like the run history's. One
query loads the open problems of the flow; the writes are batched (a run may have 100,000 items).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from fjordsync.ledger.engine import LedgerEngine, _masked, _utc
from fjordsync.ledger.schema import KnownProblem

__all__ = ["PROBLEM_OUTCOMES", "KnownProblemRecord", "ProblemNews", "Problems", "signature_of"]

PROBLEM_OUTCOMES = frozenset({"invalid", "conflict", "failed"})


@dataclass(frozen=True, slots=True)
class ProblemNews:
    """Of one run's problems: how many were not open before (``new``), how many were
    (``known``), and how many open problems the run closed (``gone``)."""

    new: int
    known: int
    gone: int
    # The run's items whose problems are new (what a notification groups and tells).
    new_items: tuple[Any, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class KnownProblemRecord:
    entity: str
    record_key: str
    outcome: str
    kind: str | None
    message: str | None
    label: str | None
    first_seen: datetime
    last_seen: datetime
    gone_at: datetime | None
    first_run_id: int | None
    last_run_id: int | None


def signature_of(item: Any) -> str:
    """What tells this item's problem from another of the same record: its problem's kind, field
    and codes, else its message without the record's key; a hex digest, never a value."""
    problem = getattr(item, "problem", None)
    if problem is not None:
        kind = getattr(problem.kind, "value", problem.kind)
        text = json.dumps(["problem", kind, problem.field, list(problem.codes)])
    else:
        message = item.message or ""
        if item.key:
            message = message.replace(item.key, "")
        text = json.dumps(["message", str(item.outcome), message])
    return hashlib.sha256(text.encode()).hexdigest()


def _kind_of(item: Any) -> str | None:
    problem = getattr(item, "problem", None)
    if problem is None:
        return None
    return str(getattr(problem.kind, "value", problem.kind))


class Problems(LedgerEngine):
    """The problems a ledger remembers across runs."""

    def remember_problems(
        self, tenant: str, flow: str, run_id: int, items: Iterable[Any], *, complete: bool
    ) -> ProblemNews:
        """Compare a finished run's items (``ItemOutcome``s) with the open problems of ``flow``
        for ``tenant``, remember what is new, refresh what is known and close what is gone;
        ``complete``: the run covered the flow's whole scope."""
        now = self._now()
        met: set[tuple[str, str]] = set()
        found: dict[tuple[str, str, str], Any] = {}
        for item in items:
            met.add((item.entity, item.key))
            if str(item.outcome) in PROBLEM_OUTCOMES:
                found.setdefault((item.entity, item.key, signature_of(item)), item)
        with self._connection() as connection, connection.begin():
            open_rows = {
                (row.entity, row.record_key, row.signature): row.id
                for row in connection.execute(
                    select(
                        KnownProblem.id,
                        KnownProblem.entity,
                        KnownProblem.record_key,
                        KnownProblem.signature,
                    ).where(
                        KnownProblem.tenant == tenant,
                        KnownProblem.flow == flow,
                        KnownProblem.gone_at.is_(None),
                    )
                )
            }
            known = [
                {
                    "b_id": open_rows[problem],
                    "outcome": str(item.outcome),
                    "kind": _kind_of(item),
                    "message": _masked(item.message or None),
                    "label": _masked(getattr(item, "label", "") or None),
                    "last_seen": now,
                    "last_run_id": run_id,
                }
                for problem, item in found.items()
                if problem in open_rows
            ]
            new = [
                {
                    "tenant": tenant,
                    "flow": flow,
                    "entity": entity,
                    "record_key": key,
                    "signature": signature,
                    "outcome": str(item.outcome),
                    "kind": _kind_of(item),
                    "message": _masked(item.message or None),
                    "label": _masked(getattr(item, "label", "") or None),
                    "first_seen": now,
                    "last_seen": now,
                    "gone_at": None,
                    "first_run_id": run_id,
                    "last_run_id": run_id,
                }
                for (entity, key, signature), item in found.items()
                if (entity, key, signature) not in open_rows
            ]
            gone = [
                {"b_id": row_id}
                for (entity, key, signature), row_id in open_rows.items()
                if (entity, key, signature) not in found and (complete or (entity, key) in met)
            ]
            if known:
                connection.execute(
                    update(KnownProblem)
                    .where(KnownProblem.id == bindparam("b_id"))
                    .values(
                        outcome=bindparam("outcome"),
                        kind=bindparam("kind"),
                        message=bindparam("message"),
                        label=bindparam("label"),
                        last_seen=bindparam("last_seen"),
                        last_run_id=bindparam("last_run_id"),
                    ),
                    known,
                )
            if new:
                # A problem that was gone and came back is new again: its old row (gone) makes
                # way, since a record's problem has one row.
                connection.execute(
                    delete(KnownProblem).where(
                        and_(
                            KnownProblem.tenant == bindparam("b_tenant"),
                            KnownProblem.flow == bindparam("b_flow"),
                            KnownProblem.entity == bindparam("b_entity"),
                            KnownProblem.record_key == bindparam("b_key"),
                            KnownProblem.signature == bindparam("b_signature"),
                            KnownProblem.gone_at.is_not(None),
                        )
                    ),
                    [
                        {
                            "b_tenant": tenant,
                            "b_flow": flow,
                            "b_entity": row["entity"],
                            "b_key": row["record_key"],
                            "b_signature": row["signature"],
                        }
                        for row in new
                    ],
                )
                connection.execute(insert(KnownProblem), new)
            if gone:
                connection.execute(
                    update(KnownProblem)
                    .where(KnownProblem.id == bindparam("b_id"))
                    .values(gone_at=now),
                    gone,
                )
        new_items = tuple(item for problem, item in found.items() if problem not in open_rows)
        return ProblemNews(new=len(new), known=len(known), gone=len(gone), new_items=new_items)

    def open_problems(self, tenant: str, flow: str | None = None) -> list[KnownProblemRecord]:
        """The problems of ``tenant`` (of one ``flow``, when given) not gone yet, by flow,
        entity and record key."""
        query = select(KnownProblem).where(
            KnownProblem.tenant == tenant, KnownProblem.gone_at.is_(None)
        )
        if flow is not None:
            query = query.where(KnownProblem.flow == flow)
        query = query.order_by(
            KnownProblem.flow, KnownProblem.entity, KnownProblem.record_key, KnownProblem.id
        )
        with self._session() as session:
            return [
                KnownProblemRecord(
                    row.entity,
                    row.record_key,
                    row.outcome,
                    row.kind,
                    row.message,
                    row.label,
                    _utc(row.first_seen),
                    _utc(row.last_seen),
                    _utc(row.gone_at),
                    row.first_run_id,
                    row.last_run_id,
                )
                for row in session.scalars(query)
            ]

    def open_problem_counts(self, tenant: str) -> dict[str, dict[int | None, int]]:
        """Per flow of ``tenant``, its open problems counted by the run that first saw them
        (one grouped query): their sum is the flow's open problems, the count of its last run's
        id those that run found new."""
        counts: dict[str, dict[int | None, int]] = {}
        with self._connection() as connection:
            rows = connection.execute(
                select(KnownProblem.flow, KnownProblem.first_run_id, func.count())
                .where(KnownProblem.tenant == tenant, KnownProblem.gone_at.is_(None))
                .group_by(KnownProblem.flow, KnownProblem.first_run_id)
            )
            for flow, first_run_id, count in rows:
                counts.setdefault(flow, {})[first_run_id] = int(count)
        return counts
