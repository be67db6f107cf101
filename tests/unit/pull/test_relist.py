"""When a window is listed instead (`relist.faster_to_list`), at its boundary; and the relisting's cursor: it keeps
the stream's `synced_to` while it runs, survives a resumption, and closes at the run's start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsync.hubspot.client_settings import ClientSettings
from hubsync.hubspot.cursors import CrmCursor, Listing, ListPage, next_cursor, plan, relisting
from hubsync.hubspot.relist import Rates, faster_to_list, listing_seconds, window_seconds
from hubsync.secret import Secret

# Enterprise at hubsync's pace: 190 per 10 s × 0.9 = 17.1 requests a second; search 5 a second.
ENTERPRISE = Rates(requests=17.1, searches=5)
T0 = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
RUN = T0 + timedelta(hours=1)


def test_rates_are_what_the_client_paces_to() -> None:
    settings = ClientSettings(access_token=Secret("t"), requests_per_10s=190, pace_fraction=0.9, search_per_second=5)
    assert Rates.of(settings) == Rates(requests=171 / 10, searches=5)


def test_seconds_count_pages_after_the_first_and_property_chunks() -> None:
    # 1,001 matching: 6 search pages, the first already read → 5 more at 5/s.
    assert window_seconds(1_001, engagement=False, rates=ENTERPRISE) == 1.0
    assert window_seconds(200, engagement=False, rates=ENTERPRISE) == 0.0
    # Engagements add an association call per page on the general budget, which is not the slower one here...
    assert window_seconds(1_001, engagement=True, rates=ENTERPRISE) == 1.0
    # ...unless the general budget is the tighter one.
    assert window_seconds(1_001, engagement=True, rates=Rates(requests=2, searches=5)) == 2.5
    assert listing_seconds(1_001, chunks=1, rates=Rates(requests=10, searches=5)) == 1.1
    assert listing_seconds(1_001, chunks=2, rates=Rates(requests=10, searches=5)) == 2.2


def test_the_boundary_at_enterprise_rates() -> None:
    # 10,000 stored contacts list in 100 pages = 5.85 s. A window of n matching costs (ceil(n/200) - 1) / 5 s:
    # 30 more pages (6 s) beat it, 29 (5.8 s) do not.
    stored = 10_000
    assert not faster_to_list(29 * 200 + 200, stored, chunks=1, engagement=False, rates=ENTERPRISE)
    assert faster_to_list(30 * 200 + 200, stored, chunks=1, engagement=False, rates=ENTERPRISE)
    # Two property chunks double a listing (11.7 s): slower than 49 more search pages (9.8 s) even when the whole
    # stream matches, which one chunk is not.
    assert faster_to_list(10_000, stored, chunks=1, engagement=False, rates=ENTERPRISE)
    assert not faster_to_list(10_000, stored, chunks=2, engagement=False, rates=ENTERPRISE)


def test_a_listing_reads_at_least_what_matches() -> None:
    # Nothing stored yet but 20,000 new records match: the listing is as large as the window. At 10 requests a
    # second a list page of 100 costs what a search page of 200 does at 5: 200 pages (20 s) against 99 (19.8 s).
    assert not faster_to_list(20_000, 0, chunks=1, engagement=False, rates=Rates(requests=10, searches=5))


def test_no_total_no_switch() -> None:
    assert not faster_to_list(None, 50_000, chunks=1, engagement=False, rates=ENTERPRISE)


def test_a_relisting_keeps_synced_to_resumes_and_closes_at_the_run_start() -> None:
    before = CrmCursor(mode="incremental", synced_to=T0)
    started = relisting(before, RUN)
    assert started.to_json() == {"mode": "full", "after": None, "started": "2025-06-02T07:00:00.000Z",
                                 "synced_to": "2025-06-02T06:00:00.000Z"}  # fmt: skip
    assert plan(started, run_started=RUN, overlap=timedelta(minutes=10)) == Listing(after=None, started=RUN)
    page = next_cursor(started, ListPage("500"), RUN)
    assert page == CrmCursor(mode="full", after="500", started=RUN, synced_to=T0)
    # Stored and read back (a run stopped in the middle), then resumed by a later run: same listing, same start.
    stored = CrmCursor.from_json(page.to_json())
    assert stored == page
    later = RUN + timedelta(hours=2)
    assert plan(stored, run_started=later, overlap=timedelta(minutes=10)) == Listing(after="500", started=RUN)
    # Its last page sets synced_to to when it began: the next window reads what changed while it ran.
    assert next_cursor(stored, ListPage(None), later) == CrmCursor(mode="incremental", synced_to=RUN)
