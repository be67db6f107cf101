"""Stream behaviours that the convergence tests do not single out: the events API missing on a non-Enterprise hub,
search index lag covered by the overlap, and the periodic reconciliation of every association."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from structlog.testing import capture_logs

from hubsync.jobs.pull import PullOptions
from hubsync.sandbox.server import start_sandbox

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


def test_without_events_api_it_says_so_once_and_goes_on(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=100, seed=3, rate_limits=False, per_ten_seconds=UNPACED, tier="professional") as sb:
        puller = make_puller(sb)
        with capture_logs() as first_logs:
            first = puller()
        sb.portal.advance(3600)
        with capture_logs() as second_logs:
            second = puller()
        events_calls = puller.client.stats().by_operation.get("web events", 0)
        with puller.engine.connect() as conn:
            views = conn.execute(sa.text("SELECT count(*) FROM activity WHERE kind = 'page_view'")).scalar_one()
    said = [e for e in first_logs + second_logs if e["event"] == "pull.page_views_unavailable"]
    assert len(said) == 1
    assert said[0]["log_level"] == "warning"
    # Asked once; the next run remembers and does not ask again (until the periodic reconciliation).
    assert events_calls == 1
    assert views == 0
    assert first.counts["contacts"].stored > 0
    assert second.stopped is None
    # Everything else was pulled.
    want = expected(sb.portal, run_started=puller.now(), first_run_started=puller.now() - timedelta(hours=1))
    want["activities"] = {k: v for k, v in want["activities"].items() if v[2] != "page_view"}
    assert differences(want, stored(puller.engine)) == {}


def test_index_lag_is_covered_by_the_overlap(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=150, seed=8, rate_limits=False, per_ten_seconds=UNPACED, index_delay_seconds=120) as sb:
        puller = make_puller(sb, PullOptions(overlap=timedelta(minutes=10)))
        first = puller.now()
        sb.portal.advance(300)  # older records are all indexed
        puller()
        sb.portal.advance(600)
        # A new record: search does not show a record created within the index delay (a changed one it shows as
        # it was before), so this run cannot see it; the overlap of the next run finds it.
        target = sb.portal.create("contacts", {"email": "lag@example.com", "jobtitle": "Head of Lag"}).id
        sb.portal.advance(30)
        puller()  # the record is 30 s old: search does not show it yet
        with puller.engine.connect() as conn:
            found = conn.execute(sa.text("SELECT count(*) FROM contact WHERE id = :i"), {"i": target}).scalar_one()
        assert found == 0
        sb.portal.advance(900)
        puller()  # the next run re-reads 10 minutes behind its cursor and finds it
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)


def test_associations_of_inactive_records_are_reconciled_periodically(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=150, seed=9, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        puller = make_puller(sb, PullOptions(recent=timedelta(days=1), full_reconcile_every=timedelta(days=7)))
        first = puller.now()
        puller()
        portal = sb.portal
        viewers = portal.page_views.col("contact")
        recent = {portal.resolve_contact(viewers[i]) for i in portal.page_views.between(portal.now - 86_400_000, None)}
        quiet = next(
            c for c in portal.stores["contacts"].live if c not in recent and portal.assoc.of("contacts", c, "companies")
        )
        for company in list(portal.assoc.of("contacts", quiet, "companies")):
            portal.dissociate("contacts", quiet, "companies", company)
        portal.advance(3600)
        puller()  # not recently active, not changed: its associations are not read in an ordinary run
        assert differences(
            expected(portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        ).keys() == {"associations"}
        portal.advance(7 * 86_400)
        puller()  # a week later every association is reconciled
        diff = differences(expected(portal, run_started=puller.now(), first_run_started=first), stored(puller.engine))
        assert diff == {}, repr(diff)
