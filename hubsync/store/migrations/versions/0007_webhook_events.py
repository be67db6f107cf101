"""webhook events: what HubSpot's webhooks sent, stored before the receiver answers, processed by the active syncer

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hubsync.store.types


revision: str = '0007'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_event',
    sa.Column('event_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('subscription_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempt_number', sa.Integer(), nullable=False),
    sa.Column('portal_id', sa.BigInteger(), autoincrement=False, nullable=True),
    sa.Column('property_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('processed_at', hubsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_webhook_event_queue', 'webhook_event', ['processed_at', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_event_queue', table_name='webhook_event')
    op.drop_table('webhook_event')
