"""Sync state: links (source key -> target key and a keyed fingerprint of what was last written),
cursors, pending writes and the marks owed to a source.

- a write's link and its run item are saved in one transaction, together with clearing its
  pending-write marker (and, when it owes one, the source mark it owes);
- a cursor is advanced by the caller only after the writes it covers are saved;
- a pending write is recorded *before* a non-idempotent write is sent, so a lost answer or a
  crash leaves a trace to reconcile against the target next time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from fjordsync.ledger.engine import LedgerEngine, _masked, _utc
from fjordsync.ledger.schema import Cursor, Link, OwedMark, PendingWrite, RunItem

__all__ = ["LinkState", "State"]


@dataclass(frozen=True, slots=True)
class LinkState:
    source_key: str
    target_key: str | None
    fingerprint: str | None
    updated_at: datetime


def _owed(tenant: str, flow: str, source_key: str) -> tuple[Any, ...]:
    return (OwedMark.tenant == tenant, OwedMark.flow == flow, OwedMark.source_key == source_key)


def _pending(tenant: str, flow: str, entity: str, source_key: str) -> tuple[Any, ...]:
    """The conditions that pick one record's pending write."""
    return (
        PendingWrite.tenant == tenant,
        PendingWrite.flow == flow,
        PendingWrite.entity == entity,
        PendingWrite.source_key == source_key,
    )


class State(LedgerEngine):
    """What the flows keep between runs (``ports.SyncState`` with the history's
    ``record_item``)."""

    # -- links --------------------------------------------------------------------------------
    def links(self, tenant: str, flow: str, entity: str) -> dict[str, LinkState]:
        with self._session() as session:
            rows = session.scalars(
                select(Link).where(Link.tenant == tenant, Link.flow == flow, Link.entity == entity)
            )
            return {
                row.source_key: LinkState(
                    row.source_key,
                    row.target_key,
                    row.fingerprint,
                    _utc(row.updated_at),
                )
                for row in rows
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
        now = self._now()
        with self._session() as session:
            link = session.scalars(
                select(Link).where(
                    Link.tenant == tenant,
                    Link.flow == flow,
                    Link.entity == entity,
                    Link.source_key == source_key,
                )
            ).one_or_none()
            if link is None:
                link = Link(tenant=tenant, flow=flow, entity=entity, source_key=source_key)
                session.add(link)
            link.target_key = target_key
            link.fingerprint = fingerprint
            link.updated_at = now
            link.run_id = run_id
            session.add(
                RunItem(
                    run_id=run_id,
                    entity=entity,
                    record_key=source_key,
                    action=action,
                    outcome="written",
                    message=_masked(message),
                    changed_fields=",".join(changed_fields) or None,
                )
            )
            session.execute(delete(PendingWrite).where(*_pending(tenant, flow, entity, source_key)))
            if owed_mark is not None:
                owed = session.scalars(
                    select(OwedMark).where(*_owed(tenant, flow, source_key))
                ).one_or_none()
                if owed is None:
                    session.add(
                        OwedMark(
                            tenant=tenant,
                            flow=flow,
                            source_key=source_key,
                            export_id=owed_mark,
                            created_at=now,
                            run_id=run_id,
                        )
                    )
                else:
                    owed.export_id = owed_mark

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
        with self._session() as session:
            session.execute(
                delete(OwedMark).where(
                    OwedMark.tenant == tenant,
                    OwedMark.flow == flow,
                    OwedMark.source_key.in_(wanted),
                )
            )

    # -- pending writes -----------------------------------------------------------------------
    def begin_write(
        self, run_id: int, *, tenant: str, flow: str, entity: str, source_key: str, marker: str
    ) -> None:
        """Note a write about to be sent whose outcome could be lost. Kept until
        ``record_write`` or ``forget_pending``; an existing marker is kept (same write)."""
        with self._session() as session:
            exists = session.scalars(
                select(PendingWrite).where(*_pending(tenant, flow, entity, source_key))
            ).one_or_none()
            if exists is None:
                session.add(
                    PendingWrite(
                        tenant=tenant,
                        flow=flow,
                        entity=entity,
                        source_key=source_key,
                        marker=marker,
                        created_at=self._now(),
                        run_id=run_id,
                    )
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
