from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.store import lease
from hubsync.store.cursors import all_cursors, load_cursor, save_cursor
from hubsync.store.db import open_database
from hubsync.store.runs import RunCounts, abandon_runs, finish_run, start_run
from hubsync.store.tables import run_t

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def test_cursor_round_trip_and_rollback_keeps_the_old_one(engine: Engine) -> None:
    with engine.begin() as conn:
        assert load_cursor(conn, "contacts") is None
        save_cursor(conn, "contacts", {"since": "2026-05-01T00:00:00Z", "after_id": 17}, now=T0)

    def crash_mid_page() -> None:
        with engine.begin() as conn:
            save_cursor(conn, "contacts", {"since": "2026-05-02T00:00:00Z", "after_id": 0}, now=T0)
            raise RuntimeError("crash before the page is committed")

    with pytest.raises(RuntimeError):
        crash_mid_page()
    with engine.connect() as conn:
        assert load_cursor(conn, "contacts") == {"since": "2026-05-01T00:00:00Z", "after_id": 17}
        assert all_cursors(conn) == {"contacts": {"since": "2026-05-01T00:00:00Z", "after_id": 17}}


def test_run_log_records_outcome_and_counts(engine: Engine) -> None:
    with engine.begin() as conn:
        run_id = start_run(conn, "sync", now=T0)
    with engine.begin() as conn:
        finish_run(
            conn,
            run_id,
            outcome="ok",
            counts=RunCounts(pulled=10, scored=8, pushed=3, tasks_created=1, api_calls=12, daily_quota_left=500),
            now=T0 + timedelta(minutes=2),
        )
    table = run_t
    with engine.connect() as conn:
        row = conn.execute(sa.select(table)).one()
    assert (row.outcome, row.pulled, row.pushed, row.api_calls) == ("ok", 10, 3, 12)
    assert row.finished_at - row.started_at == timedelta(minutes=2)


def test_lease_is_held_by_one_holder_until_it_expires(engine: Engine) -> None:
    assert lease.acquire(engine, "portal", "a", now=T0, ttl=TTL)
    assert not lease.acquire(engine, "portal", "b", now=T0 + timedelta(seconds=30), ttl=TTL)
    # The holder renews; the other still cannot take it.
    assert lease.acquire(engine, "portal", "a", now=T0 + timedelta(seconds=50), ttl=TTL)
    assert not lease.acquire(engine, "portal", "b", now=T0 + timedelta(seconds=100), ttl=TTL)
    assert lease.current_holder(engine, "portal", now=T0 + timedelta(seconds=100)) == "a"
    # Not renewed: after it expires, b takes over, and a cannot take it back while b renews.
    assert lease.acquire(engine, "portal", "b", now=T0 + timedelta(seconds=111), ttl=TTL)
    assert not lease.acquire(engine, "portal", "a", now=T0 + timedelta(seconds=112), ttl=TTL)
    lease.release(engine, "portal", "b")
    assert lease.current_holder(engine, "portal", now=T0 + timedelta(seconds=113)) is None
    assert lease.acquire(engine, "portal", "a", now=T0 + timedelta(seconds=113), ttl=TTL)


def test_lease_race_has_exactly_one_winner(engine: Engine) -> None:
    holders = [f"h{i}" for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda h: lease.acquire(engine, "race", h, now=T0, ttl=TTL), holders))
    assert results.count(True) == 1


def test_taking_over_records_runs_of_dead_holders_as_failed(engine: Engine) -> None:
    with engine.begin() as conn:
        dead = start_run(conn, "cycle", now=T0, holder="host:1:dead")
        mine = start_run(conn, "cycle", now=T0, holder="host:2:me")
        cron = start_run(conn, "sync", now=T0)  # a `hubsync sync` without a lease: never touched
        assert abandon_runs(conn, holder="host:2:me", now=T0 + timedelta(minutes=5)) == 1
    table = run_t
    with engine.connect() as conn:
        outcomes: dict[int, str] = dict(conn.execute(sa.select(table.c.id, table.c.outcome)).all())
        error = conn.execute(sa.select(table.c.error).where(table.c.id == dead)).scalar_one()
    assert outcomes == {dead: "failed", mine: "running", cron: "running"}
    assert "killed or crashed" in error
