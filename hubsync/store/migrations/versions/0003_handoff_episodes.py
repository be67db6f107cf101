"""handoff episodes: when a contact was handed over, when a trigger last held, hand-raises, waiting; task kinds
and triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hubsync.store.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contact_score') as batch:
        batch.add_column(sa.Column('handed_over_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('triggers_held_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('hand_raise_seen_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('hand_raise_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('gates', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('handoff_waiting', sa.Text(), nullable=True))
    with op.batch_alter_table('task') as batch:
        batch.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('over_capacity', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('triggers', sa.JSON(), nullable=True))
    # A contact handed over before episodes existed: its episode starts with its open (or last) task, so that the
    # 30 quiet days count from there and it is not handed over again at once.
    op.execute(
        "UPDATE contact_score SET handed_over_at = (SELECT MAX(task.created_at) FROM task "
        "WHERE task.contact_id = contact_score.contact_id), triggers_held_at = as_of WHERE handoff_armed = false"
    )


def downgrade() -> None:
    with op.batch_alter_table('task') as batch:
        batch.drop_column('triggers')
        batch.drop_column('over_capacity')
        batch.drop_column('kind')
    with op.batch_alter_table('contact_score') as batch:
        batch.drop_column('handoff_waiting')
        batch.drop_column('gates')
        batch.drop_column('hand_raise_at')
        batch.drop_column('hand_raise_seen_at')
        batch.drop_column('triggers_held_at')
        batch.drop_column('handed_over_at')
