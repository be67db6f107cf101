"""The engagement score (scoring.md §2): decayed, capped signal points, pattern bonuses, inactivity, and surge.

This is the hot loop of a rescore (tens of activities per contact, a hundred thousand contacts), so it works on
plain lists indexed by signal and creates no object per activity unless an explanation asks for the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubsync.scoring.compiled import activity_key

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hubsync.records import Activity
    from hubsync.scoring.compiled import CompiledModel, CompiledPattern

# (activity, signal index, age in seconds, weighted points): collected only for explanations.
HistoryRow = tuple["Activity", int, float, float]


@dataclass(frozen=True, slots=True)
class SignalSum:
    signal: int
    count: int
    weighted: float
    counted: float


@dataclass(frozen=True, slots=True)
class PatternSum:
    pattern: int
    completed_ts: float
    decay: float
    counted: float


@dataclass(frozen=True, slots=True)
class EngagementResult:
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


def capped(total: float, cap: int | None) -> float:
    """A signal's contribution: its total, limited in size by its cap (for negative signals, from below)."""
    if cap is None:
        return total
    return min(total, cap) if total >= 0 else max(total, -cap)


def decay_factor(age_s: float, cm: CompiledModel) -> float:
    if age_s <= cm.grace_s:
        return 1.0
    return math.pow(0.5, (age_s - cm.grace_s) / cm.half_life_s)


def round_score(value: float) -> int:
    # Half up, not Python's half-to-even, so that 44.5 and 45.5 both round the way an admin expects.
    return max(0, min(100, math.floor(value + 0.5)))


class _Sums:
    """Per-signal running totals of one contact (lists indexed by signal)."""

    __slots__ = ("baseline", "counts", "ignored", "recent", "sequence", "weighted", "youngest_positive")

    def __init__(self, n: int) -> None:
        self.weighted = [0.0] * n
        self.counts = [0] * n
        # Undecayed points of positive signals in the surge window and in the baseline before it.
        self.recent = [0.0] * n
        self.baseline = [0.0] * n
        # (timestamp, signal) of the activities that patterns look at.
        self.sequence: list[tuple[float, int]] = []
        # Age in seconds of the newest activity that earned positive points.
        self.youngest_positive = math.inf
        self.ignored = 0


def engagement(
    activities: Iterable[Activity],
    cm: CompiledModel,
    now_ts: float,
    history: list[HistoryRow] | None = None,
) -> EngagementResult:
    sums = _accumulate(activities, cm, now_ts, history)
    signals = []
    total = 0.0
    recent = 0.0
    baseline = 0.0
    for i, count in enumerate(sums.counts):
        if count:
            cap = cm.signals[i].cap
            counted = capped(sums.weighted[i], cap)
            total += counted
            signals.append(SignalSum(i, count, sums.weighted[i], counted))
            recent += capped(sums.recent[i], cap)
            baseline += capped(sums.baseline[i], cap)

    patterns = _patterns(sums.sequence, cm, now_ts) if sums.sequence else ()
    total += sum(p.counted for p in patterns)

    penalty = 0
    inactive_s = None
    if sums.youngest_positive != math.inf:
        inactive_s = sums.youngest_positive
        penalty = int(inactive_s // cm.inactivity_s) * cm.model.inactivity.points
    total -= penalty

    surge = cm.model.surge
    weekly = baseline * surge.window_days / surge.baseline_days
    return EngagementResult(
        score=round_score(total),
        signals=tuple(signals),
        patterns=patterns,
        inactivity_penalty=penalty,
        inactive_s=inactive_s,
        surge=recent >= surge.min_points and recent >= surge.factor * weekly,
        recent_points=recent,
        baseline_weekly_points=weekly,
        ignored=sums.ignored,
    )


def _accumulate(
    activities: Iterable[Activity],
    cm: CompiledModel,
    now_ts: float,
    history: list[HistoryRow] | None,
) -> _Sums:
    sums = _Sums(len(cm.signals))
    weighted_sums, counts, recent, baseline, sequence = (
        sums.weighted,
        sums.counts,
        sums.recent,
        sums.baseline,
        sums.sequence,
    )
    youngest_positive = math.inf
    ignored = 0
    # Locals: attribute look-ups cost more than the arithmetic in this loop.
    memo_get = cm.memo.get
    classify = cm.classify
    points_of = cm.points
    decays_of = cm.decays
    grace, half_life = cm.grace_s, cm.half_life_s
    window, horizon = cm.surge_window_s, cm.surge_horizon_s
    in_pattern = cm.pattern_signals
    for activity in activities:
        ts = activity.occurred_at.timestamp()
        age = now_ts - ts
        key = activity_key(activity)
        i = memo_get(key)
        if i is None:
            i = classify(key)
        # Not matched, or not yet happened as of `now` (scores are "as of" an instant).
        if i < 0 or age < 0.0:
            ignored += 1
            continue
        points = points_of[i]
        weighted = points * math.pow(0.5, (age - grace) / half_life) if age > grace and decays_of[i] else points
        weighted_sums[i] += weighted
        counts[i] += 1
        if points > 0:
            youngest_positive = min(age, youngest_positive)
            # The surge windows are half-open on the old side: "the last 7 days" as of day 14 are days 8-14.
            if age < window:
                recent[i] += points
            elif age < horizon:
                baseline[i] += points
        if i in in_pattern:
            sequence.append((ts, i))
        if history is not None:
            history.append((activity, i, age, weighted))
    sums.youngest_positive = youngest_positive
    sums.ignored = ignored
    return sums


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
        factor = decay_factor(now_ts - completed, cm) if pattern.decays else 1.0
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
