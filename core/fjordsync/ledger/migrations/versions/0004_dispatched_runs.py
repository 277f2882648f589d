"""dispatched runs: the run keys distributed schedulers claim (issue 13)

A row per run key (tenant, flow, due time) put on the Celery queue; its primary key is the
claim, so two schedulers never enqueue one due run twice (``fjordsync.ledger.dispatch``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispatched_runs',
    sa.Column('run_key', sa.String(length=255), nullable=False),
    sa.Column('tenant', sa.String(length=100), nullable=False),
    sa.Column('flow', sa.String(length=100), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resume_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_key')
    )
    op.create_index(
        'ix_dispatched_runs_status', 'dispatched_runs', ['status', 'enqueued_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_dispatched_runs_status', table_name='dispatched_runs')
    op.drop_table('dispatched_runs')
