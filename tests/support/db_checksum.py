"""A fingerprint of a whole database, to prove a command wrote nothing: a SQLite file's bytes (and its write-ahead
log's, if one is left), or on PostgreSQL every row of every table of the schema, ordered by primary key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from hubsync.store.db import sqlite_path


def database_checksum(url: str) -> str:
    path = sqlite_path(url)
    if path is not None:
        digest = hashlib.sha256(path.read_bytes())
        wal = Path(f"{path}-wal")
        digest.update(wal.read_bytes() if wal.exists() else b"")
        return digest.hexdigest()
    engine = sa.create_engine(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            for name in sorted(metadata.tables):
                table = metadata.tables[name]
                order = list(table.primary_key.columns) or list(table.columns)
                digest.update(f"table {name}\n".encode())
                for row in conn.execute(sa.select(table).order_by(*order)):
                    digest.update(repr(tuple(row)).encode() + b"\n")
    finally:
        engine.dispose()
    return digest.hexdigest()
