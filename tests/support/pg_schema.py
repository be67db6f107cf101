"""A fresh PostgreSQL schema for one test or bench run, dropped afterwards (`tests/conftest.py`, the benches)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa


@contextmanager
def fresh_schema(admin: sa.Engine, server_url: str, prefix: str) -> Iterator[str]:
    """A new schema on the server `admin` talks to; yields `server_url` pointed at it (its search path)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@contextmanager
def fresh_database(postgres: str | None, workdir: Path, prefix: str) -> Iterator[str]:
    """A new SQLite file in `workdir` (`postgres` None), or a new schema on the PostgreSQL server at `postgres`."""
    if postgres is None:
        yield f"sqlite:///{workdir / f'{prefix}-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin = sa.create_engine(postgres)
    try:
        with fresh_schema(admin, postgres, prefix) as url:
            yield url
    finally:
        admin.dispose()
