"""schedules table: the scheduler's state moves out of the cursor rows

Until 0002 the scheduler kept each scheduled flow's state as JSON in its cursor row named
"schedule" ({"next_due": ISO time, "signature": the schedule as text}). Upgrading moves every
such row into the ``schedules`` table (a row that cannot be read stays where it is, and the
scheduler treats its flow as seen for the first time); downgrading moves them back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 10:00:00.000000
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CURSOR = 'schedule'

cursors = sa.table(
    'cursors',
    sa.column('tenant', sa.String(length=100)),
    sa.column('flow', sa.String(length=100)),
    sa.column('name', sa.String(length=100)),
    sa.column('value', sa.Text()),
    sa.column('updated_at', sa.DateTime(timezone=True)),
)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _read(value: str) -> tuple[str, datetime] | None:
    """(schedule text, next due in UTC) of a schedule cursor's JSON; None when unreadable."""
    try:
        state = json.loads(value)
        next_due = _utc(datetime.fromisoformat(state['next_due']))
    except (ValueError, TypeError, KeyError):
        return None
    # No signature: the scheduler took the schedule as changed; an empty text does the same.
    return str(state.get('signature') or ''), next_due


def upgrade() -> None:
    schedules = op.create_table('schedules',
    sa.Column('tenant', sa.String(length=100), nullable=False),
    sa.Column('flow', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.String(length=255), nullable=False),
    sa.Column('next_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'flow')
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(cursors.c.tenant, cursors.c.flow, cursors.c.value, cursors.c.updated_at).where(
            cursors.c.name == CURSOR
        )
    ).all()
    for tenant, flow, value, updated_at in rows:
        state = _read(value)
        if state is None:
            continue
        spec, next_due = state
        bind.execute(
            schedules.insert().values(
                tenant=tenant, flow=flow, spec=spec, next_due=next_due, updated_at=_utc(updated_at)
            )
        )
        bind.execute(
            cursors.delete().where(
                cursors.c.tenant == tenant, cursors.c.flow == flow, cursors.c.name == CURSOR
            )
        )


def downgrade() -> None:
    schedules = sa.table(
        'schedules',
        sa.column('tenant', sa.String(length=100)),
        sa.column('flow', sa.String(length=100)),
        sa.column('spec', sa.String(length=255)),
        sa.column('next_due', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            schedules.c.tenant,
            schedules.c.flow,
            schedules.c.spec,
            schedules.c.next_due,
            schedules.c.updated_at,
        )
    ).all()
    for tenant, flow, spec, next_due, updated_at in rows:
        where = (cursors.c.tenant == tenant, cursors.c.flow == flow, cursors.c.name == CURSOR)
        bind.execute(cursors.delete().where(*where))  # an unreadable one left by the upgrade
        value = json.dumps({'next_due': _utc(next_due).isoformat(), 'signature': spec})
        bind.execute(
            cursors.insert().values(
                tenant=tenant, flow=flow, name=CURSOR, value=value, updated_at=_utc(updated_at)
            )
        )
    op.drop_table('schedules')
