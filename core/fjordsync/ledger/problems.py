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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from fjordsync.domain.problems import without_key
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
        # The key taken out as a group's message takes it out (a short key is left in a bare
        # number: "1" also stands for a count).
        message = without_key(str(item.message or ""), str(item.key or ""))
        text = json.dumps(["message", str(item.outcome), message])
    return hashlib.sha256(text.encode()).hexdigest()


def _kind_of(item: Any) -> str | None:
    problem = getattr(item, "problem", None)
    if problem is None:
        return None
    return str(getattr(problem.kind, "value", problem.kind))


# Ids per IN list: well under SQLite's and PostgreSQL's limits on bound parameters.
_CHUNK = 500


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class _Masking:
    """``_masked`` once per distinct text: a run's problems share a few messages."""

    def __init__(self) -> None:
        self._done: dict[str, str | None] = {}

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return None
        if text not in self._done:
            self._done[text] = _masked(text)
        return self._done[text]


def _masked_many(texts: list[str | None]) -> list[str | None]:
    """``_masked`` of each text, as one text of lines: masking scans text, and one long text
    costs a third of many short ones (100,000 labels). A mask never spans a line break unless it
    took it away; then the line count tells, and each text is masked alone."""
    if not texts:
        return []
    lines = [text or "" for text in texts]
    if not any("\n" in line for line in lines):
        masked = (_masked("\n".join(lines)) or "").split("\n")
        if len(masked) == len(lines):
            return [line or None for line in masked]
    return [_masked(text or None) for text in texts]


class Problems(LedgerEngine):
    """The problems a ledger remembers across runs."""

    def remember_problems(
        self, tenant: str, flow: str, run_id: int, items: Iterable[Any], *, complete: bool
    ) -> ProblemNews:
        """Compare a finished run's items (``ItemOutcome``s) with the open problems of ``flow``
        for ``tenant``, remember what is new, refresh what is known and close what is gone;
        ``complete``: the run covered the flow's whole scope."""
        now = self._now()
        masked = _Masking()
        met: set[tuple[str, str]] = set()
        found: dict[tuple[str, str, str], Any] = {}
        # A problem's signature depends on the problem alone: worked out once per problem.
        signatures: dict[Any, str] = {}
        for item in items:
            met.add((item.entity, item.key))
            if str(item.outcome) not in PROBLEM_OUTCOMES:
                continue
            problem = getattr(item, "problem", None)
            if problem is None:
                signature = signature_of(item)
            else:
                if problem not in signatures:
                    signatures[problem] = signature_of(item)
                signature = signatures[problem]
            found.setdefault((item.entity, item.key, signature), item)
        with self._connection() as connection, connection.begin():
            open_rows = {
                (row.entity, row.record_key, row.signature): row
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
            known_ids: list[int] = []
            new: list[dict[str, Any]] = []
            new_items: list[Any] = []
            for (entity, key, signature), item in found.items():
                row = open_rows.get((entity, key, signature))
                if row is not None:
                    # Its words stay those it was first seen with: the same signature is the
                    # same problem, and masking 100,000 labels again every run costs seconds.
                    known_ids.append(row.id)
                    continue
                new_items.append(item)
                new.append(
                    {
                        "tenant": tenant,
                        "flow": flow,
                        "entity": entity,
                        "record_key": key,
                        "signature": signature,
                        "outcome": str(item.outcome),
                        "kind": _kind_of(item),
                        "message": masked(item.message),
                        "label": getattr(item, "label", "") or None,  # masked below
                        "first_seen": now,
                        "last_seen": now,
                        "gone_at": None,
                        "first_run_id": run_id,
                        "last_run_id": run_id,
                    }
                )
            labels = _masked_many([fresh["label"] for fresh in new])
            for fresh, label in zip(new, labels, strict=True):
                fresh["label"] = label
            gone_ids = [
                row.id
                for (entity, key, signature), row in open_rows.items()
                if (entity, key, signature) not in found and (complete or (entity, key) in met)
            ]
            # Ids in chunks: one statement per chunk, not per row (a run may have 100,000).
            for chunk in _chunks(known_ids):
                connection.execute(
                    update(KnownProblem)
                    .where(KnownProblem.id.in_(chunk))
                    .values(last_seen=now, last_run_id=run_id)
                )
            if new and self._has_gone_problems(connection, tenant, flow):
                # A problem that was gone and came back is new again: its old row (gone) makes
                # way, since a record's problem has one row.
                connection.execute(
                    delete(KnownProblem).where(
                        and_(
                            KnownProblem.tenant == tenant,
                            KnownProblem.flow == flow,
                            KnownProblem.entity == bindparam("b_entity"),
                            KnownProblem.record_key == bindparam("b_key"),
                            KnownProblem.signature == bindparam("b_signature"),
                            KnownProblem.gone_at.is_not(None),
                        )
                    ),
                    [
                        {
                            "b_entity": row["entity"],
                            "b_key": row["record_key"],
                            "b_signature": row["signature"],
                        }
                        for row in new
                    ],
                )
            if new:
                connection.execute(insert(KnownProblem), new)
            for chunk in _chunks(gone_ids):
                connection.execute(
                    update(KnownProblem).where(KnownProblem.id.in_(chunk)).values(gone_at=now)
                )
        return ProblemNews(
            new=len(new), known=len(known_ids), gone=len(gone_ids), new_items=tuple(new_items)
        )

    @staticmethod
    def _has_gone_problems(connection: Any, tenant: str, flow: str) -> bool:
        return (
            connection.execute(
                select(KnownProblem.id)
                .where(
                    KnownProblem.tenant == tenant,
                    KnownProblem.flow == flow,
                    KnownProblem.gone_at.is_not(None),
                )
                .limit(1)
            ).first()
            is not None
        )

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
