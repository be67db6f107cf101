"""outcomes: what happened to each contact after scoring (contact_outcome), how hubsync's tasks ended, who logged an
engagement; contacts are listed again once to read their lifecycle-stage dates

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hubsync.store.types


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, hubsync.store.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str) -> sa.Column[Any]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True)


def upgrade() -> None:
    op.create_table('contact_outcome',
    sa.Column('contact_id', sa.BigInteger(), autoincrement=False, nullable=False),
    _time('created_at'),
    _time('lead_at'),
    _time('mql_at'),
    _time('sql_at'),
    _time('opportunity_at'),
    _time('customer_at'),
    _text('lead_status'),
    _time('scored_from'),
    _time('hubsync_mql_at'),
    sa.Column('peak_engagement', sa.Integer(), nullable=True),
    sa.Column('peak_segment', sa.String(length=2), nullable=True),
    _time('handed_over_at'),
    sa.Column('handoff_owner_id', sa.BigInteger(), autoincrement=False, nullable=True),
    _text('handoff_kind'),
    _text('handoff_trigger'),
    _time('triggered_at'),
    _text('task_closed'),
    _time('task_completed_at'),
    _time('first_response_at'),
    _text('response_kind'),
    sa.Column('deals', sa.Integer(), nullable=False),
    _time('deal_created_at'),
    _time('won_deal_created_at'),
    _time('won_at'),
    sa.Column('won_amount', sa.Float(), nullable=True),
    _time('lost_at'),
    _time('refreshed_at', nullable=False),
    sa.PrimaryKeyConstraint('contact_id')
    )
    with op.batch_alter_table('task') as batch:
        batch.add_column(_text('closed_as'))
        batch.add_column(_time('completed_at'))
    with op.batch_alter_table('engagement') as batch:
        batch.add_column(sa.Column('owner_id', sa.BigInteger(), autoincrement=False, nullable=True))
    # The pull now reads the lifecycle-stage dates with every contact; contacts stored before it lack them until
    # they change. Without a cursor the contacts stream starts with a listing: the next cycle reads every contact
    # once (one request per 100 contacts) and the outcomes are complete from then on.
    op.execute("DELETE FROM sync_cursor WHERE stream = 'contacts'")


def downgrade() -> None:
    with op.batch_alter_table('engagement') as batch:
        batch.drop_column('owner_id')
    with op.batch_alter_table('task') as batch:
        batch.drop_column('completed_at')
        batch.drop_column('closed_as')
    op.drop_table('contact_outcome')
