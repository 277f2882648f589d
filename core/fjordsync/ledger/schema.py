"""The ledger's tables. Alembic migrations in ``migrations/`` create and evolve them.

Nothing here holds personal data: links keep keys and a keyed fingerprint of what was written,
run items keep the action, outcome and a message built from field names and codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Meta(Base):
    """Ledger-wide settings, such as the fingerprint key when none is configured."""

    __tablename__ = "meta"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class _RecordOfAFlow:
    """Columns naming one source record of one flow of one tenant."""

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    flow: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(String(255))


class Link(_RecordOfAFlow, Base):
    """Source key -> target key of one record of one flow, and what was last written."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("tenant", "flow", "entity", "source_key"),)
    target_key: Mapped[str | None] = mapped_column(String(255))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_tenant_flow", "tenant", "flow", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    flow: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20))
    dry_run: Mapped[bool]
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    # Who ran it (host:pid:trigger, as the run lock names it), so a run whose process died can
    # be told apart from one going on and closed as interrupted.
    holder: Mapped[str | None] = mapped_column(String(200))
    items: Mapped[list[RunItem]] = relationship(
        back_populates="run", order_by="RunItem.id", cascade="all, delete-orphan"
    )


class RunItem(Base):
    __tablename__ = "run_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    entity: Mapped[str] = mapped_column(String(100))
    record_key: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    changed_fields: Mapped[str | None] = mapped_column(Text)
    # What a clerk recognises the record by (employee number and name, date, project; never a
    # personal number, account or salary), and its problem as a value, to group by cause.
    label: Mapped[str | None] = mapped_column(Text)
    problem_kind: Mapped[str | None] = mapped_column(String(40))
    problem_field: Mapped[str | None] = mapped_column(String(255))
    problem_codes: Mapped[str | None] = mapped_column(Text)  # a JSON list of codes or keys
    run: Mapped[Run] = relationship(back_populates="items")


class KnownProblem(Base):
    """One record's problem as the ledger remembers it across runs: first and last seen, and
    when it was gone (a later run met the record without it). ``signature`` tells one problem
    from another (its kind, field and codes, else its message) without keeping values."""

    __tablename__ = "known_problems"
    __table_args__ = (
        UniqueConstraint("tenant", "flow", "entity", "record_key", "signature"),
        Index("ix_known_problems_open", "tenant", "flow", "gone_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    flow: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    record_key: Mapped[str] = mapped_column(String(255))
    signature: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    gone_at: Mapped[datetime | None]
    first_run_id: Mapped[int | None]
    last_run_id: Mapped[int | None]


class Cursor(Base):
    """How far an incremental read has got; advanced only with the writes it covers."""

    __tablename__ = "cursors"
    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class PendingWrite(_RecordOfAFlow, Base):
    """A write that was sent but whose outcome is not yet known; reconciled before resending."""

    __tablename__ = "pending_writes"
    __table_args__ = (UniqueConstraint("tenant", "flow", "entity", "source_key"),)
    marker: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class OwedMark(Base):
    """A source record written to the target whose source still has to be told so (SmartDok's
    "exported" mark of an hour): saved with the write's link, settled once the mark got
    through, so a kill or a failing mark never leaves a transferred hour unmarked."""

    __tablename__ = "owed_marks"
    __table_args__ = (UniqueConstraint("tenant", "flow", "source_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    flow: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(String(255))
    export_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class RunLock(Base):
    """At most one run of a flow per tenant at a time; an expired lock may be taken over."""

    __tablename__ = "run_locks"
    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Schedule(Base):
    """When a scheduled flow of a tenant is due next (UTC), and the schedule (its days, time and
    zone as text) that time was worked out from. No row: the schedule was never seen, so the
    first-run rule applies; another schedule text: it was changed, so the time is worked out
    again."""

    __tablename__ = "schedules"
    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec: Mapped[str] = mapped_column(String(255))
    next_due: Mapped[datetime]
    updated_at: Mapped[datetime]
