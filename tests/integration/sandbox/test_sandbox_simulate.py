from __future__ import annotations

from hubsync.sandbox import generate_portal
from hubsync.sandbox.simulate import DAY_S, simulate


def test_a_simulated_week_moves_the_clock_and_adds_activity_deterministically() -> None:
    first = generate_portal(150, 5, activities_per_contact=5)
    second = generate_portal(150, 5, activities_per_contact=5)
    start = first.now
    views_before = len(first.page_views)
    a = simulate(first, days=7, seed=3, buyers=4)
    b = simulate(second, days=7, seed=3, buyers=4)
    assert a == b
    assert first.now == start + 7 * DAY_S * 1000
    assert len(a.buyers) == 4
    assert a.activities > 0
    assert len(first.page_views) - views_before == a.page_views


def test_buyers_walk_the_whole_sequence_within_the_period() -> None:
    portal = generate_portal(120, 9, activities_per_contact=5)
    start = portal.now
    result = simulate(portal, days=7, seed=1, buyers=3, browsers=0.0)
    # 3 buyers × (comparison + 2 × pricing page views, one webinar, one demo request)
    assert (result.page_views, result.participations, result.form_submissions) == (9, 3, 3)
    assert portal.now - start == 7 * DAY_S * 1000
