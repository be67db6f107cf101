"""push pending: score rows carry `push_pending` until push has diffed them (what an incremental cycle diffs), and
`push_state` keeps what the pushed values were written with

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hubsync.store.types


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite matches a partial index only to a query that repeats its WHERE term, and SQLAlchemy writes a boolean
# column's truth as `= 1` there (PostgreSQL: the bare column).
SQLITE_PENDING = sa.text('push_pending = 1')
POSTGRESQL_PENDING = sa.text('push_pending')
KEYS = {'contact_score': 'contact_id', 'company_score': 'company_id'}


def upgrade() -> None:
    for table, key in KEYS.items():
        # Every existing score is pending: no state says what was diffed, so the first push after the upgrade diffs
        # them all (it would anyway: `push_state` is empty).
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('push_pending', sa.Boolean(), nullable=False, server_default=sa.true()))
        op.create_index(
            f'ix_{table}_push_pending',
            table,
            [key],
            unique=False,
            sqlite_where=SQLITE_PENDING,
            postgresql_where=POSTGRESQL_PENDING,
        )
    op.create_table('push_state',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('push_state')
    for table in KEYS:
        op.drop_index(f'ix_{table}_push_pending', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('push_pending')
