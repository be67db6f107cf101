"""Records → rows, and ids in chunks small enough for an `IN (...)` list: what the store's modules share."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from hubsync.batching import batches
from hubsync.records import Activity, Association, Company, Contact, Deal, Owner

_IN_CHUNK: Final = 900  # ids per IN (...) list: below SQLite's default bound-parameter limit


def id_chunks(ids: Iterable[Any]) -> Iterator[Sequence[Any]]:
    return batches(list(ids), _IN_CHUNK)


def among(conn: Connection, column: sa.ColumnElement[int], ids: Collection[int]) -> sa.ColumnElement[bool]:
    """`column IN ids` for one chunk of ids; on PostgreSQL as `= ANY(array)`: one parameter instead of hundreds,
    which it parses and plans several times faster."""
    if conn.dialect.name != "postgresql":
        return column.in_(list(ids))
    return column == sa.any_(sa.bindparam(None, list(ids), type_=postgresql.ARRAY(sa.BigInteger)))


def record_row(record: Contact | Company | Deal | Owner | Activity | Association) -> dict[str, Any]:
    """A record as its table's row: the tables' columns carry the records' field names."""
    if isinstance(record, Activity):
        return {**record._asdict(), "kind": str(record.kind)}
    row = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    if "properties" in row:
        row["properties"] = dict(row["properties"])
    return row
