"""Cursor functions, with before/after values: the cursor never passes the run's start, windows keep their bounds
across pages and resumptions, and a listing resumed by a later run keeps its first start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from . import cursor_json as cursors
from .cursor_json import Listing, ListPage, LogWindow, Window, WindowPage, next_cursor, plan

T0 = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
RUN = T0 + timedelta(hours=1)
OVERLAP = timedelta(minutes=10)


def test_first_run_lists_from_the_start() -> None:
    assert plan(None, run_started=RUN, overlap=OVERLAP) == Listing(after=None, started=RUN)


def test_list_pages_checkpoint_the_token_then_finish_at_the_listing_start() -> None:
    after_first = next_cursor(None, ListPage("1100"), RUN)
    assert after_first == {"mode": "full", "after": "1100", "started": "2025-06-02T07:00:00.000Z"}
    # Resumed by a later run: the listing keeps its first start, and finishing it sets synced_to to that start.
    later = RUN + timedelta(hours=2)
    assert plan(after_first, run_started=later, overlap=OVERLAP) == Listing(after="1100", started=RUN)
    assert next_cursor(after_first, ListPage(None), later) == {"mode": "incremental", "synced_to": cursors.iso(RUN)}


def test_incremental_window_starts_an_overlap_behind_and_ends_at_the_run_start() -> None:
    prev = {"mode": "incremental", "synced_to": cursors.iso(T0)}
    assert plan(prev, run_started=RUN, overlap=OVERLAP) == Window(T0 - OVERLAP, RUN, 0)


def test_window_pages_advance_by_id_and_close_at_the_run_start() -> None:
    prev = {"mode": "incremental", "synced_to": cursors.iso(T0)}
    window = plan(prev, run_started=RUN, overlap=OVERLAP)
    assert isinstance(window, Window)
    opened = cursors.start_window(prev, window)
    page1 = next_cursor(opened, WindowPage(max_id=5_200, more=True), RUN)
    assert page1 == {
        "mode": "incremental",
        "synced_to": cursors.iso(T0),
        "window": [cursors.iso(T0 - OVERLAP), cursors.iso(RUN)],
        "after_id": 5_200,
    }
    # A resumed run continues the same window after the same id, whatever its own start.
    assert plan(page1, run_started=RUN + timedelta(hours=3), overlap=OVERLAP) == Window(T0 - OVERLAP, RUN, 5_200)
    assert next_cursor(page1, WindowPage(max_id=9_000, more=False), RUN) == {
        "mode": "incremental",
        "synced_to": cursors.iso(RUN),
    }


def test_identical_timestamps_cannot_loop_because_the_id_only_grows() -> None:
    # 12,000 records share one modified date: each page moves after_id forward, never back.
    state = cursors.start_window(None, Window(T0, RUN, 0))
    ids_seen = []
    for page_max in (200, 400, 600):
        state = next_cursor(state, WindowPage(page_max, more=True), RUN)
        ids_seen.append(state["after_id"])
    assert ids_seen == [200, 400, 600]
    # A stale page that reports a lower id (e.g. a retried request) never moves the cursor back.
    assert next_cursor(state, WindowPage(100, more=True), RUN)["after_id"] == 600


def test_synced_to_never_passes_the_run_start() -> None:
    # A cursor from a clock that ran ahead (or a bad value) is pulled back to this run's start.
    ahead = {"mode": "incremental", "synced_to": cursors.iso(RUN + timedelta(days=1))}
    window = plan(ahead, run_started=RUN, overlap=OVERLAP)
    assert isinstance(window, Window)
    assert window.until == RUN
    assert window.since == RUN - OVERLAP
    done = next_cursor(cursors.start_window(ahead, window), WindowPage(None, more=False), RUN)
    assert cursors.parse_iso(done["synced_to"]) == RUN
    # A window saved by a run whose clock was ahead is also closed no later than this run's start.
    saved = {"mode": "incremental", "window": [cursors.iso(T0), cursors.iso(RUN + timedelta(hours=5))], "after_id": 1}
    assert cursors.parse_iso(next_cursor(saved, WindowPage(2, more=False), RUN)["synced_to"]) == RUN


def test_log_windows() -> None:
    history = T0 - timedelta(days=730)
    first = cursors.plan_log(None, run_started=RUN, overlap=OVERLAP, history_start=history)
    assert first == LogWindow(history, RUN, None)
    mid = cursors.next_log_cursor(None, first, "1000", RUN)
    assert mid == {"window": [cursors.iso(history), cursors.iso(RUN)], "position": "1000"}
    assert cursors.plan_log(mid, run_started=RUN + timedelta(hours=1), overlap=OVERLAP, history_start=history) == (
        LogWindow(history, RUN, "1000")
    )
    done = cursors.next_log_cursor(mid, first, None, RUN)
    assert done == {"synced_to": cursors.iso(RUN)}
    later = RUN + timedelta(minutes=15)
    assert cursors.plan_log(done, run_started=later, overlap=OVERLAP, history_start=history) == (
        LogWindow(RUN - OVERLAP, later, None)
    )


def test_backfill_states_reopen_a_window_from_the_date() -> None:
    since = T0 - timedelta(days=90)
    crm = cursors.backfill_state({"mode": "incremental", "synced_to": cursors.iso(T0)}, since, RUN)
    assert plan(crm, run_started=RUN, overlap=OVERLAP) == Window(since, RUN, 0)
    listing = {"mode": "full", "after": "5", "started": cursors.iso(T0)}
    assert cursors.backfill_state(listing, since, RUN) == listing
    log = cursors.log_backfill_state({"synced_to": cursors.iso(T0), "forms": {"g": "n"}}, since, RUN)
    assert log["forms"] == {"g": "n"}
    assert cursors.plan_log(log, run_started=RUN, overlap=OVERLAP, history_start=since) == LogWindow(since, RUN, None)


def test_due() -> None:
    assert cursors.due(None, RUN, timedelta(days=7))
    assert not cursors.due(cursors.iso(RUN - timedelta(days=6)), RUN, timedelta(days=7))
    assert cursors.due(cursors.iso(RUN - timedelta(days=7)), RUN, timedelta(days=7))


def test_rolling_slice_takes_all_when_they_fit() -> None:
    assert cursors.rolling_slice([3, 5, 9], after=5, size=3) == ([3, 5, 9], 0)


def test_rolling_slice_goes_on_after_the_position_and_wraps_around() -> None:
    ids = list(range(10, 20))
    first, after = cursors.rolling_slice(ids, after=0, size=4)
    second, after = cursors.rolling_slice(ids, after=after, size=4)
    third, after = cursors.rolling_slice(ids, after=after, size=4)
    assert (first, second, third) == ([10, 11, 12, 13], [14, 15, 16, 17], [18, 19, 10, 11])
    assert after == 11


@given(
    ids=st.lists(st.integers(1, 500), unique=True, max_size=60).map(sorted),
    after=st.integers(0, 500),
    size=st.integers(1, 20),
)
def test_rolling_slice_visits_every_id_in_turn(ids: list[int], after: int, size: int) -> None:
    seen: list[int] = []
    for _ in range(-(-len(ids) // size)):
        taken, after = cursors.rolling_slice(ids, after=after, size=size)
        assert len(taken) == min(size, len(ids)) == len(set(taken))
        seen += taken
    assert set(seen) == set(ids)
