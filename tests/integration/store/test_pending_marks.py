"""Pending marks (what a pull's `touch` writes with every page): each touched id is marked once per kind, a mark
made again keeps its first time (pending since) and writes nothing, and many ids at once (COPY on PostgreSQL) store
the same as a few."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.store.pending import clear_pending, mark_pending, pending_work
from hubsync.store.tables import pending_t
from hubsync.store.upsert import COPY_MIN_ROWS
from tests.support.statements import WRITES, statements_run

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def test_marks_are_one_per_id_and_kind_and_a_mark_again_keeps_the_first_time(engine: Engine) -> None:
    many = list(range(1, 3 * COPY_MIN_ROWS))
    with engine.begin() as conn:
        # A list may name an id twice (touched by two records of a page): marked once.
        mark_pending(conn, "contacts", [*many, 5, 5], now=T0)
        mark_pending(conn, "companies", [7, 8], now=T0)
    later = T0 + timedelta(hours=1)
    with engine.begin() as conn:
        mark_pending(conn, "contacts", [5, 2**62], now=later)
        mark_pending(conn, "companies", range(COPY_MIN_ROWS, 3 * COPY_MIN_ROWS), now=later)
        clear_pending(conn, "companies", [8])
    with engine.connect() as conn:
        work = pending_work(conn)
        marked = dict(
            conn.execute(
                sa.select(pending_t.c.object_id, pending_t.c.marked_at).where(pending_t.c.object_type == "contacts")
            ).all()
        )
    assert work.contacts == frozenset([*many, 2**62])
    assert work.companies == frozenset([7, *range(COPY_MIN_ROWS, 3 * COPY_MIN_ROWS)])
    assert marked == {i: later if i == 2**62 else T0 for i in [*many, 2**62]}


def test_marking_what_is_marked_writes_nothing(engine: Engine) -> None:
    """A first pull touches a contact again with every page of its activities: marks already there are not
    written again."""
    ids = list(range(1, 3 * COPY_MIN_ROWS))
    with engine.begin() as conn:
        mark_pending(conn, "contacts", ids, now=T0)
    writes = statements_run(engine, *WRITES)
    with engine.begin() as conn:
        mark_pending(conn, "contacts", ids, now=T0 + timedelta(hours=1))
    assert writes == []
    with engine.begin() as conn:
        mark_pending(conn, "contacts", [*ids, 10**6], now=T0)
    assert writes
    with engine.connect() as conn:
        assert pending_work(conn).contacts == frozenset([*ids, 10**6])
