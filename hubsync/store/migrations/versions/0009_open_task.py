"""open task: hubsync's open tasks as HubSpot last showed them (task id, owner), so that a cycle reads only the
tasks changed since its last read and still counts every owner's open tasks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty: without the open-task cursor (`tasks.open` in sync_cursor) the next handoff reads every open
    # hubsync task, which fills it.
    op.create_table('open_task',
    sa.Column('task_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('owner_id', sa.BigInteger(), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('task_id')
    )


def downgrade() -> None:
    op.drop_table('open_task')
