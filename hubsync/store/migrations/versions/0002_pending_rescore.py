"""pending rescore: what a pull touched and no rescore has scored yet

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hubsync.store.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_rescore',
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('object_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('marked_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('object_type', 'object_id')
    )


def downgrade() -> None:
    op.drop_table('pending_rescore')
