"""account tasks: a task on a company (contact_id nullable, company_id, one open account task per company) and the
account's handoff episode on company_score

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hubsync.store.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state IN ('intent', 'open')")


def upgrade() -> None:
    # SQLite rebuilds the table to drop NOT NULL: the partial index is dropped first and made again afterwards, so
    # that its WHERE clause does not depend on what the rebuild reflects.
    op.drop_index('ux_task_open_contact', table_name='task')
    with op.batch_alter_table('task') as batch:
        batch.alter_column('contact_id', existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(sa.Column('company_id', sa.BigInteger(), nullable=True))
    op.create_index(
        'ux_task_open_contact', 'task', ['contact_id'], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
    )
    op.create_index(
        'ux_task_open_company', 'task', ['company_id'], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
    )
    with op.batch_alter_table('company_score') as batch:
        # Every existing account starts armed: no account task was ever made.
        batch.add_column(sa.Column('account_armed', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(
            sa.Column('account_handed_over_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column('account_triggers_held_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('account_covered_by', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('account_waiting', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('company_score') as batch:
        batch.drop_column('account_waiting')
        batch.drop_column('account_covered_by')
        batch.drop_column('account_triggers_held_at')
        batch.drop_column('account_handed_over_at')
        batch.drop_column('account_armed')
    # Account tasks have no contact: they go, so that contact_id can be NOT NULL again.
    op.execute('DELETE FROM task WHERE contact_id IS NULL')
    op.drop_index('ux_task_open_company', table_name='task')
    op.drop_index('ux_task_open_contact', table_name='task')
    with op.batch_alter_table('task') as batch:
        batch.drop_column('company_id')
        batch.alter_column('contact_id', existing_type=sa.BigInteger(), nullable=False)
    op.create_index(
        'ux_task_open_contact', 'task', ['contact_id'], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
    )
