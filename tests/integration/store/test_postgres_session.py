"""What hubsync's PostgreSQL sessions do for storing speed (store/db.py): after the pull has loaded rows, the planner
gets statistics for the tables it loaded (where autovacuum is off, or has not come round yet), and for those only
(SQLite needs none); a commit does not wait for the disk, as on SQLite; no statement is prepared for a generic
plan."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.records import Contact
from hubsync.store.crm import store_objects
from hubsync.store.db import refresh_statistics
from hubsync.store.tasks import add_intent

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _analyzed(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        query = (
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() AND last_analyze IS NOT NULL"
        )
        return set(conn.execute(sa.text(query)).scalars())


def _flush_counts(engine: Engine) -> None:
    # A backend reports its row counts to the statistics a second or so after a commit; this one at once.
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))


def test_tables_loaded_since_their_statistics_are_analyzed_and_no_others(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        assert refresh_statistics(engine) == []
        return
    with engine.begin() as conn:
        store_objects(conn, [Contact(i, email=f"{i}@example.com") for i in range(1, 2_001)])
    _flush_counts(engine)
    assert refresh_statistics(engine) == ["contact"]
    assert _analyzed(engine) == {"contact"}
    # Nothing changed since: nothing to analyze.
    assert refresh_statistics(engine) == []
    # A few rows more than autovacuum's threshold (50 + 10 % of the table) are worth it; fewer are not.
    with engine.begin() as conn:
        store_objects(conn, [Contact(i, email=f"{i}@example.com") for i in range(3_001, 3_201)])
    _flush_counts(engine)
    assert refresh_statistics(engine) == []
    with engine.begin() as conn:
        store_objects(conn, [Contact(i, email=f"{i}@example.com") for i in range(4_001, 4_101)])
    _flush_counts(engine)
    assert refresh_statistics(engine) == ["contact"]


def test_a_postgres_commit_does_not_wait_for_the_disk(engine: Engine) -> None:
    """As SQLite's WAL with synchronous=NORMAL: a commit is not flushed to disk before it returns (store/db.py)."""
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
            return
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"


def test_a_task_intent_is_committed_durably(engine: Engine) -> None:
    """The one exception: the transaction that writes a task intent waits for the disk (PostgreSQL), so a crash of
    the server cannot lose an intent whose create already went out (store/tasks.py add_intent)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        add_intent(conn, contact_id=1, owner_id=2, subject="[hubsync] x", intent_at=NOW, due_at=NOW)
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"


def test_a_statement_run_again_and_again_is_not_prepared(engine: Engine) -> None:
    """A prepared statement gets a plan for any values, which tests `= ANY($1)` by walking the array row by row
    (store/db.py): hubsync's sessions prepare none, however often a statement runs."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        for i in range(10):
            conn.execute(sa.select(sa.literal(i) == sa.any_(sa.bindparam("ids", [1, 2, 3]))))
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar_one() == 0
