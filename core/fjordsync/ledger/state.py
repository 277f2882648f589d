"""Sync state: links (source key -> target key and a keyed fingerprint of what was last written),
cursors, pending writes and the marks owed to a source.

- a write's link and its run item are saved in one transaction, together with clearing its
  pending-write marker (and, when it owes one, the source mark it owes);
- a cursor is advanced by the caller only after the writes it covers are saved;
- a pending write is recorded *before* a non-idempotent write is sent, so a lost answer or a
  crash leaves a trace to reconcile against the target next time.

The statements a run repeats per record are SQLAlchemy Core (an executemany per batch), not the
ORM's unit of work: ``begin_writes`` saves the markers of many creates in one transaction before
any of them is sent, and ``save_outcomes`` saves many outcomes in one. A flow that batches them
(``flows.common.apply_plan``) keeps the guarantee that matters, because a batch is one
transaction: a create that reached the target leaves, after a kill at any moment, either its
link or its pending marker (the marker is committed before the create is sent and deleted only in
the transaction that saves the link), so the next run reconciles it by its marker instead of
creating it again. An update whose outcome's commit was lost is sent again next run (its link
still has the old fingerprint): updates are full replaces by the target's key (SaveHour with its
Id, a project's or an employee's update by its id), so sending one twice writes the same record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from fjordsync.ledger.engine import LedgerEngine, _masked, _utc
from fjordsync.ledger.history import problem_columns
from fjordsync.ledger.schema import Cursor, Link, OwedMark, PendingWrite, RunItem
from fjordsync.ports import SavedOutcome

__all__ = ["LinkState", "State"]


@dataclass(frozen=True, slots=True)
class LinkState:
    source_key: str
    target_key: str | None
    fingerprint: str | None
    updated_at: datetime


def _pending(tenant: str, flow: str, entity: str, source_key: Any) -> tuple[Any, ...]:
    """The conditions that pick one record's pending write (``source_key`` a key or a bound
    parameter)."""
    return (
        PendingWrite.tenant == tenant,
        PendingWrite.flow == flow,
        PendingWrite.entity == entity,
        PendingWrite.source_key == source_key,
    )


_LINK_KEY = ("tenant", "flow", "entity", "source_key")
_KEYS_PER_STATEMENT = 1000
_OWED_KEY = ("tenant", "flow", "source_key")


def _dialect_insert(connection: Connection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT (SQLite and PostgreSQL, the ledger's two databases,
    spell it alike)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _run_item_row(run_id: int, entity: str, outcome: SavedOutcome) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "entity": entity,
        "record_key": outcome.key,
        "action": str(outcome.action),
        "outcome": str(outcome.outcome),
        "message": _masked(outcome.message),
        "changed_fields": ",".join(outcome.changed_fields) or None,
        "label": _masked(outcome.label),
        **problem_columns(outcome.problem),
    }


class State(LedgerEngine):
    """What the flows keep between runs (``ports.SyncState`` with the history's
    ``record_item``)."""

    # -- links --------------------------------------------------------------------------------
    def links(self, tenant: str, flow: str, entity: str) -> dict[str, LinkState]:
        with self._connection() as connection:
            rows = connection.execute(
                select(Link.source_key, Link.target_key, Link.fingerprint, Link.updated_at).where(
                    Link.tenant == tenant, Link.flow == flow, Link.entity == entity
                )
            )
            return {
                source_key: LinkState(source_key, target_key, fingerprint, _utc(updated_at))
                for source_key, target_key, fingerprint, updated_at in rows
            }

    def record_write(
        self,
        run_id: int,
        *,
        tenant: str,
        flow: str,
        entity: str,
        source_key: str,
        target_key: str,
        fingerprint: str,
        action: str,
        changed_fields: tuple[str, ...] = (),
        message: str | None = None,
        owed_mark: str | None = None,
    ) -> None:
        """Save a successful write: its link, its run item, and the end of its pending marker,
        in one transaction, so the ledger never says a write happened without its link.
        ``owed_mark`` (an export id) records in the same transaction that the source is owed a
        mark for this record (see ``owed_marks``)."""
        self.save_outcomes(
            run_id,
            tenant=tenant,
            flow=flow,
            entity=entity,
            outcomes=[
                SavedOutcome(
                    source_key,
                    action,
                    "written",
                    message,
                    changed_fields,
                    target_key,
                    fingerprint,
                    owed_mark,
                )
            ],
        )

    def save_outcomes(
        self,
        run_id: int,
        *,
        tenant: str,
        flow: str,
        entity: str,
        outcomes: Sequence[SavedOutcome],
        unsent: Iterable[str] = (),
    ) -> None:
        """Save outcomes in one transaction: every one's run item (in the order given) and, for
        each write (an outcome with a ``target_key``), its link, the end of its pending marker
        and, with ``owed_mark``, the mark it owes the source; ``unsent`` ends the pending markers
        of writes marked ahead (``begin_writes``) that were never sent."""
        unsent = list(unsent)
        if not outcomes and not unsent:
            return
        now = self._now()
        writes = [o for o in outcomes if o.target_key is not None]
        with self._connection() as connection, connection.begin():
            if outcomes:
                connection.execute(
                    insert(RunItem), [_run_item_row(run_id, entity, o) for o in outcomes]
                )
            if writes:
                upsert = _dialect_insert(connection, Link)
                connection.execute(
                    upsert.on_conflict_do_update(
                        index_elements=list(_LINK_KEY),
                        set_={
                            "target_key": upsert.excluded.target_key,
                            "fingerprint": upsert.excluded.fingerprint,
                            "updated_at": upsert.excluded.updated_at,
                            "run_id": upsert.excluded.run_id,
                        },
                    ),
                    [
                        {
                            "tenant": tenant,
                            "flow": flow,
                            "entity": entity,
                            "source_key": o.key,
                            "target_key": o.target_key,
                            "fingerprint": o.fingerprint,
                            "updated_at": now,
                            "run_id": run_id,
                        }
                        for o in writes
                    ],
                )
            ended = [o.key for o in writes] + unsent
            if ended:
                connection.execute(
                    delete(PendingWrite).where(
                        and_(*_pending(tenant, flow, entity, bindparam("ended_key")))
                    ),
                    [{"ended_key": key} for key in ended],
                )
            owed = [o for o in writes if o.owed_mark is not None]
            if owed:
                # An existing owed mark keeps its first run and time; only the export id moves.
                upsert = _dialect_insert(connection, OwedMark)
                connection.execute(
                    upsert.on_conflict_do_update(
                        index_elements=list(_OWED_KEY),
                        set_={"export_id": upsert.excluded.export_id},
                    ),
                    [
                        {
                            "tenant": tenant,
                            "flow": flow,
                            "source_key": o.key,
                            "export_id": o.owed_mark,
                            "created_at": now,
                            "run_id": run_id,
                        }
                        for o in owed
                    ],
                )

    # -- marks owed to a source ---------------------------------------------------------------
    def owed_marks(self, tenant: str, flow: str) -> dict[str, str]:
        """Source key -> export id of the records written whose source mark has not got
        through yet."""
        with self._session() as session:
            rows = session.execute(
                select(OwedMark.source_key, OwedMark.export_id).where(
                    OwedMark.tenant == tenant, OwedMark.flow == flow
                )
            )
            return {key: export_id for key, export_id in rows}

    def settle_marks(self, tenant: str, flow: str, keys: Iterable[str]) -> None:
        """The source took these marks: they are owed no more."""
        wanted = list(keys)
        if not wanted:
            return
        with self._connection() as connection, connection.begin():
            # IN lists of at most _KEYS_PER_STATEMENT: a first pass of 100,000 hours settles
            # them all at once, and SQLite takes at most 32,766 bound values in a statement.
            for start in range(0, len(wanted), _KEYS_PER_STATEMENT):
                connection.execute(
                    delete(OwedMark).where(
                        OwedMark.tenant == tenant,
                        OwedMark.flow == flow,
                        OwedMark.source_key.in_(wanted[start : start + _KEYS_PER_STATEMENT]),
                    )
                )

    # -- pending writes -----------------------------------------------------------------------
    def begin_write(
        self, run_id: int, *, tenant: str, flow: str, entity: str, source_key: str, marker: str
    ) -> None:
        """Note a write about to be sent whose outcome could be lost. Kept until
        ``record_write`` or ``forget_pending``; an existing marker is kept (same write)."""
        self.begin_writes(
            run_id, tenant=tenant, flow=flow, entity=entity, markers={source_key: marker}
        )

    def begin_writes(
        self, run_id: int, *, tenant: str, flow: str, entity: str, markers: Mapping[str, str]
    ) -> None:
        """``begin_write`` for many writes (source key -> marker) in one transaction, which is
        committed before this returns, so before any of them is sent. SQLite commits it with
        ``synchronous=FULL`` (``engine``): a marker must outlive a power cut once its write may
        have been sent."""
        if not markers:
            return
        now = self._now()
        with self._connection() as connection, connection.begin():
            connection.execute(
                _dialect_insert(connection, PendingWrite).on_conflict_do_nothing(
                    index_elements=list(_LINK_KEY)
                ),
                [
                    {
                        "tenant": tenant,
                        "flow": flow,
                        "entity": entity,
                        "source_key": source_key,
                        "marker": marker,
                        "created_at": now,
                        "run_id": run_id,
                    }
                    for source_key, marker in markers.items()
                ],
            )

    def pending_writes(self, tenant: str, flow: str, entity: str) -> dict[str, str]:
        """Source key -> marker of writes whose outcome is unknown."""
        with self._session() as session:
            rows = session.execute(
                select(PendingWrite.source_key, PendingWrite.marker).where(
                    PendingWrite.tenant == tenant,
                    PendingWrite.flow == flow,
                    PendingWrite.entity == entity,
                )
            )
            return {key: marker for key, marker in rows}

    def forget_pending(self, *, tenant: str, flow: str, entity: str, source_key: str) -> None:
        """The target was checked and does not have the write: it may be sent again."""
        with self._session() as session:
            session.execute(delete(PendingWrite).where(*_pending(tenant, flow, entity, source_key)))

    # -- cursors ------------------------------------------------------------------------------
    def cursor(self, tenant: str, flow: str, name: str) -> str | None:
        with self._session() as session:
            row = session.get(Cursor, (tenant, flow, name))
            return row.value if row else None

    def advance_cursor(self, tenant: str, flow: str, name: str, value: str) -> None:
        with self._session() as session:
            row = session.get(Cursor, (tenant, flow, name))
            if row is None:
                session.add(
                    Cursor(tenant=tenant, flow=flow, name=name, value=value, updated_at=self._now())
                )
            else:
                row.value = value
                row.updated_at = self._now()
