"""The engagement score (docs/scoring.md): decayed, capped signal points, pattern bonuses, inactivity, and surge.

This is the hot path of a rescore (tens of activities per contact, a hundred thousand contacts). The work per
activity is done by C-level `map` calls (memo look-up of its signal, its timestamp) and one grouping loop; the
arithmetic then runs per signal over plain lists of timestamps. Intermediate results are tuples and NamedTuples,
much cheaper to create than frozen dataclasses; the public results (results.py) stay frozen dataclasses.
"""

from __future__ import annotations

import math
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple, cast

from hubsync.scoring.compiled import NO_SIGNAL

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hubsync.records import Activity
    from hubsync.scoring.compiled import CompiledModel, CompiledPattern

# (activity, signal index, age in seconds, weighted points): collected only for explanations.
HistoryRow = tuple["Activity", int, float, float]

_occurred_at = attrgetter("occurred_at")
_timestamp = datetime.timestamp


# (signal index, activities that counted for it, points after decay, contribution after the cap). A plain tuple:
# one is made per signal per contact, and a tuple literal costs a fraction of a NamedTuple or dataclass.
SignalSum = tuple[int, int, float, float]


class PatternSum(NamedTuple):
    pattern: int
    completed_ts: float
    decay: float
    counted: float


class EngagementResult(NamedTuple):
    score: int
    signals: tuple[SignalSum, ...]
    patterns: tuple[PatternSum, ...]
    inactivity_penalty: int
    # Seconds since the newest positive activity; None without one.
    inactive_s: float | None
    surge: bool
    recent_points: float
    baseline_weekly_points: float
    ignored: int
    # Whether the contact's history reaches back over the whole surge horizon (no surge without one).
    has_history: bool
    # The newest hand-raiser activity within `handoff.hand_raiser_days`; None without one.
    hand_raise_ts: float | None


def capped(total: float, cap: int | None) -> float:
    """A signal's contribution: its total, limited in size by its cap (for negative signals, from below)."""
    if cap is None:
        return total
    return min(total, cap) if total >= 0 else max(total, -cap)


def decay_factor(ts: float, now_ts: float, cm: CompiledModel) -> float:
    """1 within the grace period, then halving every half-life: 0.5 ** ((age - grace) / half_life).

    Written as 2 ** ((ts - (now - grace)) / half_life), capped at 1, which is the same number: the bulk path
    computes it this way for a whole list of timestamps, and explanations must show exactly what it counted.
    """
    return min(1.0, math.pow(2.0, (ts - (now_ts - cm.grace_s)) * cm.inv_half_life_s))


def round_score(value: float) -> int:
    # Half up, not Python's half-to-even, so that 44.5 and 45.5 both round the way an admin expects.
    return max(0, min(100, math.floor(value + 0.5)))


def engagement(
    activities: Iterable[Activity], cm: CompiledModel, now_ts: float, created_ts: float | None = None
) -> EngagementResult:
    """`created_ts`: the contact's create date, which counts as the start of its history like a first activity."""
    buckets = _by_signal(activities, cm)
    # A contact whose history is younger than the surge horizon has no baseline to rise from: it is new, not
    # surging, and its engagement score speaks for it.
    has_history = _first_ts(buckets, created_ts) <= now_ts - cm.surge_horizon_s
    hand_raise_ts = _hand_raise_ts(buckets, cm, now_ts)
    unmatched = buckets.pop(NO_SIGNAL, None)
    ignored = len(unmatched) if unmatched else 0
    signals: list[SignalSum] = []
    sequence: list[tuple[float, int]] = []
    signal_rows = cm.signal_rows
    total = recent = baseline = 0.0
    newest_positive = -math.inf
    grace_edge = now_ts - cm.grace_s
    window_edge = now_ts - cm.surge_window_s
    horizon_edge = now_ts - cm.surge_horizon_s
    inv_half_life = cm.inv_half_life_s
    pow_ = math.pow
    # Config order, so that reasons list equal contributions the same way every time.
    for i in sorted(buckets):
        stamps = buckets[i]
        points, cap, decays, in_pattern = signal_rows[i]
        newest = max(stamps)
        if newest > now_ts:
            # Not yet happened as of `now`: scores are "as of" an instant.
            known = [ts for ts in stamps if ts <= now_ts]
            ignored += len(stamps) - len(known)
            if not known:
                continue
            stamps, newest = known, max(known)
        count = len(stamps)
        if decays and min(stamps) < grace_edge:
            weighted = points * sum(
                [f if (f := pow_(2.0, (ts - grace_edge) * inv_half_life)) < 1.0 else 1.0 for ts in stamps]
            )
        else:
            weighted = float(points * count)
        counted = weighted if cap is None else (min(weighted, cap) if weighted >= 0 else max(weighted, -cap))
        total += counted
        signals.append((i, count, weighted, counted))
        if points > 0:
            newest_positive = max(newest_positive, newest)
            if newest > horizon_edge:
                # The surge windows are half-open on the old side: "the last 7 days" as of day 14 are days 8-14.
                recent += capped(points * sum(1 for ts in stamps if ts > window_edge), cap)
                baseline += capped(points * sum(1 for ts in stamps if horizon_edge < ts <= window_edge), cap)
        if in_pattern:
            sequence.extend([(ts, i) for ts in stamps])

    patterns = _patterns(sequence, cm, now_ts) if sequence else ()
    total += sum([p.counted for p in patterns])

    penalty = 0
    inactive_s = None
    if newest_positive != -math.inf:
        inactive_s = now_ts - newest_positive
        penalty = int(inactive_s // cm.inactivity_s) * cm.inactivity_points
    total -= penalty

    weekly = baseline * cm.surge_week_share
    return EngagementResult(
        round_score(total),
        tuple(signals),
        patterns,
        penalty,
        inactive_s,
        has_history and recent >= cm.surge_min_points and recent >= cm.surge_factor * weekly,
        recent,
        weekly,
        ignored,
        has_history,
        hand_raise_ts,
    )


def _first_ts(buckets: dict[int, list[float]], created_ts: float | None) -> float:
    """When the contact's history starts: its first activity of any kind, or its create date if earlier."""
    first = min([min(stamps) for stamps in buckets.values()], default=math.inf)
    return first if created_ts is None else min(first, created_ts)


def _hand_raise_ts(buckets: dict[int, list[float]], cm: CompiledModel, now_ts: float) -> float | None:
    """The newest hand-raiser activity up to `now` and within `hand_raiser_days`, or None."""
    since = now_ts - cm.hand_raiser_s
    recent = [ts for i in cm.hand_raisers for ts in buckets.get(i, ()) if since < ts <= now_ts]
    return max(recent, default=None)


def _by_signal(activities: Iterable[Activity], cm: CompiledModel) -> dict[int, list[float]]:
    """The activities' timestamps grouped by the signal they count for; NO_SIGNAL (-1) holds the unmatched."""
    items = activities if isinstance(activities, list) else list(activities)
    activity_key = cm.activity_key
    memo_hits: list[int | None] = list(map(cm.memo.get, map(activity_key, items)))
    if None in memo_hits:
        classify = cm.classify
        found = [classify(activity_key(a)) if i is None else i for a, i in zip(items, memo_hits, strict=True)]
    else:
        found = cast("list[int]", memo_hits)
    buckets: dict[int, list[float]] = {}
    for i, ts in zip(found, map(_timestamp, map(_occurred_at, items)), strict=True):
        bucket = buckets.get(i)
        if bucket is None:
            buckets[i] = [ts]
        else:
            bucket.append(ts)
    return buckets


def history_rows(activities: Iterable[Activity], cm: CompiledModel, now_ts: float) -> list[HistoryRow]:
    """Each matched activity up to `now` with its signal, age and weighted points (for explanations only)."""
    rows = []
    for activity in activities:
        i = cm.signal_of(activity)
        ts = activity.occurred_at.timestamp()
        if i < 0 or ts > now_ts:
            continue
        points, _, decays, _ = cm.signal_rows[i]
        factor = decay_factor(ts, now_ts, cm) if decays else 1.0
        rows.append((activity, i, now_ts - ts, points * factor))
    return rows


def _patterns(sequence: list[tuple[float, int]], cm: CompiledModel, now_ts: float) -> tuple[PatternSum, ...]:
    present = {i for _, i in sequence}
    sequence.sort()
    found = []
    for index, pattern in enumerate(cm.patterns):
        if not present.issuperset(pattern.signals):
            continue
        completed = _latest_completion(sequence, pattern)
        if completed is None:
            continue
        factor = decay_factor(completed, now_ts, cm) if pattern.decays else 1.0
        found.append(PatternSum(index, completed, factor, pattern.bonus * factor))
    return tuple(found)


def _latest_completion(sequence: list[tuple[float, int]], pattern: CompiledPattern) -> float | None:
    """When the newest complete run of the pattern's signals, in order and within its window, ended.

    The newest run gives the largest (least decayed) bonus. For a given last step, taking the latest possible
    earlier step each time keeps the run as short as it can be, so if that run does not fit the window, none does.
    """
    steps = pattern.signals
    for end in range(len(sequence) - 1, -1, -1):
        end_ts, signal = sequence[end]
        if signal != steps[-1]:
            continue
        cursor = end
        for step in reversed(steps[:-1]):
            cursor -= 1
            while cursor >= 0 and sequence[cursor][1] != step:
                cursor -= 1
            if cursor < 0 or end_ts - sequence[cursor][0] > pattern.within_seconds:
                break
        else:
            return end_ts
    return None
