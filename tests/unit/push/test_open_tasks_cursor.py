"""The open-task read's cursor (`hubspot/cursors.py` `OpenTasksCursor`): when a read is full, and from when an
incremental one takes the changed tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsync.hubspot.cursors import OpenTasksCursor

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
OVERLAP, WEEK = timedelta(minutes=10), timedelta(days=7)


def since(cursor: OpenTasksCursor, now: datetime) -> datetime | None:
    return cursor.changed_since(now, overlap=OVERLAP, full_every=WEEK)


def test_the_first_read_is_full_and_the_next_takes_what_changed_since_it_less_the_overlap() -> None:
    assert since(OpenTasksCursor(), T0) is None
    first = OpenTasksCursor().after_read(T0, full=True)
    assert first == OpenTasksCursor(read_at=T0, full_at=T0)
    later = T0 + timedelta(minutes=15)
    assert since(first, later) == T0 - OVERLAP
    # An incremental read moves the read, not the full one.
    assert first.after_read(later, full=False) == OpenTasksCursor(read_at=later, full_at=T0)


def test_a_full_read_every_full_reconcile_period() -> None:
    cursor = OpenTasksCursor(read_at=T0 + timedelta(days=6), full_at=T0)
    assert since(cursor, T0 + WEEK - timedelta(seconds=1)) == T0 + timedelta(days=6) - OVERLAP
    assert since(cursor, T0 + WEEK) is None


def test_a_clock_that_went_back_skips_no_change() -> None:
    cursor = OpenTasksCursor(read_at=T0, full_at=T0)
    assert since(cursor, T0 - timedelta(hours=1)) == T0 - timedelta(hours=1) - OVERLAP


def test_it_round_trips_through_json() -> None:
    cursor = OpenTasksCursor(read_at=T0 + timedelta(minutes=15), full_at=T0)
    assert OpenTasksCursor.from_json(cursor.to_json()) == cursor
    assert OpenTasksCursor.from_json(None) == OpenTasksCursor()
