"""Engine, sessions and schema upgrades. Every command that needs the database calls `open_database`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from hubsync.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
log = structlog.get_logger(__name__)


def make_engine(url: str) -> Engine:
    try:
        engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as err:
        raise StoreError(f"cannot use database URL {safe_url(url)}: {err}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets `hubsync status` read while a sync writes; busy_timeout makes two processes wait instead of failing.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "<unparseable database URL>"


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


# Any constant: the key of the PostgreSQL advisory lock that serialises schema upgrades across processes.
_UPGRADE_LOCK = 0x68756273  # "hubs"
_UPGRADE_TRIES = 5


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to the newest migration; a no-op when it is already there. Returns the revision.

    Several processes may start at once on an empty database (two `hubsync run` on one PostgreSQL): on PostgreSQL
    an advisory lock lets one migrate while the others wait; elsewhere a process that loses the race finds the
    schema at head when it looks again, which counts as success."""
    head = head_revision()
    for attempt in range(1, _UPGRADE_TRIES + 1):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
                before = current_revision(conn)
                command.upgrade(_alembic_config(conn), "head")
                after = current_revision(conn)
        except SQLAlchemyError as err:
            with engine.connect() as conn:
                if current_revision(conn) == head:
                    return head
            if attempt == _UPGRADE_TRIES:
                message = f"cannot upgrade the database at {safe_url(str(engine.url))}: {_first_line(err)}"
                raise StoreError(message) from None
            time.sleep(0.2 * attempt)
            continue
        if before != after:
            log.info("store.upgraded", from_revision=before, to_revision=after)
        return after
    return head  # not reached: the loop returns or raises


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema: what every command that touches the database starts with."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; database failures become StoreError with a one-line message."""
    try:
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as err:
        raise StoreError(f"database error: {_first_line(err)}") from err


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
