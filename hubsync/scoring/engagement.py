"""The engagement score (docs/scoring.md): decayed, capped signal points, pattern bonuses, inactivity, and surge.

The activities are first grouped by the signal they count for (a memo look-up per activity): from `Activity`
records (`engagement`, one contact) or from the rows of `hubsync preview`'s bulk read (`classify_rows`, many
contacts). The arithmetic then runs once, in `engagement_of`, per signal over sorted lists of timestamps, so both
ways give the same scores. The full rescore computes the same arithmetic for a whole batch of contacts at once over
arrays (bulk.py), equal to the bit; the unit tests compare the two. Intermediate results are tuples and
NamedTuples, much cheaper to create than frozen dataclasses; the public results (results.py) stay frozen
dataclasses.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import datetime
from functools import reduce
from operator import add, attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from hubsync.scoring.compiled import NO_SIGNAL

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from hubsync.records import Activity
    from hubsync.scoring.compiled import ActivityKey, CompiledModel, CompiledPattern

# (activity, signal index, age in seconds, weighted points): collected only for explanations.
HistoryRow = tuple["Activity", int, float, float]
# Signal index -> the timestamps of a contact's activities that count for it, oldest first (NO_SIGNAL: unmatched).
Buckets = dict[int, list[float]]

_occurred_at = attrgetter("occurred_at")
_timestamp = datetime.timestamp
_pow = math.pow


# (signal index, activities that counted for it, points after decay, contribution after the cap). A plain tuple:
# one is made per signal per contact, and a tuple literal costs a fraction of a NamedTuple or dataclass.
SignalSum = tuple[int, int, float, float]


class PatternSum(NamedTuple):
    pattern: int
    completed_ts: float
    decay: float
    counted: float


class AtLast(NamedTuple):
    """The contributions as of the newest activity that counted for a signal (`ts`; None without one), aligned with
    `EngagementResult.signals` and `.patterns`, and their sum (`total`, before inactivity). The reason states
    these, so that its text does not move with the clock while the contact is idle."""

    ts: float | None
    signals: tuple[float, ...]
    patterns: tuple[float, ...]
    total: float


class EngagementResult(NamedTuple):
    score: int
    signals: tuple[SignalSum, ...]
    patterns: tuple[PatternSum, ...]
    inactivity_penalty: int
    # Seconds since the newest positive activity; None without one.
    inactive_s: float | None
    # When the newest positive activity happened (a timestamp); None without one.
    last_positive_ts: float | None
    at_last: AtLast
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
    return engagement_of(_by_signal(activities, cm), cm, now_ts, created_ts)


def engagement_of(
    buckets: Buckets, cm: CompiledModel, now_ts: float, created_ts: float | None = None
) -> EngagementResult:
    """The engagement of a contact's activities as `classify_rows` or `engagement` group them (signal index ->
    timestamps, oldest first; NO_SIGNAL holds the unmatched). The dict is used up."""
    # A contact whose history is younger than the surge horizon has no baseline to rise from: it is new, not
    # surging, and its engagement score speaks for it.
    has_history = _first_ts(buckets, created_ts) <= now_ts - cm.surge_horizon_s
    hand_raise_ts = _hand_raise_ts(buckets, cm, now_ts)
    unmatched = buckets.pop(NO_SIGNAL, None)
    ignored = (len(unmatched) if unmatched else 0) + _drop_future(buckets, now_ts)
    # The newest activity that counts: the reason states the contributions as of then.
    last_ts = max([stamps[-1] for stamps in buckets.values()], default=None)
    last_edge = last_ts - cm.grace_s if last_ts is not None else 0.0
    signals: list[SignalSum] = []
    at_last: list[float] = []
    sequence: list[tuple[float, int]] = []
    signal_rows = cm.signal_rows
    total = total_at_last = recent = baseline = 0.0
    newest_positive = -math.inf
    grace_edge = now_ts - cm.grace_s
    window_edge = now_ts - cm.surge_window_s
    horizon_edge = now_ts - cm.surge_horizon_s
    inv_half_life = cm.inv_half_life_s
    # Config order, so that reasons list equal contributions the same way every time.
    for i in sorted(buckets):
        stamps = buckets[i]
        points, cap, decays, in_pattern = signal_rows[i]
        newest = stamps[-1]
        count = len(stamps)
        full = float(points * count)
        if decays and stamps[0] < grace_edge:
            weighted = _decayed(points, stamps, grace_edge, inv_half_life)
            then = _decayed(points, stamps, last_edge, inv_half_life) if stamps[0] < last_edge else full
        else:
            weighted = then = full
        counted = capped(weighted, cap)
        then = capped(then, cap)
        total += counted
        total_at_last += then
        signals.append((i, count, weighted, counted))
        at_last.append(then)
        if points > 0:
            newest_positive = max(newest_positive, newest)
            if newest > horizon_edge:
                # The surge windows are half-open on the old side: "the last 7 days" as of day 14 are days 8-14.
                in_window = bisect_right(stamps, window_edge)
                recent += capped(points * (count - in_window), cap)
                baseline += capped(points * (in_window - bisect_right(stamps, horizon_edge)), cap)
        if in_pattern:
            sequence.extend([(ts, i) for ts in stamps])

    patterns = patterns_in(sequence, cm, now_ts) if sequence else ()
    patterns_at_last = patterns_as_of(patterns, last_ts, cm)
    total += sum([p.counted for p in patterns])
    last_positive_ts = newest_positive if newest_positive != -math.inf else None
    inactive_s = now_ts - newest_positive if last_positive_ts is not None else None
    penalty = int(inactive_s // cm.inactivity_s) * cm.inactivity_points if inactive_s is not None else 0

    weekly = baseline * cm.surge_week_share
    return EngagementResult(
        round_score(total - penalty),
        tuple(signals),
        patterns,
        penalty,
        inactive_s,
        last_positive_ts,
        AtLast(last_ts, tuple(at_last), patterns_at_last, total_at_last + sum(patterns_at_last)),
        has_history and recent >= cm.surge_min_points and recent >= cm.surge_factor * weekly,
        recent,
        weekly,
        ignored,
        has_history,
        hand_raise_ts,
    )


def _drop_future(buckets: Buckets, now_ts: float) -> int:
    """Leaves out what has not happened yet as of `now` (scores are "as of" an instant); how many that were."""
    dropped = 0
    for i, stamps in list(buckets.items()):
        if stamps[-1] > now_ts:
            known = stamps[: bisect_right(stamps, now_ts)]
            dropped += len(stamps) - len(known)
            if known:
                buckets[i] = known
            else:
                del buckets[i]
    return dropped


def _decayed(points: int, stamps: list[float], grace_edge: float, inv_half_life: float) -> float:
    """A signal's points after decay: each activity's in full up to `grace_edge` (the instant minus the grace
    period), halving every half-life before it. The same arithmetic as `decay_factor`."""
    # Added left to right on every Python version (`sum` of floats compensates from 3.12 on), as bulk.py adds.
    return points * reduce(
        add, [f if (f := _pow(2.0, (ts - grace_edge) * inv_half_life)) < 1.0 else 1.0 for ts in stamps], 0
    )


def patterns_as_of(patterns: tuple[PatternSum, ...], last_ts: float | None, cm: CompiledModel) -> tuple[float, ...]:
    """The pattern bonuses as of `last_ts`: what decayed since then is counted back in."""
    if last_ts is None:
        return ()
    return tuple(
        [
            p.counted if p.decay == 1.0 else cm.patterns[p.pattern].bonus * decay_factor(p.completed_ts, last_ts, cm)
            for p in patterns
        ]
    )


def _first_ts(buckets: Buckets, created_ts: float | None) -> float:
    """When the contact's history starts: its first activity of any kind, or its create date if earlier."""
    first = min([stamps[0] for stamps in buckets.values()], default=math.inf)
    return first if created_ts is None else min(first, created_ts)


def _hand_raise_ts(buckets: Buckets, cm: CompiledModel, now_ts: float) -> float | None:
    """The newest hand-raiser activity up to `now` and within `hand_raiser_days`, or None."""
    since = now_ts - cm.hand_raiser_s
    recent = [ts for i in cm.hand_raisers for ts in buckets.get(i, ()) if since < ts <= now_ts]
    return max(recent, default=None)


def _by_signal(activities: Iterable[Activity], cm: CompiledModel) -> Buckets:
    """The activities' timestamps grouped by the signal they count for, oldest first; NO_SIGNAL (-1) holds the
    unmatched."""
    items = activities if isinstance(activities, list) else list(activities)
    found = _signals_of(list(map(cm.activity_key, items)), cm)
    buckets: Buckets = {}
    for i, ts in zip(found, map(_timestamp, map(_occurred_at, items)), strict=True):
        bucket = buckets.get(i)
        if bucket is None:
            buckets[i] = [ts]
        else:
            bucket.append(ts)
    for bucket in buckets.values():
        # Activities may come in any order; the database hands them over oldest first, which costs nothing here.
        bucket.sort()
    return buckets


def _signals_of(keys: list[ActivityKey], cm: CompiledModel) -> list[int]:
    """The signal of each activity key: looked up in the memo by C-level calls, classified only on a miss."""
    hits: list[int | None] = list(map(cm.memo.get, keys))
    if None not in hits:
        return cast("list[int]", hits)
    classify = cm.classify
    return [classify(key) if i is None else i for key, i in zip(keys, hits, strict=True)]


def classify_rows(
    rows: Iterable[Sequence[Any]], cm: CompiledModel, columns: Sequence[str] | None = None
) -> dict[int, Buckets]:
    """Activities as the full rescore reads them, without making an Activity of each: rows of (contact id,
    microseconds since 1970 UTC, kind, *columns), ordered by contact and time, grouped per contact as
    `engagement_of` takes them. The same timestamps as `Activity.occurred_at.timestamp()` (a whole number of
    microseconds divided by a million, rounded once), so both paths score alike. `columns` (default
    `cm.key_fields`) may hold more attributes than the model tests, in any order: rows read once for two models."""
    memo_get = cm.memo.get
    classify = cm.classify
    named = cm.key_fields if columns is None else columns
    key_of = itemgetter(2, *(3 + named.index(name) for name in cm.key_fields))
    out: dict[int, Buckets] = {}
    current: int | None = None
    buckets: Buckets = {}
    # One plain loop: faster here than C-level maps into intermediate lists (measured with bench/score.py).
    for row in rows:
        contact_id = row[0]
        if contact_id != current:
            current = contact_id
            buckets = out[contact_id] = {}
        key = key_of(row)
        i = memo_get(key)
        if i is None:
            i = classify(key)
        bucket = buckets.get(i)
        if bucket is None:
            buckets[i] = [row[1] / 1_000_000]
        else:
            bucket.append(row[1] / 1_000_000)
    return out


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


def patterns_in(sequence: list[tuple[float, int]], cm: CompiledModel, now_ts: float) -> tuple[PatternSum, ...]:
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
