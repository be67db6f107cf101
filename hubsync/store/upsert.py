"""Set-based upserts: one INSERT … ON CONFLICT statement per batch, on SQLite and PostgreSQL alike.

The statement is compiled once and executed over the whole batch (DB-API executemany): SQLAlchemy sends it to
PostgreSQL as multi-row VALUES pages ("insertmanyvalues") and sqlite3 runs it in C. Rendering one giant VALUES
clause instead costs more in SQL compilation than the database spends writing the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, or update every other column of rows whose key exists. Returns rows written.

    The key is the primary key, unless the table names another unique key in `info["upsert_key"]` (activities
    are stored by contact and time but identified by their id)."""
    if not rows:
        return 0
    keys = list(table.info.get("upsert_key") or [c.name for c in table.primary_key.columns])
    # PostgreSQL refuses a statement that touches one row twice; a page may repeat a record, the last one wins.
    rows = list({tuple(row[k] for k in keys): row for row in rows}.values())
    columns = rows[0].keys()
    if any(row.keys() != columns for row in rows):
        # Filling the gaps with NULL would overwrite stored values on conflict; the caller must decide.
        raise ValueError(f"upsert into {table.name}: every row must have the same columns")
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    updates = {c: stmt.excluded[c] for c in columns if c not in keys}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=keys, set_=updates) if updates else stmt.on_conflict_do_nothing(),
        rows,
    )
    return len(rows)
