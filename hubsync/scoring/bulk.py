"""The engagement of a whole batch of contacts at once (the full rescore): `engagement_of`'s arithmetic over numpy
arrays of all their activities, giving the same `EngagementResult` for each contact, equal to the bit.

Equal to the bit because every floating-point value is made by the same IEEE operations in the same order as in
`engagement_of`: the decay factor elementwise by `math.pow` itself (numpy's `power` is vectorised on some CPUs
and differs there in the last bit), a signal's decayed points added left to right (`_sequential_sums`, not numpy's
pairwise reductions), the signals' contributions added in signal order (absent signals add 0.0, which changes
nothing).
What is counted, not added (counts, windows, newest and oldest times), is order-free. Patterns (ordered runs of
signals) are found per contact by `engagement.patterns_in`, only for contacts with activities of a pattern's signals.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from hubsync.scoring.compiled import NO_SIGNAL
from hubsync.scoring.engagement import AtLast, EngagementResult, PatternSum, patterns_as_of, patterns_in, round_score

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hubsync.scoring.compiled import CompiledModel

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


class ActivityArrays(NamedTuple):
    """A batch's activities, one entry per activity: its contact's id, its time (seconds since 1970 UTC: the
    microseconds divided by a million, as `classify_rows` and `Activity.occurred_at.timestamp()` give it) and the
    signal it counts for (NO_SIGNAL: none)."""

    contact: Ints
    ts: Floats
    signal: Ints


def activity_arrays(
    contact: Ints,
    micros: Ints,
    code: Ints,
    keys: Sequence[tuple[Any, ...]],
    cm: CompiledModel,
    *,
    columns: Sequence[str],
) -> ActivityArrays:
    """A batch's activities as the full rescore reads them (`store.reads.activity_columns`: contact ids, whole
    microseconds since 1970 UTC, and each activity's key, (kind, *columns), as its position in `keys`) as arrays,
    each key's signal looked up in the model's memo (a few dozen distinct keys) once. `columns` may hold more
    attributes than the model tests, in any order."""
    if tuple(columns) == cm.key_fields:
        own = keys
    else:
        own = list(map(itemgetter(0, *(1 + list(columns).index(name) for name in cm.key_fields)), keys))
    signals = [cm.memo.get(key) for key in own]
    signals = [cm.classify(key) if i is None else i for key, i in zip(own, signals, strict=True)]
    # Exactly Python's int / int for values below 2**53: both converted exactly, then one rounded division.
    return ActivityArrays(contact, micros / 1_000_000, np.array(signals, dtype=np.int64)[code])


def _starts(keys: Ints) -> Ints:
    """Where each run of equal values of a sorted array begins."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def _sequential_sums(values: Floats, starts: Ints, lengths: Ints) -> Floats:
    """The sum of each group values[start:start + length], added left to right from 0 as Python's `sum` adds on
    3.11 (and `engagement._decayed`'s `reduce` on every version). numpy's own reductions add pairwise, which can
    differ in the last bit. One step per position: the groups still that long, longest first."""
    sums = np.zeros(len(starts))
    if not len(starts):
        return sums
    order = np.argsort(-lengths, kind="stable")
    first = starts[order]
    longest = int(lengths[order[0]])
    # Groups longer than k, for each position k (the lengths in descending order).
    active = np.searchsorted(-lengths[order], -np.arange(longest), side="left")
    ordered = np.zeros(len(starts))
    for k in range(longest):
        m = int(active[k])
        ordered[:m] += values[first[:m] + k]
    sums[order] = ordered
    return sums


def _capped(total: Floats, cap: Floats) -> Floats:
    """`engagement.capped` elementwise; NaN in `cap` for a signal without one."""
    limited = np.where(total >= 0, np.minimum(total, cap), np.maximum(total, -cap))
    return np.where(np.isnan(cap), total, limited)


def _decay(ts: Floats, edge: Floats | float, cm: CompiledModel) -> Floats:
    """`engagement._decayed`'s factor of each time: 2 ** ((ts - edge) / half-life), at most 1."""
    exponent = (ts - edge) * cm.inv_half_life_s
    factor = np.ones_like(exponent)
    # Only what lies before the edge decays. Each factor comes from the C library's `pow`, as `math.pow` makes it:
    # numpy's own `power` is vectorised on some CPUs (AVX-512) and differs from it in the last bit there, which could
    # move a score across a rounding edge and away from the per-contact path.
    past = exponent < 0.0
    factor[past] = np.fromiter(map(math.pow, repeat(2.0), exponent[past].tolist()), dtype=np.float64)
    return factor


class _Signals(NamedTuple):
    """The model's signals as arrays, by signal index."""

    points: Ints
    cap: Floats  # NaN: no cap
    decays: Bools
    in_pattern: Bools
    hand_raiser: Bools


def _signal_table(cm: CompiledModel) -> _Signals:
    rows = cm.signal_rows
    return _Signals(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([math.nan if r[1] is None else r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=bool),
        np.array([r[3] for r in rows], dtype=bool),
        np.array([i in cm.hand_raisers for i in range(len(rows))], dtype=bool),
    )


class _Sorted(NamedTuple):
    """Activities by contact (its position in the batch), signal and time: each (contact, signal) a run of its
    times, oldest first, as `engagement_of`'s buckets hold them."""

    owner: Ints
    ts: Floats
    signal: Ints

    def where(self, mask: Bools) -> _Sorted:
        return _Sorted(self.owner[mask], self.ts[mask], self.signal[mask])


class _Groups(NamedTuple):
    """One entry per (contact, signal) with counting activities, by contact and signal: what `engagement_of`
    computes per signal."""

    starts: Ints
    lengths: Ints
    owner: Ints
    signal: Ints
    weighted: Floats
    counted: Floats
    # The contribution as of the contact's newest counting activity.
    then: Floats
    newest: Floats


class _PerContact(NamedTuple):
    total: Floats
    total_at_last: Floats
    last: Floats  # NaN: nothing counts
    newest_positive: Floats  # -inf: none
    hand_raise: Floats  # -inf: none
    recent: Floats
    weekly: Floats
    surge: Bools
    has_history: Bools
    ignored: Ints


def bulk_engagement(
    contact_ids: Sequence[int],
    created_ts: Sequence[float | None],
    activities: ActivityArrays,
    cm: CompiledModel,
    now_ts: float,
) -> list[EngagementResult]:
    """`engagement_of` for each contact of `contact_ids` (ascending; `created_ts` aligned with them) over the
    activities of `activities` that belong to them (those of other contacts are left out), in the same order."""
    n = len(contact_ids)
    table = _signal_table(cm)
    acts = _own_sorted(contact_ids, activities)
    # Before anything is left out: the history's start (any activity, unmatched and future ones too) and the
    # newest hand-raise.
    first = np.full(n, math.inf)
    hand_raise = np.full(n, -math.inf)
    if len(acts.owner):
        starts = _starts(acts.owner)
        first[acts.owner[starts]] = np.minimum.reduceat(acts.ts, starts)
        matched = acts.signal != NO_SIGNAL
        since = now_ts - cm.hand_raiser_s
        raising = matched & table.hand_raiser[np.where(matched, acts.signal, 0)]
        raising &= (acts.ts > since) & (acts.ts <= now_ts)
        hand_raise[acts.owner[starts]] = np.maximum.reduceat(np.where(raising, acts.ts, -math.inf), starts)
    created = np.array([math.inf if c is None else c for c in created_ts], dtype=np.float64)
    has_history = np.minimum(first, created) <= now_ts - cm.surge_horizon_s

    counting = (acts.signal != NO_SIGNAL) & (acts.ts <= now_ts)
    ignored = np.bincount(acts.owner[~counting], minlength=n)
    acts = acts.where(counting)
    # The newest counting activity of each contact: the reason states the contributions as of then.
    last = np.full(n, math.nan)
    if len(acts.owner):
        starts = _starts(acts.owner)
        last[acts.owner[starts]] = np.maximum.reduceat(acts.ts, starts)
    groups = _groups(acts, last, table, cm, now_ts)

    # Contributions added in signal order, as `engagement_of` adds them.
    total = np.zeros(n)
    total_at_last = np.zeros(n)
    for i in range(len(table.points)):
        rows = groups.signal == i
        column = np.zeros(n)
        column[groups.owner[rows]] = groups.counted[rows]
        total += column
        column = np.zeros(n)
        column[groups.owner[rows]] = groups.then[rows]
        total_at_last += column

    recent, weekly = _surge_points(acts, groups, table, cm, now_ts, n=n)
    surge = has_history & (recent >= cm.surge_min_points) & (recent >= cm.surge_factor * weekly)
    positive = table.points[groups.signal] > 0
    newest_positive = np.full(n, -math.inf)
    np.maximum.at(newest_positive, groups.owner[positive], groups.newest[positive])
    per_contact = _PerContact(
        total, total_at_last, last, newest_positive, hand_raise, recent, weekly, surge, has_history, ignored
    )
    return _results(groups, _patterns_by_contact(acts, table, cm, now_ts), per_contact, cm, now_ts)


def _own_sorted(contact_ids: Sequence[int], activities: ActivityArrays) -> _Sorted:
    """The activities of these contacts (ascending ids), by contact position, signal and time."""
    n = len(contact_ids)
    ids = np.asarray(contact_ids, dtype=np.int64)
    where = np.searchsorted(ids, activities.contact)
    mine = where < n
    mine[mine] = ids[where[mine]] == activities.contact[mine]
    owner, ts, signal = where[mine], activities.ts[mine], activities.signal[mine]
    if _by_owner_and_time(owner, ts):
        # As the full rescore reads them: a stable sort by contact and signal leaves each run in time order, the
        # same order as the sort by all three, at a fraction of its cost.
        order = np.argsort(owner * (int(signal.max(initial=0)) + 2) + (signal + 1), kind="stable")
    else:
        order = np.lexsort((ts, signal, owner))
    return _Sorted(owner[order], ts[order], signal[order])


def _by_owner_and_time(owner: Ints, ts: Floats) -> bool:
    """Whether the activities are ordered by contact, then time."""
    same = owner[1:] == owner[:-1]
    return bool(np.all((owner[1:] > owner[:-1]) | (same & (ts[1:] >= ts[:-1]))))


def _groups(acts: _Sorted, last: Floats, table: _Signals, cm: CompiledModel, now_ts: float) -> _Groups:
    """Each (contact, signal)'s count and points after decay and cap, now and as of the contact's newest counting
    activity (`last`), as `engagement_of` computes them."""
    starts = _starts(acts.owner * (len(table.points) + 1) + acts.signal)
    lengths = np.diff(np.append(starts, len(acts.owner)))
    owner = acts.owner[starts]
    signal = acts.signal[starts]
    points = table.points[signal]
    cap = table.cap[signal]
    oldest = acts.ts[starts]
    full = (points * lengths).astype(np.float64)
    grace_edge = now_ts - cm.grace_s
    decayed = table.decays[signal] & (oldest < grace_edge)
    weighted = np.where(decayed, points * _sequential_sums(_decay(acts.ts, grace_edge, cm), starts, lengths), full)
    last_edge = np.where(np.isnan(last), 0.0, last - cm.grace_s)
    then_sums = _sequential_sums(_decay(acts.ts, last_edge[acts.owner], cm), starts, lengths)
    then = np.where(decayed & (oldest < last_edge[owner]), points * then_sums, full)
    newest = acts.ts[starts + lengths - 1]
    return _Groups(starts, lengths, owner, signal, weighted, _capped(weighted, cap), _capped(then, cap), newest)


def _surge_points(
    acts: _Sorted, groups: _Groups, table: _Signals, cm: CompiledModel, now_ts: float, *, n: int
) -> tuple[Floats, Floats]:
    """Each contact's positive points within the surge window and its baseline's per window (each signal's
    capped), of the signals with an activity within the horizon."""
    points = table.points[groups.signal]
    cap = table.cap[groups.signal]
    surging = (points > 0) & (groups.newest > now_ts - cm.surge_horizon_s)
    group_of = np.repeat(np.arange(len(groups.starts)), groups.lengths)
    size = len(groups.starts)
    # The windows are half-open on the old side, as `bisect_right` counts them.
    in_window = np.bincount(group_of, weights=acts.ts <= now_ts - cm.surge_window_s, minlength=size)
    before = np.bincount(group_of, weights=acts.ts <= now_ts - cm.surge_horizon_s, minlength=size)
    recent = _capped(points * (groups.lengths - in_window), cap)
    base = _capped(points * (in_window - before), cap)
    # Sums of whole numbers: exact in any order.
    recent_points = np.bincount(groups.owner[surging], weights=recent[surging], minlength=n).astype(np.float64)
    baseline = np.bincount(groups.owner[surging], weights=base[surging], minlength=n).astype(np.float64)
    return recent_points, baseline * cm.surge_week_share


def _patterns_by_contact(
    acts: _Sorted, table: _Signals, cm: CompiledModel, now_ts: float
) -> dict[int, tuple[PatternSum, ...]]:
    """The pattern bonuses of each contact with activities of a pattern's signals (by position), found per contact
    by `engagement` itself: runs in order are not arithmetic on arrays."""
    in_pattern = table.in_pattern[acts.signal]
    if not cm.patterns or not in_pattern.any():
        return {}
    owner, ts, signal = acts.where(in_pattern)
    starts = _starts(owner)
    ends = np.append(starts[1:], len(owner)).tolist()
    pairs = list(zip(ts.tolist(), signal.tolist(), strict=True))
    out = {}
    for k, start, end in zip(owner[starts].tolist(), starts.tolist(), ends, strict=True):
        found = patterns_in(pairs[start:end], cm, now_ts)
        if found:
            out[k] = found
    return out


def _results(
    groups: _Groups,
    patterns: dict[int, tuple[PatternSum, ...]],
    per_contact: _PerContact,
    cm: CompiledModel,
    now_ts: float,
) -> list[EngagementResult]:
    """The arrays as one EngagementResult per contact, with Python numbers as `engagement_of` makes them."""
    n = len(per_contact.total)
    signals = list(
        zip(
            groups.signal.tolist(),
            groups.lengths.tolist(),
            groups.weighted.tolist(),
            groups.counted.tolist(),
            strict=True,
        )
    )
    thens = groups.then.tolist()
    bounds = np.searchsorted(groups.owner, np.arange(n + 1)).tolist()
    total, total_at_last, last, newest_positive, hand_raise, recent, weekly, surge, has_history, ignored = (
        a.tolist() for a in per_contact
    )
    no_patterns: tuple[PatternSum, ...] = ()
    inactivity_s = cm.inactivity_s
    inactivity_points = cm.inactivity_points
    out = []
    for k in range(n):
        a, b = bounds[k], bounds[k + 1]
        last_ts = last[k] if a < b else None
        found = patterns.get(k, no_patterns)
        at_last = patterns_as_of(found, last_ts, cm)
        positive = newest_positive[k]
        last_positive_ts = positive if positive != -math.inf else None
        inactive_s = now_ts - positive if last_positive_ts is not None else None
        penalty = int(inactive_s // inactivity_s) * inactivity_points if inactive_s is not None else 0
        raised = hand_raise[k]
        out.append(
            EngagementResult(
                round_score(total[k] + sum([p.counted for p in found]) - penalty),
                tuple(signals[a:b]),
                found,
                penalty,
                inactive_s,
                last_positive_ts,
                AtLast(last_ts, tuple(thens[a:b]), at_last, total_at_last[k] + sum(at_last)),
                surge[k],
                recent[k],
                weekly[k],
                ignored[k],
                has_history[k],
                raised if raised != -math.inf else None,
            )
        )
    return out
