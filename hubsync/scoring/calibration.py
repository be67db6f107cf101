"""The calibration report's figures (docs/scoring.md, "Outcomes, KPIs and calibration"). Pure: outcomes, score
history, activities and the model in; frozen figures out; `now` (the report's end) is an argument.

Every rate carries its n and is only a number from `min_n` cases on; below that it is "too few to judge"
(`judged=False`, value None). Times are hours. A window is [since, until], both ends included; `since=None` means
from the beginning. The rules, each in one function:

- KPIs (`kpis`): handoffs, sales acceptance, rejection, MQL → SQL, closed-won, time-to-lead, time-to-response.
- Segments (`segment_table`): contacts by the segment of their peak before the outcome, win rate and lift.
- Funnel (`funnel`): contacts by the furthest stage reached, each stage's share of the one before.
- Owners (`owner_table`): handoffs, acceptance and response times per task owner.
- Thresholds (`first_crossings`, `threshold_table`, `threshold_advice`): what each threshold from the floor to the
  ceiling would have handed over, and the one today's capacity can take.
- Signals (`reference_moments`, `signals_between`, `signal_lift`): how much more often won contacts had a signal
  in the 90 days before their deal than all contacts in 90 days at the same moments.
- Backtest (`backtest_moments`, `backtest_summary`): scores as of the day before each deal against contacts without
  a deal scored at the same moments (the scoring itself is `score_contact`, called by the job).
- Distribution (`weekly_distribution`): contacts per status and segment at the end of each week.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final, Literal

from hubsync.scoring.compiled import NO_SIGNAL
from hubsync.scoring.results import LeadStatus
from hubsync.scoring.segments import SEGMENTS, fit_light

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from hubsync.records import Activity
    from hubsync.scoring.model import ScoringModel
    from hubsync.scoring.outcomes import ContactOutcome

VERSION: Final = 1
HOUR_S: Final = 3600.0
WEEK: Final = timedelta(days=7)
# Signals count in the 90 days before a deal was created; the backtest scores the day before it.
SIGNAL_WINDOW: Final = timedelta(days=90)
BACKTEST_LEAD: Final = timedelta(days=1)
# The backtest scores every contact with a deal, and at most this many without one (a fixed sample).
BACKTEST_CONTROLS: Final = 5_000
# The share of the highest backtest scores whose deal rate is compared with everyone's.
TOP_SHARE: Final = 0.1
Period = Literal["week", "month"]


# -- small pieces ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """[since, until], both included; since None: from the beginning."""

    since: datetime | None
    until: datetime

    def holds(self, at: datetime | None) -> bool:
        return at is not None and at <= self.until and (self.since is None or at >= self.since)

    def reached(self, at: datetime | None) -> bool:
        """Happened by the window's end."""
        return at is not None and at <= self.until


@dataclass(frozen=True, slots=True)
class LeadStatusMeaning:
    """What a rep's `hs_lead_status` says after a handoff (portals may rename the options: [report] sets these)."""

    worked: frozenset[str] = frozenset({"ATTEMPTED_TO_CONTACT", "CONNECTED", "IN_PROGRESS", "OPEN_DEAL"})
    rejected: frozenset[str] = frozenset({"UNQUALIFIED"})
    nurture: frozenset[str] = frozenset({"BAD_TIMING"})


def ratio(part: int, whole: int, min_n: int) -> tuple[float | None, bool]:
    """part / whole when whole reaches min_n (and is not 0), else (None, False): too few to judge."""
    if whole < max(min_n, 1):
        return None, False
    return part / whole, True


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between the two nearest ranks (q=0.5: the median); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / HOUR_S)


def _spread(key: int, size: int) -> int:
    """A fixed, well-mixed position in [0, size) for a contact id (Knuth's multiplicative hash)."""
    return (key * 2654435761) % 2**32 % size


# -- figures --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    kind: Literal["count", "rate", "hours"]
    value: float | None
    n: int
    judged: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "value": self.value,
            "n": self.n,
            "judged": self.judged,
        }


def _count(key: str, label: str, n: int) -> Figure:
    return Figure(key, label, "count", n, n)


def _rate(key: str, label: str, part: int, whole: int, min_n: int) -> Figure:
    value, judged = ratio(part, whole, min_n)
    return Figure(key, label, "rate", value, whole, judged)


def _hours(key: str, label: str, values: Sequence[float], q: float, min_n: int) -> Figure:
    judged = len(values) >= max(min_n, 1)
    return Figure(key, label, "hours", quantile(values, q) if judged else None, len(values), judged)


# -- KPIs -----------------------------------------------------------------------------------------------------


def mql_at(outcome: ContactOutcome) -> datetime | None:
    """When the contact became an MQL: HubSpot's lifecycle date or hubsync's status, whichever came first."""
    dates = [at for at in (outcome.mql_at, outcome.hubsync_mql_at) if at is not None]
    return min(dates) if dates else None


def won_in(outcome: ContactOutcome, window: Window) -> bool:
    """Won a deal hubsync could have seen coming (created after its first scoring), closed in the window."""
    return outcome.won_since_scored and window.holds(outcome.won_at)


def accepted(outcome: ContactOutcome, meaning: LeadStatusMeaning) -> bool:
    """Sales took the handoff: the task completed or the lead status says worked, and not rejected."""
    if outcome.lead_status in meaning.rejected:
        return False
    return outcome.task_closed == "completed" or outcome.lead_status in meaning.worked


def kpis(outcomes: Sequence[ContactOutcome], window: Window, *, min_n: int, meaning: LeadStatusMeaning) -> list[Figure]:
    """The KPI tiles, in display order."""
    scored = [o for o in outcomes if window.reached(o.scored_from)]
    handed = [o for o in scored if window.holds(o.handed_over_at)]
    taken = [o for o in handed if accepted(o, meaning)]
    rejected = [o for o in handed if o.lead_status in meaning.rejected]
    nurture = [o for o in handed if o.lead_status in meaning.nurture]
    won = [o for o in scored if won_in(o, window)]
    handed_won = [o for o in handed if o.won_since_scored and window.reached(o.won_at)]
    mqls = [o for o in scored if window.holds(mql_at(o))]
    sqls = [o for o in mqls if window.reached(o.sql_at)]
    to_lead = [h for o in handed if (h := hours(o.triggered_at, o.handed_over_at)) is not None]
    to_response = [h for o in handed if (h := hours(o.handed_over_at, o.first_response_at)) is not None]
    return [
        _count("contacts", "Contacts", len(scored)),
        _count("handed_over", "Handed over", len(handed)),
        _count("accepted", "Accepted by sales", len(taken)),
        _count("rejected", "Rejected by sales", len(rejected)),
        _count("back_to_nurture", "Back to nurture", len(nurture)),
        _count("won", "Won", len(won)),
        _rate("base_rate", "Base rate (won / all contacts)", len(won), len(scored), min_n),
        _rate("mql_to_sql_rate", "MQL → SQL", len(sqls), len(mqls), min_n),
        _rate("sales_acceptance_rate", "Sales acceptance", len(taken), len(handed), min_n),
        _rate("rejection_rate", "Rejection rate", len(rejected), len(handed), min_n),
        _rate("closed_won_ratio", "Closed-won of handed over", len(handed_won), len(handed), min_n),
        _rate("response_rate", "Handoffs answered", len(to_response), len(handed), min_n),
        _hours("time_to_lead_median_h", "Time to lead, median", to_lead, 0.5, min_n),
        _hours("time_to_lead_p90_h", "Time to lead, 90th percentile", to_lead, 0.9, min_n),
        _hours("time_to_response_median_h", "Time to response, median", to_response, 0.5, min_n),
        _hours("time_to_response_p90_h", "Time to response, 90th percentile", to_response, 0.9, min_n),
    ]


def kpi_values(figures: Iterable[Figure]) -> dict[str, float | None]:
    return {f.key: f.value for f in figures}


# -- segments -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentRow:
    segment: str
    contacts: int
    handed_over: int
    won: int
    win_rate: float | None
    lift: float | None
    judged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "contacts": self.contacts,
            "handed_over": self.handed_over,
            "won": self.won,
            "win_rate": self.win_rate,
            "lift": self.lift,
            "judged": self.judged,
        }


def base_rate(outcomes: Sequence[ContactOutcome], window: Window, min_n: int) -> float | None:
    scored = [o for o in outcomes if window.reached(o.scored_from)]
    return ratio(sum(won_in(o, window) for o in scored), len(scored), min_n)[0]


def segment_table(outcomes: Sequence[ContactOutcome], window: Window, *, min_n: int) -> list[SegmentRow]:
    """A1 … D4 in matrix order: contacts by the segment at their peak before the outcome, and how they ended."""
    base = base_rate(outcomes, window, min_n)
    rows = []
    for name in SEGMENTS:
        members = [o for o in outcomes if o.peak_segment == name and window.reached(o.scored_from)]
        won = sum(won_in(o, window) for o in members)
        rate, judged = ratio(won, len(members), min_n)
        lift = rate / base if rate is not None and base else None
        handed = sum(window.holds(o.handed_over_at) for o in members)
        rows.append(SegmentRow(name, len(members), handed, won, rate, lift, judged))
    return rows


# -- funnel ---------------------------------------------------------------------------------------------------

FUNNEL: Final = (
    ("lead", "Lead"),
    ("mql", "MQL"),
    ("handed_over", "Handed over"),
    ("sql", "SQL"),
    ("opportunity", "Opportunity"),
    ("won", "Won"),
)


@dataclass(frozen=True, slots=True)
class FunnelStage:
    stage: str
    label: str
    count: int
    rate_from_previous: float | None
    judged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "label": self.label,
            "count": self.count,
            "rate_from_previous": self.rate_from_previous,
            "judged": self.judged,
        }


def _stage_times(o: ContactOutcome) -> tuple[datetime | None, ...]:
    """When the contact reached each funnel stage (None: not reached). The stages after the handoff count from its
    first scoring on (an SQL, an opportunity or a win from before hubsync came is history); an outcome deal makes an
    opportunity."""

    def since_scored(at: datetime | None) -> datetime | None:
        return at if at is not None and o.scored_from is not None and at >= o.scored_from else None

    lead = o.lead_at or o.created_at or o.scored_from
    opportunity = [t for t in (since_scored(o.opportunity_at), since_scored(o.deal_created_at)) if t is not None]
    won = o.won_at if o.won_since_scored else None
    return (lead, mql_at(o), o.handed_over_at, since_scored(o.sql_at), min(opportunity, default=None), won)


def funnel(outcomes: Sequence[ContactOutcome], window: Window, *, min_n: int) -> list[FunnelStage]:
    """Contacts by the furthest stage reached by the window's end, counted at that stage and every one before (so
    each stage holds at most the one before). With `since`, the contacts that reached some stage in the window."""
    furthest: list[int] = []
    for o in outcomes:
        times = _stage_times(o)
        if window.since is not None and not any(window.holds(t) for t in times):
            continue
        reached = [i for i, t in enumerate(times) if window.reached(t)]
        if reached:
            furthest.append(max(reached))
    stages = []
    previous: int | None = None
    for i, (stage, label) in enumerate(FUNNEL):
        count = sum(f >= i for f in furthest)
        rate, judged = ratio(count, previous, min_n) if previous is not None else (None, True)
        stages.append(FunnelStage(stage, label, count, rate, judged))
        previous = count
    return stages


# -- owners ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerRow:
    owner_id: int
    owner_name: str
    handed_over: int
    accepted: int
    rejected: int
    time_to_response_median_h: float | None
    time_to_response_p90_h: float | None
    n: int
    judged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "owner_id": self.owner_id,
            "owner_name": self.owner_name,
            "handed_over": self.handed_over,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "time_to_response_median_h": self.time_to_response_median_h,
            "time_to_response_p90_h": self.time_to_response_p90_h,
            "n": self.n,
            "judged": self.judged,
        }


def owner_table(
    outcomes: Sequence[ContactOutcome],
    names: Mapping[int, str],
    window: Window,
    *,
    min_n: int,
    meaning: LeadStatusMeaning,
) -> list[OwnerRow]:
    """Per owner of a handoff task in the window, most handoffs first; `n` is the number of responses the response
    times are taken from."""
    by_owner: dict[int, list[ContactOutcome]] = defaultdict(list)
    for o in outcomes:
        if o.handoff_owner_id is not None and window.holds(o.handed_over_at):
            by_owner[o.handoff_owner_id].append(o)
    rows = []
    for owner_id, handed in by_owner.items():
        times = [h for o in handed if (h := hours(o.handed_over_at, o.first_response_at)) is not None]
        judged = len(times) >= max(min_n, 1)
        rows.append(
            OwnerRow(
                owner_id=owner_id,
                owner_name=names.get(owner_id, f"owner {owner_id}"),
                handed_over=len(handed),
                accepted=sum(accepted(o, meaning) for o in handed),
                rejected=sum(o.lead_status in meaning.rejected for o in handed),
                time_to_response_median_h=quantile(times, 0.5) if judged else None,
                time_to_response_p90_h=quantile(times, 0.9) if judged else None,
                n=len(times),
                judged=judged,
            )
        )
    return sorted(rows, key=lambda r: (-r.handed_over, r.owner_id))


# -- thresholds -----------------------------------------------------------------------------------------------


def threshold_range(model: ScoringModel) -> range:
    capacity = model.handoff.capacity
    return range(capacity.floor, capacity.ceiling + 1)


def first_crossings(
    scorings: Iterable[tuple[int, datetime, int, int]], model: ScoringModel
) -> dict[int, dict[int, datetime]]:
    """contact → threshold → the first scoring at which its engagement reached that threshold, for the thresholds
    from the floor to the ceiling. `scorings` are (contact, as_of, engagement, profile) in time order per contact;
    a scoring whose fit light blocks a handoff (red by default) hands over at no threshold."""
    thresholds = threshold_range(model)
    blocked = set(model.handoff.blocked_fit)
    found: dict[int, dict[int, datetime]] = defaultdict(dict)
    for contact, as_of, engagement, profile in scorings:
        if engagement < thresholds.start or fit_light(profile, model) in blocked:
            continue
        crossed = found[contact]
        for t in range(thresholds.start, min(engagement, thresholds.stop - 1) + 1):
            crossed.setdefault(t, as_of)
    return dict(found)


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    threshold: int
    handoffs_per_week: float
    recall: float | None
    precision: float | None
    n_won: int
    n_handoffs: int

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "handoffs_per_week": self.handoffs_per_week,
            "recall": self.recall,
            "precision": self.precision,
            "n_won": self.n_won,
            "n_handoffs": self.n_handoffs,
        }


def weeks_in(outcomes: Sequence[ContactOutcome], window: Window) -> float:
    """The window's length in weeks; without `since`, from the first scoring. At least one day."""
    starts = [o.scored_from for o in outcomes if o.scored_from is not None]
    start = window.since if window.since is not None else min(starts, default=window.until)
    return max((window.until - start) / WEEK, 1 / 7)


def threshold_table(
    outcomes: Sequence[ContactOutcome],
    crossings: Mapping[int, Mapping[int, datetime]],
    window: Window,
    *,
    thresholds: range,
    min_n: int,
) -> list[ThresholdRow]:
    """Per threshold: the contacts that first reached it in the window, per week; recall, the share of the contacts
    won in the window that reached it before their deal was created; precision, the share of those that reached it
    in the window that went on to win a deal created after that moment."""
    weeks = weeks_in(outcomes, window)
    won = [o for o in outcomes if won_in(o, window)]
    by_id = {o.contact_id: o for o in outcomes}
    rows = []
    for t in thresholds:
        reached = {c: at[t] for c, at in crossings.items() if t in at and window.holds(at[t])}
        caught = sum(
            1
            for o in won
            if (at := crossings.get(o.contact_id, {}).get(t)) is not None
            and o.won_deal_created_at is not None
            and at <= o.won_deal_created_at
        )
        later_won = sum(
            1
            for c, at in reached.items()
            if (o := by_id.get(c)) is not None
            and o.won_since_scored
            and window.reached(o.won_at)
            and o.won_deal_created_at is not None
            and o.won_deal_created_at >= at
        )
        rows.append(
            ThresholdRow(
                threshold=t,
                handoffs_per_week=len(reached) / weeks,
                recall=ratio(caught, len(won), min_n)[0],
                precision=ratio(later_won, len(reached), min_n)[0],
                n_won=len(won),
                n_handoffs=len(reached),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Capacity:
    """How many handoffs a week the sales team can take: its open-task capacity turned over once per the time a task
    stays open (Little's law), measured from completed tasks, or, with too few of them, the SLA."""

    per_week: float
    open_tasks: int
    days_open: float
    measured: bool
    n: int


def weekly_capacity(
    outcomes: Sequence[ContactOutcome], window: Window, *, open_tasks: int, sla_hours: float, min_n: int
) -> Capacity:
    days = [
        h / 24
        for o in outcomes
        if o.task_closed == "completed"
        and window.holds(o.task_completed_at)
        and (h := hours(o.handed_over_at, o.task_completed_at)) is not None
    ]
    measured = len(days) >= max(min_n, 1)
    # A task completed the minute it was created would make the capacity infinite: an hour is the least it takes.
    mean_days = max(sum(days) / len(days), 1 / 24) if measured else sla_hours / 24
    return Capacity(open_tasks * 7 / mean_days, open_tasks, mean_days, measured, len(days))


@dataclass(frozen=True, slots=True)
class ThresholdAdvice:
    capacity_per_week: float
    advised_threshold: int | None
    current_threshold: int | None
    text: str
    capacity_measured: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "capacity_per_week": self.capacity_per_week,
            "advised_threshold": self.advised_threshold,
            "current_threshold": self.current_threshold,
            "text": self.text,
            "capacity_measured": self.capacity_measured,
        }


def threshold_advice(rows: Sequence[ThresholdRow], capacity: Capacity, current: int | None) -> ThresholdAdvice:
    """The lowest threshold whose handoffs per week fit the capacity (the most won deals caught that the team can
    work); the ceiling when none does; None without any scoring at the floor."""
    basis = (
        f"{capacity.open_tasks} open tasks at once, a task stays open {capacity.days_open:.1f} days on average "
        f"(measured on {capacity.n} completed tasks)"
        if capacity.measured
        else f"{capacity.open_tasks} open tasks at once, each done within the SLA of {capacity.days_open * 24:g} h "
        f"(too few completed tasks to measure: {capacity.n})"
    )
    fits = [r for r in rows if r.handoffs_per_week <= capacity.per_week]
    if not rows or all(r.n_handoffs == 0 for r in rows):
        advised, text = None, "No contact reached the threshold floor in this period: nothing to advise."
    elif fits:
        best = fits[0]
        advised = best.threshold
        text = (
            f"At {best.threshold}, about {best.handoffs_per_week:.1f} handoffs a week fit the sales team's capacity "
            f"of about {capacity.per_week:.1f} a week ({basis})."
        )
    else:
        advised = rows[-1].threshold
        text = (
            f"Even at {advised}, {rows[-1].handoffs_per_week:.1f} handoffs a week exceed the capacity of about "
            f"{capacity.per_week:.1f} a week ({basis}); only leads at the ceiling and hand-raisers can be taken."
        )
    return ThresholdAdvice(capacity.per_week, advised, current, text, capacity.measured)


# -- signals --------------------------------------------------------------------------------------------------


def reference_moments(outcomes: Sequence[ContactOutcome], window: Window) -> list[datetime]:
    """When the deals were created of the contacts that won in the window (any deal: the past teaches too), sorted:
    the moments at which contacts without one are compared."""
    return sorted(
        o.won_deal_created_at for o in outcomes if o.won_deal_created_at is not None and window.holds(o.won_at)
    )


def moment_for(contact_id: int, created_at: datetime | None, moments: Sequence[datetime]) -> datetime | None:
    """One of `moments` for a contact, fixed by its id, among those after it was created (None if there is none)."""
    start = bisect.bisect_left(moments, created_at) if created_at is not None else 0
    if start >= len(moments):
        return None
    return moments[start + _spread(contact_id, len(moments) - start)]


def signal_window(outcome: ContactOutcome, window: Window, moments: Sequence[datetime]) -> tuple[datetime, bool] | None:
    """The end of the 90 days in which a contact's signals count, and whether it won: the creation of its won deal,
    else a reference moment (None: no moment after the contact existed)."""
    if outcome.won_deal_created_at is not None and window.holds(outcome.won_at):
        return outcome.won_deal_created_at, True
    moment = moment_for(outcome.contact_id, outcome.created_at, moments)
    return (moment, False) if moment is not None else None


def signals_between(activities: Iterable[Activity], model: ScoringModel, start: datetime, end: datetime) -> set[str]:
    """The names of the signals the activities in [start, end) matched (each activity its first signal, as scored)."""
    cm = model.compiled
    names = set()
    for activity in activities:
        if start <= activity.occurred_at < end:
            index = cm.signal_of(activity)
            if index != NO_SIGNAL:
                names.add(cm.signals[index].name)
    return names


@dataclass(frozen=True, slots=True)
class SignalRow:
    signal: str
    label: str
    won_with: int
    won_total: int
    all_with: int
    all_total: int
    lift: float | None
    judged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "label": self.label,
            "won_with": self.won_with,
            "won_total": self.won_total,
            "all_with": self.all_with,
            "all_total": self.all_total,
            "lift": self.lift,
            "judged": self.judged,
        }


def signal_lift(
    observations: Iterable[tuple[bool, Collection[str]]], model: ScoringModel, *, min_n: int
) -> list[SignalRow]:
    """Per signal of the model: (won contacts with it / won contacts) ÷ (contacts with it / contacts), from
    (won, signals in its 90 days) per contact. Judged from `min_n` won contacts and `min_n` contacts with the signal.
    Highest lift first, unjudged last."""
    won_total = all_total = 0
    won_with: Counter[str] = Counter()
    all_with: Counter[str] = Counter()
    for won, signals in observations:
        all_total += 1
        all_with.update(signals)
        if won:
            won_total += 1
            won_with.update(signals)
    rows = []
    for signal in model.signals:
        judged = won_total >= max(min_n, 1) and all_with[signal.name] >= max(min_n, 1)
        lift = (won_with[signal.name] / won_total) / (all_with[signal.name] / all_total) if judged else None
        rows.append(
            SignalRow(
                signal.name,
                signal.label,
                won_with[signal.name],
                won_total,
                all_with[signal.name],
                all_total,
                lift,
                judged,
            )
        )
    return sorted(rows, key=lambda r: (not r.judged, -(r.lift or 0.0), r.signal))


# -- backtest -------------------------------------------------------------------------------------------------


def backtest_moments(outcomes: Sequence[ContactOutcome], window: Window) -> dict[int, tuple[datetime, bool]]:
    """contact → (the instant to score it as of, whether it has a deal): the day before its first deal was created
    (deals created in the window), and for a fixed sample of at most BACKTEST_CONTROLS contacts without any deal,
    the same instant of one of those deals, after the contact was created."""
    chosen: dict[int, tuple[datetime, bool]] = {}
    for o in outcomes:
        if o.deal_created_at is not None and window.holds(o.deal_created_at):
            chosen[o.contact_id] = (o.deal_created_at - BACKTEST_LEAD, True)
    moments = sorted(at for at, _ in chosen.values())
    controls = sorted((o for o in outcomes if o.deals == 0), key=lambda o: (_spread(o.contact_id, 2**32), o.contact_id))
    taken = 0
    for o in controls:
        if taken >= BACKTEST_CONTROLS:
            break
        moment = moment_for(o.contact_id, o.created_at, moments)
        if moment is not None:
            chosen[o.contact_id] = (moment, False)
            taken += 1
    return chosen


@dataclass(frozen=True, slots=True)
class Backtest:
    contacts_with_deal: int
    contacts_without: int
    median_score_with: float | None
    median_score_without: float | None
    top_decile_lift: float | None
    judged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "contacts_with_deal": self.contacts_with_deal,
            "contacts_without": self.contacts_without,
            "median_score_with": self.median_score_with,
            "median_score_without": self.median_score_without,
            "top_decile_lift": self.top_decile_lift,
            "judged": self.judged,
        }


def backtest_summary(scores: Iterable[tuple[int, int, bool]], *, min_n: int) -> Backtest:
    """From (contact, engagement score as of its moment, has a deal): the median score of each group, and the top
    decile's lift (its share of contacts with a deal ÷ everyone's; ties broken by contact id)."""
    ranked = sorted(scores, key=lambda s: (-s[1], s[0]))
    with_deal = [float(s[1]) for s in ranked if s[2]]
    without = [float(s[1]) for s in ranked if not s[2]]
    judged = len(with_deal) >= max(min_n, 1) and len(without) >= max(min_n, 1)
    lift = None
    if judged:
        top = ranked[: max(1, math.ceil(len(ranked) * TOP_SHARE))]
        lift = (sum(s[2] for s in top) / len(top)) / (len(with_deal) / len(ranked))
    return Backtest(
        contacts_with_deal=len(with_deal),
        contacts_without=len(without),
        median_score_with=quantile(with_deal, 0.5) if judged else None,
        median_score_without=quantile(without, 0.5) if judged else None,
        top_decile_lift=lift,
        judged=judged,
    )


# -- periods and the distribution -----------------------------------------------------------------------------


def period_label(at: datetime, period: Period) -> str:
    if period == "month":
        return f"{at:%Y-%m}"
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def period_starts(start: datetime, until: datetime, period: Period, zone: tzinfo) -> list[datetime]:
    """The starts (in UTC) of the weeks (Monday) or months, in `zone`, from the one holding `start` to the one
    holding `until`."""
    local = start.astimezone(zone)
    first = local.replace(hour=0, minute=0, second=0, microsecond=0)
    first = first.replace(day=1) if period == "month" else first - timedelta(days=first.weekday())
    starts = []
    current = first
    while current.astimezone(UTC) <= until:
        starts.append(current.astimezone(UTC))
        current = _next_period(current, period)
    return starts


def _next_period(start: datetime, period: Period) -> datetime:
    if period == "week":
        following = start.replace(tzinfo=None) + WEEK
    elif start.month == 12:  # noqa: PLR2004  (December)
        following = start.replace(tzinfo=None, year=start.year + 1, month=1)
    else:
        following = start.replace(tzinfo=None, month=start.month + 1)
    # Wall-clock midnight in the zone, whatever daylight saving did in between.
    return following.replace(tzinfo=start.tzinfo)


def period_windows(start: datetime, window: Window, period: Period, zone: tzinfo) -> list[tuple[str, Window]]:
    """(label, window) of each period from `start` to the window's end; the last one ends with the window."""
    starts = period_starts(start, window.until, period, zone)
    out = []
    for i, begin in enumerate(starts):
        end = starts[i + 1] - timedelta(microseconds=1) if i + 1 < len(starts) else window.until
        out.append((period_label(begin.astimezone(zone), period), Window(begin, min(end, window.until))))
    return out


@dataclass(frozen=True, slots=True)
class DistributionRow:
    period: str
    counts: Mapping[str, int]
    segments: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"period": self.period, "counts": dict(self.counts), "segments": dict(self.segments)}


def weekly_distribution(
    scorings: Iterable[tuple[int, datetime, str, str | None]], weeks: Sequence[tuple[str, Window]]
) -> list[DistributionRow]:
    """Contacts per status and per segment as they stood at the end of each week, from every scoring (contact,
    as_of, segment, status) in time order per contact. A contact counts from its first scoring on.

    Each scoring holds from its time to the next one; it is added to the first week ending after it and taken off
    at the first week ending after the next, so the work grows with the scorings, not with weeks × contacts."""
    ends = [w.until for _, w in weeks]
    statuses: list[Counter[str]] = [Counter() for _ in range(len(ends) + 1)]
    segments: list[Counter[str]] = [Counter() for _ in range(len(ends) + 1)]

    def hold(state: tuple[str, str | None], begin: datetime, end: datetime | None) -> None:
        first = bisect.bisect_left(ends, begin)
        last = bisect.bisect_left(ends, end) if end is not None else len(ends)
        if first < last:
            segment, status = state
            segments[first][segment] += 1
            segments[last][segment] -= 1
            if status is not None:
                statuses[first][status] += 1
                statuses[last][status] -= 1

    current: int | None = None
    held: tuple[tuple[str, str | None], datetime] | None = None
    for contact, as_of, segment, status in scorings:
        if held is not None:
            hold(held[0], held[1], as_of if contact == current else None)
        current, held = contact, ((segment, status), as_of)
    if held is not None:
        hold(held[0], held[1], None)
    rows = []
    status_total: Counter[str] = Counter()
    segment_total: Counter[str] = Counter()
    for i, (label, _) in enumerate(weeks):
        status_total.update(statuses[i])
        segment_total.update(segments[i])
        rows.append(
            DistributionRow(
                label,
                {s.value: status_total[s.value] for s in LeadStatus},
                {name: segment_total[name] for name in SEGMENTS},
            )
        )
    return rows


# -- the report -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    generated_at: datetime
    since: datetime | None
    until: datetime
    min_n: int
    kpis: Sequence[Figure]
    segments: Sequence[SegmentRow]
    funnel: Sequence[FunnelStage]
    owners: Sequence[OwnerRow]
    signals: Sequence[SignalRow]
    thresholds: Sequence[ThresholdRow]
    threshold_advice: ThresholdAdvice
    distribution: Sequence[DistributionRow]
    periods: Sequence[tuple[str, Mapping[str, float | None]]]
    by_segment_kpis: Mapping[str, Mapping[str, float | None]]
    backtest: Backtest
    period: Period = "month"
    notes: Sequence[str] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values (the contract with the HTML renderer, version 1)."""
        return {
            "version": VERSION,
            "generated_at": self.generated_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat(),
            "min_n": self.min_n,
            "period": self.period,
            "kpis": [f.to_json() for f in self.kpis],
            "segments": [r.to_json() for r in self.segments],
            "funnel": [s.to_json() for s in self.funnel],
            "owners": [r.to_json() for r in self.owners],
            "signals": [r.to_json() for r in self.signals],
            "thresholds": [r.to_json() for r in self.thresholds],
            "threshold_advice": self.threshold_advice.to_json(),
            "distribution": [r.to_json() for r in self.distribution],
            "periods": [{"period": label, "kpis": dict(values)} for label, values in self.periods],
            "by_segment_kpis": {name: dict(values) for name, values in self.by_segment_kpis.items()},
            "backtest": self.backtest.to_json(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class CalibrationInput:
    """Everything the report is computed from, gathered by the job."""

    outcomes: Sequence[ContactOutcome]
    owner_names: Mapping[int, str]
    crossings: Mapping[int, Mapping[int, datetime]]
    open_task_capacity: int
    current_threshold: int | None
    signal_observations: Sequence[tuple[bool, Collection[str]]]
    backtest_scores: Sequence[tuple[int, int, bool]]
    # Every contact scoring in time order per contact (a stream: read once).
    history: Iterable[tuple[int, datetime, str, str | None]]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    min_n: int = 30
    period: Period = "month"
    sla_hours: float = 24.0
    zone: tzinfo = UTC
    meaning: LeadStatusMeaning = LeadStatusMeaning()


def calibration_report(
    data: CalibrationInput,
    model: ScoringModel,
    *,
    now: datetime,
    since: datetime | None,
    options: ReportOptions = ReportOptions(),
) -> CalibrationReport:
    """The whole report as of `now` over [since, now]."""
    window = Window(since, now)
    outcomes, min_n, meaning = data.outcomes, options.min_n, options.meaning
    starts = [o.scored_from for o in outcomes if o.scored_from is not None]
    start = since if since is not None else min(starts, default=now)
    periods = [
        (label, kpi_values(kpis(outcomes, w, min_n=min_n, meaning=meaning)))
        for label, w in period_windows(start, window, options.period, options.zone)
    ]
    by_segment = {
        name: kpi_values(kpis([o for o in outcomes if o.peak_segment == name], window, min_n=min_n, meaning=meaning))
        for name in SEGMENTS
    }
    thresholds = threshold_table(outcomes, data.crossings, window, thresholds=threshold_range(model), min_n=min_n)
    capacity = weekly_capacity(
        outcomes, window, open_tasks=data.open_task_capacity, sla_hours=options.sla_hours, min_n=min_n
    )
    return CalibrationReport(
        generated_at=now,
        since=since,
        until=now,
        min_n=min_n,
        kpis=kpis(outcomes, window, min_n=min_n, meaning=meaning),
        segments=segment_table(outcomes, window, min_n=min_n),
        funnel=funnel(outcomes, window, min_n=min_n),
        owners=owner_table(outcomes, data.owner_names, window, min_n=min_n, meaning=meaning),
        signals=signal_lift(data.signal_observations, model, min_n=min_n),
        thresholds=thresholds,
        threshold_advice=threshold_advice(thresholds, capacity, data.current_threshold),
        distribution=weekly_distribution(data.history, period_windows(start, window, "week", options.zone)),
        periods=periods,
        by_segment_kpis=by_segment,
        backtest=backtest_summary(data.backtest_scores, min_n=min_n),
        period=options.period,
        notes=_notes(outcomes, window),
    )


def _notes(outcomes: Sequence[ContactOutcome], window: Window) -> tuple[str, ...]:
    """What a reader must know to read the figures right."""
    if not outcomes:
        return ("No outcomes are stored yet: every cycle derives them (the first after an upgrade for all contacts).",)
    if not any(won_in(o, window) for o in outcomes):
        return ("No deal hubsync could have seen coming was won in this period: win rates, lifts and recall are 0.",)
    return ()
