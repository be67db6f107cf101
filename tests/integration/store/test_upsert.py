from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.store.db import open_database
from hubsync.store.tables import activity_t, contact_t, task_t
from hubsync.store.upsert import upsert
from tests.support.statements import statements_run

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _contacts(ids: range, job: str) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "email": f"c{i}@example.com",
            "jobtitle": job,
            "updated_at": T0 + timedelta(minutes=i),
            "properties": {"jobtitle": job, "numberofemployees": "1,000"},
        }
        for i in ids
    ]


def test_upsert_inserts_then_updates_with_one_statement_per_batch(engine: Engine) -> None:
    table = contact_t
    statements = statements_run(engine, "INSERT")
    with engine.begin() as conn:
        assert upsert(conn, table, _contacts(range(1, 301), "Manager")) == 300
    assert len(statements) == 1
    with engine.begin() as conn:
        upsert(conn, table, _contacts(range(151, 451), "CEO"))
    assert len(statements) == 2
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.id, table.c.jobtitle, table.c.properties)).all()
    assert len(rows) == 450
    by_id = {r.id: r for r in rows}
    assert by_id[150].jobtitle == "Manager"
    assert by_id[151].jobtitle == "CEO"
    assert by_id[451 - 1].properties == {"jobtitle": "CEO", "numberofemployees": "1,000"}


def test_upsert_of_a_batch_that_repeats_a_key_keeps_the_last(engine: Engine) -> None:
    table = contact_t
    rows = _contacts(range(1, 3), "Manager") + _contacts(range(1, 2), "Director")
    with engine.begin() as conn:
        assert upsert(conn, table, rows) == 2
        assert conn.execute(sa.select(table.c.jobtitle).where(table.c.id == 1)).scalar_one() == "Director"


def test_times_come_back_timezone_aware_utc(engine: Engine) -> None:
    table = activity_t
    berlin = datetime(2026, 3, 1, 10, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    row = {
        "id": "page_view:1",
        "contact_id": 7,
        "kind": "page_view",
        "occurred_at": berlin,
        "url": "https://x/",
    }
    with engine.begin() as conn:
        upsert(conn, table, [row])
        stored = conn.execute(sa.select(table.c.occurred_at)).scalar_one()
    assert stored == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert stored.tzinfo is not None


def test_naive_times_are_refused(engine: Engine) -> None:
    table = activity_t
    row = {"id": "x:1", "contact_id": 7, "kind": "page_view", "occurred_at": datetime(2026, 3, 1)}  # noqa: DTZ001
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
        upsert(conn, table, [row])


def test_database_allows_one_open_task_per_contact(engine: Engine) -> None:
    table = task_t
    task = {"contact_id": 5, "state": "open", "subject": "A1: call", "intent_at": T0}
    with engine.begin() as conn:
        conn.execute(table.insert(), [task])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(table.insert(), [{**task, "state": "intent"}])
    # A finished task does not block the next one.
    with engine.begin() as conn:
        conn.execute(table.update().values(state="done"))
        conn.execute(table.insert(), [{**task, "state": "intent"}])
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 2


def test_rows_with_different_columns_are_refused(engine: Engine) -> None:
    table = contact_t
    with pytest.raises(ValueError, match="same columns"), engine.begin() as conn:
        upsert(conn, table, [{"id": 1, "email": "a@x.de"}, {"id": 2}])
