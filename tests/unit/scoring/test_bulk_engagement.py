"""The full rescore's vectorised engagement (scoring/bulk.py) gives each contact exactly `engagement_of`'s result:
every field, floats to the bit, on activities at the awkward instants (the grace, window, horizon and hand-raise
edges and a microsecond either side of them, after `now`, at equal times), unmatched ones, negative and capped
signals, patterns, contacts without activity or create date, and activities of contacts outside the batch."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.scoring.bulk import ActivityArrays, activity_arrays, bulk_engagement
from hubsync.scoring.compiled import NO_SIGNAL, CompiledModel
from hubsync.scoring.engagement import EngagementResult, engagement_of
from tests.unit.scoring.scoring_builders import default_model

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOW_MICROS = int(NOW.timestamp()) * 1_000_000
DAY = 86_400_000_000


def _edges(cm: CompiledModel) -> list[int]:
    """Microseconds before `now` where a rule changes: each exactly, and a microsecond either side."""
    seconds = [cm.grace_s, cm.surge_window_s, cm.surge_horizon_s, cm.hand_raiser_s, cm.inactivity_s, 0.0]
    return [int(s * 1_000_000) + d for s in seconds for d in (-1, 0, 1)]


CM = default_model().compiled
SIGNALS = len(CM.signals)
EDGES = _edges(CM)
# Before now (up to two years), on an edge, or after now.
OFFSETS = st.one_of(
    st.integers(0, 730 * DAY), st.sampled_from(EDGES), st.integers(-3 * DAY, -1), st.sampled_from([0, DAY, 7 * DAY])
)
ACTIVITY = st.tuples(st.integers(NO_SIGNAL, SIGNALS - 1), OFFSETS)
CONTACT = st.tuples(st.lists(ACTIVITY, max_size=40), st.one_of(st.none(), OFFSETS))


def _expected(activities: list[tuple[int, int]], created: int | None) -> EngagementResult:
    """`engagement_of` of one contact's (signal, microseconds before now) and create date (the same)."""
    buckets: dict[int, list[float]] = {}
    for signal, offset in activities:
        buckets.setdefault(signal, []).append((NOW_MICROS - offset) / 1_000_000)
    for stamps in buckets.values():
        stamps.sort()
    created_ts = (NOW_MICROS - created) / 1_000_000 if created is not None else None
    return engagement_of(buckets, CM, NOW.timestamp(), created_ts)


def _check(contacts: list[tuple[list[tuple[int, int]], int | None]], seed: int) -> None:
    # Ids with gaps; one more contact (id 0) whose activities must be left out.
    ids = [10 + 3 * k for k in range(len(contacts))]
    rows = [(0, NOW_MICROS - DAY, 5)]
    for contact_id, (activities, _) in zip(ids, contacts, strict=True):
        rows.extend((contact_id, NOW_MICROS - offset, signal) for signal, offset in activities)
    random.Random(seed).shuffle(rows)  # noqa: S311  (test data)
    created = [(NOW_MICROS - c) / 1_000_000 if c is not None else None for _, c in contacts]
    expected = [_expected(activities, created_at) for activities, created_at in contacts]
    # In any order, and by contact and time as the full rescore reads them (equal times in any order).
    for order in (rows, sorted(rows, key=lambda r: (r[0], r[1]))):
        arrays = ActivityArrays(
            np.array([r[0] for r in order], dtype=np.int64),
            np.array([r[1] for r in order], dtype=np.int64) / 1_000_000,
            np.array([r[2] for r in order], dtype=np.int64),
        )
        assert bulk_engagement(ids, created, arrays, CM, NOW.timestamp()) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(CONTACT, max_size=8), st.integers(0, 1000))
def test_the_bulk_engagement_is_engagement_of_for_every_contact(
    contacts: list[tuple[list[tuple[int, int]], int | None]], seed: int
) -> None:
    _check(contacts, seed)


def test_every_signal_on_every_edge() -> None:
    """Each signal (and an unmatched activity) alone exactly on each edge and a microsecond either side, and beside
    an older activity of the same signal: what a random draw seldom hits."""
    contacts: list[tuple[list[tuple[int, int]], int | None]] = []
    for signal in range(NO_SIGNAL, SIGNALS):
        for offset in EDGES:
            contacts.append(([(signal, offset)], None))
            contacts.append(([(signal, offset), (signal, offset + 40 * DAY)], offset))
    _check(contacts, 3)


def test_long_histories_with_patterns_caps_and_surges() -> None:
    """Many activities per contact (long runs for the left-to-right sums), the pattern signals in order, bursts
    within the surge window on top of a baseline."""
    rng = random.Random(7)  # noqa: S311  (test data)
    index = {s.name: i for i, s in enumerate(CM.signals)}
    evaluation = [index["comparison_page_view"], index["webinar_attended"], index["pricing_page_view"]]
    contacts: list[tuple[list[tuple[int, int]], int | None]] = []
    for k in range(60):
        activities = [
            (rng.randrange(NO_SIGNAL, SIGNALS), rng.randrange(0, 730 * DAY)) for _ in range(rng.randrange(300))
        ]
        start = rng.randrange(0, 60 * DAY)
        activities += [(signal, start - step * DAY) for step, signal in enumerate(evaluation)]
        activities += [(index["pricing_page_view"], rng.randrange(0, 6 * DAY)) for _ in range(k % 5)]
        contacts.append((activities, rng.choice([None, 800 * DAY, 10 * DAY])))
    for k in range(20):
        # Quiet for a year, then a burst within the surge window.
        burst = [(rng.randrange(SIGNALS), rng.randrange(0, 6 * DAY)) for _ in range(5 + k)]
        contacts.append(([(index["email_open"], 400 * DAY), *burst], None))
        # Inactive for months.
        contacts.append(([(index["demo_request"], (100 + k) * DAY), (NO_SIGNAL, k * DAY)], None))
    _check(contacts, 1)
    got = [_expected(a, c) for a, c in contacts]
    # The data reaches what the comparison is for.
    assert sum(1 for r in got if r.patterns) > 30
    assert sum(1 for r in got if r.surge) > 0
    assert any(counted != weighted for r in got for _, _, weighted, counted in r.signals)
    assert sum(1 for r in got if r.inactivity_penalty) > 0


def test_activity_keys_are_classified_like_activities() -> None:
    """`activity_arrays` finds each row's signal as `CompiledModel.classify` does, whatever columns the read holds
    and in which order, and turns microseconds into the timestamps of `classify_rows`."""
    cm = CompiledModel(default_model())
    columns = ("status", *reversed(cm.key_fields), "title")
    activities: list[dict[str, str]] = [
        {"kind": "page_view", "url": "https://www.acme.example/preise"},
        {"kind": "form_submission", "form_name": "E-Book: Lead Scoring"},
        {"kind": "email_event", "event_type": "bounce", "status": "hard"},
        {"kind": "marketing_event", "event_type": "attended"},
        {"kind": "page_view", "url": "https://www.acme.example/preise"},
        {"kind": "unknown_kind"},
    ]
    rows = [(a["kind"], *(a.get(c) for c in columns)) for a in activities]
    # Each row's key as its position among the distinct keys, as the read hands them over (not in row order).
    keys = sorted(set(rows), key=str)
    code = np.array([keys.index(row) for row in rows], dtype=np.int64)
    micros = np.array([1_780_000_000_123_457, 1, 0, -5, 3, 4], dtype=np.int64)
    arrays = activity_arrays(np.array([1, 1, 2, 2, 3, 3]), micros, code, keys, cm, columns=columns)
    expected = [
        CompiledModel(default_model()).classify((a["kind"], *(a.get(f) for f in cm.key_fields))) for a in activities
    ]
    assert arrays.signal.tolist() == expected
    assert len(set(expected)) == 5
    assert arrays.ts.tolist() == [m / 1_000_000 for m in micros.tolist()]
