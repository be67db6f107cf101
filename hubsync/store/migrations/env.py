"""Alembic environment: hubsync always hands in an open connection (see store/db.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import hubsync.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hubsync db upgrade`, which passes the connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
