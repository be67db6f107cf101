"""What happened to a contact after hubsync scored it, derived from plain facts (docs/scoring.md, "Outcomes"). Pure.

`derive_outcome(facts, …)` turns what the store holds about one contact (lifecycle dates, lead status, deals,
hubsync's tasks, score history, the reps' engagements) into one `ContactOutcome`, the row the calibration report
(`calibration.py`) works from. The rules, each in one place:

- **Outcome deals** are the contact's deals (those associated with it, and those of its primary company that name
  no contact) created at or after the contact was first scored (hubsync could have seen them coming); a contact with
  none has its older deals instead, which the backtest and the signal lift use ("which signals announced purchase
  decisions in the past") and the KPIs skip.
- **The handoff** is the contact's first hubsync task; its trigger moment is when the contact met the trigger: the
  activity that made the first scoring of the unbroken run before the handoff in which a trigger held find it.
- **The response** is the first call, meeting or one-to-one email after the handoff, logged by the task's owner (or
  by nobody named), or the task's completion, whichever came first.
- **The peak** is the highest engagement score before the first outcome deal was created (without one: ever), with
  the segment it had then: what hubsync said of the contact before the outcome was known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from hubsync.scoring.parsing import parse_number

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from datetime import datetime

# Engagements that answer a handoff (activity event types), and the email direction that counts.
RESPONSE_KINDS: Final = frozenset({"call", "meeting", "email"})
OUTGOING: Final = "OUTGOING"


@dataclass(frozen=True, slots=True)
class DealFact:
    id: int
    created_at: datetime | None
    # True won, False lost, None open.
    closed_won: bool | None
    close_date: datetime | None
    amount: str | None


@dataclass(frozen=True, slots=True)
class TaskFact:
    created_at: datetime
    intent_at: datetime
    owner_id: int | None
    kind: str | None
    triggers: Sequence[str]
    # "completed", "deleted", or None (open, or closed before hubsync recorded how).
    closed_as: str | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    as_of: datetime
    engagement: int
    segment: str
    status: str | None


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """What the whole score history says, aggregated by the store: the first scoring, the first mql-or-better
    status, and the peak (engagement, its segment, when) over all of it."""

    scored_from: datetime | None = None
    mql_at: datetime | None = None
    peak: HistoryPoint | None = None


@dataclass(frozen=True, slots=True)
class ResponseFact:
    occurred_at: datetime
    # The activity's event type ("call", "meeting", "email", …) and direction (emails: INCOMING / OUTGOING).
    kind: str
    direction: str | None
    owner_id: int | None


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    """Everything the store holds about one contact's outcome."""

    contact_id: int
    created_at: datetime | None = None
    # Lifecycle stage ("lead", "mql", "sql", "opportunity", "customer") → the date it was entered.
    lifecycle: Mapping[str, datetime] | None = None
    lead_status: str | None = None
    deals: Sequence[DealFact] = ()
    tasks: Sequence[TaskFact] = ()
    history: HistorySummary = HistorySummary()
    # The full score history, oldest first: given for contacts with a deal or a task, where the peak before the deal
    # and the trigger before the handoff need it.
    history_points: Sequence[HistoryPoint] = ()
    # When the contact's activities happened, up to its first handoff (given for contacts with a task).
    activity_times: Sequence[datetime] = ()
    responses: Sequence[ResponseFact] = ()


@dataclass(frozen=True, slots=True)
class ContactOutcome:
    """One contact's outcome; the fields are the columns of `contact_outcome`."""

    contact_id: int
    created_at: datetime | None = None
    lead_at: datetime | None = None
    mql_at: datetime | None = None
    sql_at: datetime | None = None
    opportunity_at: datetime | None = None
    customer_at: datetime | None = None
    lead_status: str | None = None
    scored_from: datetime | None = None
    hubsync_mql_at: datetime | None = None
    peak_engagement: int | None = None
    peak_segment: str | None = None
    handed_over_at: datetime | None = None
    handoff_owner_id: int | None = None
    handoff_kind: str | None = None
    handoff_trigger: str | None = None
    triggered_at: datetime | None = None
    task_closed: str | None = None
    task_completed_at: datetime | None = None
    first_response_at: datetime | None = None
    response_kind: str | None = None
    deals: int = 0
    deal_created_at: datetime | None = None
    won_deal_created_at: datetime | None = None
    won_at: datetime | None = None
    won_amount: float | None = None
    lost_at: datetime | None = None

    @property
    def deal_since_scored(self) -> bool:
        """Its first deal came after hubsync first scored it: an outcome the model could predict."""
        return _at_or_after(self.deal_created_at, self.scored_from)

    @property
    def won_since_scored(self) -> bool:
        return self.won_at is not None and _at_or_after(self.won_deal_created_at, self.scored_from)


def derive_outcome(
    facts: OutcomeFacts, *, trigger_statuses: Collection[str], trigger_segments: Collection[str], now: datetime
) -> ContactOutcome:
    """The outcome of one contact as of `now` (engagements after `now` have not happened yet)."""
    lifecycle = facts.lifecycle or {}
    deals = _outcome_deals(facts.deals, facts.history.scored_from)
    first_deal = _earliest(deals)
    won = _earliest([d for d in deals if d.closed_won])
    lost = [d.close_date for d in deals if d.closed_won is False and d.close_date is not None]
    cut = first_deal.created_at if first_deal is not None else None
    peak = _peak(facts, cut if _at_or_after(cut, facts.history.scored_from) else None)
    handoff = _handoff(facts, trigger_statuses, trigger_segments, now)
    return ContactOutcome(
        contact_id=facts.contact_id,
        created_at=facts.created_at,
        lead_at=lifecycle.get("lead"),
        mql_at=lifecycle.get("mql"),
        sql_at=lifecycle.get("sql"),
        opportunity_at=lifecycle.get("opportunity"),
        customer_at=lifecycle.get("customer"),
        lead_status=facts.lead_status,
        scored_from=facts.history.scored_from,
        hubsync_mql_at=facts.history.mql_at,
        peak_engagement=peak.engagement if peak else None,
        peak_segment=peak.segment if peak else None,
        deals=len(deals),
        deal_created_at=first_deal.created_at if first_deal else None,
        won_deal_created_at=won.created_at if won else None,
        won_at=(won.close_date or won.created_at) if won else None,
        won_amount=parse_number(won.amount) if won else None,
        lost_at=min(lost) if lost and won is None else None,
        **handoff,
    )


def _earliest(deals: Sequence[DealFact]) -> DealFact | None:
    """The deal created first (by id among equals); deals without a create date are not counted."""
    dated = [(d.created_at, d.id, d) for d in deals if d.created_at is not None]
    return min(dated, key=lambda item: item[:2])[2] if dated else None


def _at_or_after(at: datetime | None, start: datetime | None) -> bool:
    return at is not None and start is not None and at >= start


def _outcome_deals(deals: Sequence[DealFact], scored_from: datetime | None) -> list[DealFact]:
    """The deals created since the contact was first scored; without any, all of its deals (its history)."""
    later = [d for d in deals if _at_or_after(d.created_at, scored_from)]
    return later or list(deals)


def _peak(facts: OutcomeFacts, cut: datetime | None) -> HistoryPoint | None:
    """The highest engagement before `cut` (the first outcome deal), earliest first among equals; without a cut,
    the store's aggregate over the whole history."""
    if cut is None or not facts.history_points:
        return facts.history.peak
    before = [p for p in facts.history_points if p.as_of < cut]
    if not before:
        return None
    best = max(p.engagement for p in before)
    return next(p for p in before if p.engagement == best)


def _handoff(
    facts: OutcomeFacts, statuses: Collection[str], segments: Collection[str], now: datetime
) -> dict[str, Any]:
    """The outcome columns of the contact's first handoff (none without a task)."""
    if not facts.tasks:
        return {}
    task = min(facts.tasks, key=lambda t: t.created_at)
    first_response, kind = _first_response(task, facts.responses, now)
    return {
        "handed_over_at": task.created_at,
        "handoff_owner_id": task.owner_id,
        "handoff_kind": task.kind,
        "handoff_trigger": task.triggers[0] if task.triggers else None,
        "triggered_at": _triggered_at(task, facts, statuses, segments),
        "task_closed": task.closed_as,
        "task_completed_at": task.completed_at,
        "first_response_at": first_response,
        "response_kind": kind,
    }


def _triggered_at(
    task: TaskFact, facts: OutcomeFacts, statuses: Collection[str], segments: Collection[str]
) -> datetime:
    """When the contact met the trigger it was handed over for: the newest activity after the scoring before the
    trigger took hold, up to the scoring that found it (the demo request, not the cycle that read it); that scoring
    itself when no activity lies between (a changed profile), or when it was the contact's first (what came before
    hubsync is no delay of its). The trigger took hold at the start of the unbroken run of scorings, up to the
    handoff, in which a status or segment trigger held; at the scoring of the handoff when that held none (a surge,
    a hand-raise); at the task's intent without any scoring."""
    points = [p for p in facts.history_points if p.as_of <= task.created_at]
    if not points:
        return task.intent_at
    start = len(points) - 1
    if _holds(points[start], statuses, segments):
        while start > 0 and _holds(points[start - 1], statuses, segments):
            start -= 1
    found = points[start].as_of
    if start == 0:
        return found
    previous = points[start - 1].as_of
    return max((t for t in facts.activity_times if previous < t <= found), default=found)


def _holds(point: HistoryPoint, statuses: Collection[str], segments: Collection[str]) -> bool:
    return point.status in statuses or point.segment in segments


def _first_response(
    task: TaskFact, responses: Sequence[ResponseFact], now: datetime
) -> tuple[datetime | None, str | None]:
    found: list[tuple[datetime, str]] = [
        (r.occurred_at, r.kind)
        for r in responses
        if task.created_at <= r.occurred_at <= now
        and r.kind in RESPONSE_KINDS
        and (r.kind != "email" or r.direction == OUTGOING)
        and (r.owner_id is None or task.owner_id is None or r.owner_id == task.owner_id)
    ]
    if task.closed_as == "completed" and task.completed_at is not None:
        found.append((task.completed_at, "task"))
    if not found:
        return None, None
    at, kind = min(found)
    return at, kind
