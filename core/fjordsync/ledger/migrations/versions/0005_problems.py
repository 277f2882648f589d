"""problems: what is wrong with each run item as a value, and the ledger's memory of problems
(issue 14)

``run_items`` gains the item's label (what a clerk recognises the record by: employee number and
name, date, project; never a personal number, account or salary) and its problem (kind, field,
codes), so a run's problems can be grouped by cause after the fact. ``known_problems`` remembers
each record's problem across runs (first seen, last seen, gone), so a run can tell new problems
from known ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run_items') as batch:
        batch.add_column(sa.Column('label', sa.Text(), nullable=True))
        batch.add_column(sa.Column('problem_kind', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('problem_field', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('problem_codes', sa.Text(), nullable=True))
    op.create_table('known_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(length=100), nullable=False),
    sa.Column('flow', sa.String(length=100), nullable=False),
    sa.Column('entity', sa.String(length=100), nullable=False),
    sa.Column('record_key', sa.String(length=255), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_run_id', sa.Integer(), nullable=True),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'flow', 'entity', 'record_key', 'signature'),
    )
    op.create_index(
        'ix_known_problems_open', 'known_problems', ['tenant', 'flow', 'gone_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_known_problems_open', table_name='known_problems')
    op.drop_table('known_problems')
    with op.batch_alter_table('run_items') as batch:
        batch.drop_column('problem_codes')
        batch.drop_column('problem_field')
        batch.drop_column('problem_kind')
        batch.drop_column('label')
