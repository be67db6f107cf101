"""Set-based upserts: one INSERT … ON CONFLICT statement per batch, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

# SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535. Rows are chunked to stay below both.
_MAX_PARAMS = 30_000


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, or update every non-key column of rows whose primary key exists. Returns rows written."""
    if not rows:
        return 0
    keys = [c.name for c in table.primary_key.columns]
    # PostgreSQL refuses a statement that touches one row twice; a page may repeat a record, the last one wins.
    rows = list({tuple(row[k] for k in keys): row for row in rows}.values())
    columns = list(rows[0].keys())
    if any(row.keys() != rows[0].keys() for row in rows):
        # Filling the gaps with NULL would overwrite stored values on conflict; the caller must decide.
        raise ValueError(f"upsert into {table.name}: every row must have the same columns")
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    per_statement = max(1, _MAX_PARAMS // len(columns))
    for start in range(0, len(rows), per_statement):
        stmt = insert(table).values(list(rows[start : start + per_statement]))
        updates = {c: stmt.excluded[c] for c in columns if c not in keys}
        stmt = (
            stmt.on_conflict_do_update(index_elements=keys, set_=updates) if updates else stmt.on_conflict_do_nothing()
        )
        conn.execute(stmt)
    return len(rows)
