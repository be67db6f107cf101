"""The fast upserts store exactly what SQLAlchemy's own upsert stores: on PostgreSQL the COPY path and the statement
path, on SQLite the driver-level statement; a first write and an update that changes some columns, with NULLs, JSON,
unicode and values that need escaping in COPY's text format. Compared as the database holds them (as text), so a
different time format or JSON spelling would show."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from hubsync.store.db import open_database
from hubsync.store.tables import (
    activity_t,
    association_t,
    company_score_t,
    contact_t,
    cursor_t,
    engagement_t,
    owner_t,
)
from hubsync.store.upsert import COPY_MIN_ROWS, upsert, upsert_by_copy, upsert_by_statement

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
# Characters COPY's text format escapes (backslash, tab, newline, carriage return), its NULL marker as text, quotes,
# JSON's own escapes, and text outside the Basic Multilingual Plane.
ODD = [
    "",
    " ",
    "\\N",
    "a\\b",
    "tab\there",
    "line\nbreak",
    "cr\rx",
    "quote ' and \"",
    "Müller-Lüdenscheidt",
    "👩‍💻 ✓",
    "עברית",
    "x" * 3000,
]

Upsert = Callable[[Connection, sa.Table, Sequence[Mapping[str, Any]]], int]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _core_upsert(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """The reference: SQLAlchemy Core's INSERT … ON CONFLICT with its own parameter handling (the old store path)."""
    keys = list(table.info.get("upsert_key") or [c.name for c in table.primary_key.columns])
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), rows)
    return len(rows)


def _contacts(n: int, *, updated: bool) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        odd = ODD[i % len(ODD)]
        rows.append(
            {
                "id": 2**62 + i if i % 7 == 0 else i + 1,
                "email": None if i % 5 == 0 else f"{odd}{i}@example.com",
                "firstname": odd,
                "lastname": None if i % 3 == 0 else "Ørsted",
                "jobtitle": ("CEO" if updated and i % 2 else odd) or None,
                "country": None,
                "lifecyclestage": "lead",
                "owner_id": None if i % 4 == 0 else 9_000_000_000 + i,
                "company_id": i % 11,
                "created_at": T0.astimezone(timezone(timedelta(hours=-7, minutes=-30))) + timedelta(days=i),
                "updated_at": None if i % 6 == 0 else T0 + timedelta(seconds=i, microseconds=i),
                "properties": {
                    "email": odd,
                    "nested": {"list": [1, 2.5, None, True, odd]},
                    "ünïcode": "✓" if updated else "✗",
                    "jobtitle": odd,
                }
                if i % 9
                else {},
                "archived_at": T0 if updated and i % 10 == 0 else None,
            }
        )
    return rows


def _activities(n: int, *, updated: bool) -> list[dict[str, Any]]:
    return [
        {
            "contact_id": i % 13,
            "occurred_at": T0 + timedelta(minutes=i),
            "id": f"page_view:{ODD[i % len(ODD)][:20]}:{i}",
            "kind": "page_view",
            "event_type": None,
            "url": f"https://example.com/{ODD[i % len(ODD)]}?a=1&b=ü" if updated else None,
            "title": ODD[(i + 3) % len(ODD)],
            "form_id": None,
            "form_name": None,
            "campaign_id": None,
            "event_name": None,
            "direction": None,
            "status": "opened" if updated else None,
        }
        for i in range(n)
    ]


def _owners(n: int, *, updated: bool) -> list[dict[str, Any]]:
    # No open_tasks: inserted with its default, left alone by the update.
    return [
        {"id": i, "email": ODD[i % len(ODD)], "firstname": "Zoë", "lastname": None, "user_id": i, "archived": updated}
        for i in range(1, n + 1)
    ]


def _associations(n: int, *, updated: bool) -> list[dict[str, Any]]:
    return [
        {"from_type": "contacts", "from_id": i, "to_type": "companies", "to_id": i % 5, "type_id": 1, "label": None}
        | ({"label": ODD[i % len(ODD)]} if updated else {})
        for i in range(n)
    ]


def _engagements(n: int, *, updated: bool) -> list[dict[str, Any]]:
    return [
        {"object_type": "calls", "id": i, "created_at": T0, "archived_at": T0 if updated else None, "owner_id": None}
        for i in range(n)
    ]


def _cursors(n: int, *, updated: bool) -> list[dict[str, Any]]:
    return [
        {"stream": f"s{i}", "state": {"after": ODD[i % len(ODD)], "n": i, "done": updated}, "updated_at": T0}
        for i in range(n)
    ]


def _company_scores(n: int, *, updated: bool) -> list[dict[str, Any]]:
    # The account_* columns left out, as the rescore leaves them: a new row takes their server defaults.
    return [
        {
            "company_id": i,
            "engagement": i if updated else 0,
            "profile": 50,
            "completeness": 100,
            "segment": "A1",
            "fit_light": "green",
            "tier": "1",
            "buying_center_active": updated,
            "active_contacts": 3,
            "engaged_contacts": 1,
            "personas_missing": [ODD[i % len(ODD)], "Einkauf"] if i % 2 else [],
            "reason": ODD[i % len(ODD)] or "-",
            "as_of": T0,
        }
        for i in range(n)
    ]


CASES = {
    "company_score": (company_score_t, _company_scores),
    "contact": (contact_t, _contacts),
    "activity": (activity_t, _activities),
    "owner": (owner_t, _owners),
    "association": (association_t, _associations),
    "engagement": (engagement_t, _engagements),
    "sync_cursor": (cursor_t, _cursors),
}


def _stored(conn: Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    """Every row as the database holds it, as text, in key order."""
    columns: list[sa.ColumnElement[Any]]
    if conn.dialect.name == "postgresql":
        columns = [sa.cast(c, sa.Text) for c in table.c]
    else:
        # Coerced to a type without a result conversion: the stored value itself (times and JSON are text there).
        columns = [sa.type_coerce(c, sa.String) for c in table.c]
    return [tuple(r) for r in conn.execute(sa.select(*columns).order_by(*table.primary_key.columns))]


def _write_twice(engine: Engine, table: sa.Table, make: Callable[..., list[dict[str, Any]]], how: Upsert) -> list[Any]:
    n = 2 * COPY_MIN_ROWS + 7
    with engine.begin() as conn:
        conn.execute(sa.delete(table))
        how(conn, table, make(n, updated=False))
    with engine.begin() as conn:
        # An update of some columns for half the rows, and new rows after them.
        how(conn, table, make(2 * n, updated=True)[n // 2 :])
    with engine.connect() as conn:
        return _stored(conn, table)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_upserts_store_what_sqlalchemy_stores(engine: Engine, case: str) -> None:
    table, make = CASES[case]
    reference = _write_twice(engine, table, make, _core_upsert)
    assert len(reference) > 2 * COPY_MIN_ROWS
    ways: dict[str, Upsert] = {"upsert": upsert, "statement": upsert_by_statement}
    if engine.dialect.name == "postgresql":
        ways["copy"] = upsert_by_copy
    for name, how in ways.items():
        assert _write_twice(engine, table, make, how) == reference, name


@pytest.mark.postgres
def test_a_failed_copy_leaves_nothing_and_the_next_transaction_copies_again(database_url: str) -> None:
    """A row the database refuses fails the page's transaction as a database error; nothing of it stays, and the
    stage table (gone with the rolled-back transaction that made it) is made again by the next."""
    if not database_url.startswith("postgresql"):
        pytest.skip("COPY is PostgreSQL's")
    engine = open_database(database_url)
    try:
        rows = _activities(COPY_MIN_ROWS, updated=False)
        with pytest.raises(sa.exc.DBAPIError, match="null value"), engine.begin() as conn:
            upsert_by_copy(conn, activity_t, [*rows, {**rows[0], "id": "x:1", "kind": None}])
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(activity_t)).scalar_one() == 0
        with engine.begin() as conn:
            assert upsert_by_copy(conn, activity_t, rows) == len(rows)
            # Twice in one transaction: the stage is emptied after each use.
            assert upsert_by_copy(conn, activity_t, rows) == len(rows)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(activity_t)).scalar_one() == len(rows)
    finally:
        engine.dispose()
