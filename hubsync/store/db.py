"""Engine, sessions and schema upgrades. Every command that needs the database calls `open_database`.

Database failures become `StoreError` here and nowhere else (`store_error`): an engine made by `make_engine` turns
every driver error but a constraint violation into one, naming the database (never its password) and what went
wrong, wherever the statement ran. A SQLite file deleted or replaced while hubsync has it open is caught before
the next commit, so nothing is reported saved that went to a file nobody will read again.
"""

from __future__ import annotations

import os
import re
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
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlmodel import SQLModel

import hubsync.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from hubsync.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
log = structlog.get_logger(__name__)


def make_engine(url: str) -> Engine:
    try:
        engine = sa.create_engine(url, future=True, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as err:
        raise StoreError(f"cannot use database URL {safe_url(url)}: {err}") from None
    sa.event.listen(engine, "handle_error", _translate)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        path = sqlite_path(engine.url)
        if path is not None:
            watch = _FileWatch(path, engine.url)
            sa.event.listen(engine, "connect", watch.connected)
            sa.event.listen(engine, "commit", watch.before_commit)
    elif engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _postgres_session)
    return engine


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # A commit returns without waiting for its WAL to reach the disk (7-14 ms a commit on the bench machine, a fifth
    # of PostgreSQL's storing time, bench/pull.py). The promise SQLite's WAL with synchronous=NORMAL makes above: a
    # kill of hubsync loses nothing committed; a crash of the server or the machine may lose its last fraction of a
    # second of commits, whole transactions, never part of one (a lost page is read again with its cursor).
    with dbapi_conn.cursor() as cur:
        cur.execute("SET synchronous_commit TO off")
    dbapi_conn.commit()
    # Every statement planned for its values, never prepared: psycopg prepares a statement run five times, and
    # PostgreSQL then plans it once for any values. Such a generic plan tests `id = ANY($1)` (a chunk's ids) by
    # walking the whole array for every row instead of hashing it: a first pull's check of its pending marks took
    # 44 ms instead of 1.4 ms a page, half of PostgreSQL's storing time (bench/pull.py). Planning costs a fraction
    # of a millisecond per statement.
    dbapi_conn.prepare_threshold = None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets `hubsync status` read while a sync writes; busy_timeout makes two processes wait instead of failing.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # A first pull writes a million rows: checkpointing the WAL every 10,000 pages (~40 MB) instead of SQLite's
    # 1,000 spends less of storing on copying pages back (10-20 % less storing time, bench/pull.py).
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def _translate(context: sa.engine.ExceptionContext) -> StoreError | None:
    """handle_error: the driver's error as a StoreError, raised in its place (the original stays its cause)."""
    error = context.sqlalchemy_exception
    if context.is_pre_ping or not isinstance(error, DBAPIError) or isinstance(error, IntegrityError):
        # A failed pre-ping is SQLAlchemy's to handle (it reconnects); an error before the statement reached the
        # driver (a value hubsync must not bind) is a bug; a constraint violation is an answer to the statement (a
        # caller may expect it). None of them says the database is unusable.
        return None
    url = context.engine.url if context.engine is not None else None
    return store_error(error, url)


def store_error(error: BaseException, url: str | URL | None) -> StoreError:
    """The one translation of a database failure into what the admin reads: the database and what went wrong."""
    where = f"the database {safe_url(url)}" if url is not None else "the database"
    if not isinstance(error, DBAPIError):
        # SQLAlchemy refused the statement before the database saw it: hubsync's mistake, not the database's.
        return StoreError(f"database error on {where}: {_first_line(error)}")
    return StoreError(f"cannot use {where}: {_what_went_wrong(error, url)}")


# SQLite's own words for a file it cannot open or write, and what they mean for the admin.
_SQLITE_CANT_OPEN = "unable to open database file"
_SQLITE_READ_ONLY = "attempt to write a readonly database"


def _what_went_wrong(error: DBAPIError, url: str | URL | None) -> str:
    cause = error.orig if error.orig is not None else error
    text = " ".join(_first_line(cause).split())  # the driver's first line, its runs of spaces collapsed
    path = sqlite_path(url) if url is not None else None
    if path is not None and text in {_SQLITE_CANT_OPEN, _SQLITE_READ_ONLY}:
        text = _sqlite_file_problem(path, text)
    password = sa.make_url(url).password if url is not None else None
    if password:
        text = text.replace(str(password), "***")
    return text


def _sqlite_file_problem(path: Path, text: str) -> str:
    directory = path.parent
    if not directory.is_dir():
        return f"the directory {directory} does not exist (create it, or point HUBSYNC_DATABASE_URL elsewhere)"
    if not os.access(directory, os.W_OK | os.X_OK):
        # SQLite writes its journal (-wal, -shm) next to the file: the directory must be writable too.
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return f"the directory {directory} is on a read-only file system"
        return f"permission denied: this user cannot write to the directory {directory}"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"permission denied: this user cannot read and write {path}"
    if text == _SQLITE_READ_ONLY:
        return f"the database {path} is read-only (opened read-only, or its file or directory is not writable)"
    return f"{text} ({path})"


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL, absolute; None for an in-memory database or another dialect."""
    try:
        parsed = sa.make_url(url)
    except (SQLAlchemyError, ValueError):
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        # URI form (`file:/path/h.db?mode=ro&uri=true`): SQLAlchemy has already taken the query string off.
        if parsed.query.get("mode") == "memory":
            return None
        database = re.sub(r"^file:(//[^/]*)?", "", database)
    return Path(database).absolute()


class _FileWatch:
    """Notices a SQLite file deleted or replaced while hubsync has it open: writes would go on succeeding into an
    unlinked file (or a fresh empty one), and a run would end "ok" having saved nothing anyone can read."""

    def __init__(self, path: Path, url: URL) -> None:
        self.path = path
        self.url = url
        self.identity: tuple[int, int] | None = None

    def connected(self, _dbapi_conn: Any, _record: Any) -> None:
        # SQLite creates the file on the first connect: remember which file that was.
        if self.identity is None:
            self.identity = self._current()

    def before_commit(self, _conn: Connection) -> None:
        if self.identity is not None and self._current() != self.identity:
            log.error("store.sqlite_file_vanished", path=str(self.path))
            message = (
                f"cannot use the database {safe_url(self.url)}: the file {self.path} was deleted or replaced while "
                "hubsync was using it; nothing since then was saved"
            )
            raise StoreError(message)

    def _current(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino


def safe_url(url: str | URL) -> str:
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
                elif conn.dialect.name == "sqlite":
                    # The sqlite3 driver runs DDL outside any transaction unless one is open: without this, a process
                    # killed halfway through a migration left half the tables, and every later run failed on
                    # "table … already exists" (found by bench/chaos.py).
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                before = current_revision(conn)
                command.upgrade(_alembic_config(conn), "head")
                after = current_revision(conn)
        except CommandError as err:
            # The database names a revision this hubsync does not ship: a newer hubsync upgraded it.
            message = (
                f"cannot upgrade the database {safe_url(engine.url)}: {_first_line(err)} (was it upgraded by a "
                "newer hubsync?)"
            )
            raise StoreError(message) from None
        except (SQLAlchemyError, StoreError) as err:
            failure = err if isinstance(err, StoreError) else store_error(err, engine.url)
            try:
                with engine.connect() as conn:
                    at_head = current_revision(conn) == head
            except (SQLAlchemyError, StoreError):
                # Not even a look is possible (no such directory, server down, no permission): say so at once.
                raise failure from None
            if at_head:
                return head
            if attempt == _UPGRADE_TRIES:
                raise failure from None
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


# Autovacuum's own rule for a table worth analyzing: this many rows plus this share of it changed since the last time.
_ANALYZE_ROWS = 50
_ANALYZE_SHARE = 0.1


def refresh_statistics(engine: Engine) -> list[str]:
    """PostgreSQL: ANALYZE hubsync's tables whose planner statistics are missing or stale, by autovacuum's rule;
    returns their names. Without statistics the planner guesses a range on an index matches a share of the table:
    the pull's lookup of a page's engagement activities (200 id ranges) became a sequential scan of a million
    activities, seconds per page, most of the cycle after a first sync. Autovacuum analyzes a table a minute or more
    after a bulk load, and not at all where it is off; the pull knows when it has just loaded one. SQLite plans
    well without statistics: nothing to do there."""
    if engine.dialect.name != "postgresql":
        return []
    ours = sorted(SQLModel.metadata.tables)
    with transaction(engine) as conn:
        stale = list(
            conn.execute(
                sa.text(
                    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                    "AND relname = ANY(:ours) AND n_mod_since_analyze > :rows + :share * n_live_tup ORDER BY relname"
                ),
                {"ours": ours, "rows": _ANALYZE_ROWS, "share": _ANALYZE_SHARE},
            ).scalars()
        )
        if stale:
            quote = conn.dialect.identifier_preparer.quote
            conn.exec_driver_sql(f"ANALYZE {', '.join(quote(name) for name in stale)}")
    if stale:
        log.info("store.analyzed", tables=stale)
    return stale


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; database failures become StoreError with a one-line message."""
    try:
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as err:
        raise store_error(err, engine.url) from err


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
