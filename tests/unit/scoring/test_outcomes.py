"""One contact's outcome from the facts the store holds (scoring/outcomes.py), worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hubsync.scoring.outcomes import (
    ContactOutcome,
    DealFact,
    HistoryPoint,
    HistorySummary,
    OutcomeFacts,
    ResponseFact,
    TaskFact,
    derive_outcome,
)

NOW = datetime(2026, 11, 30, tzinfo=UTC)
SCORED = datetime(2026, 9, 1, tzinfo=UTC)
STATUSES = {"sales_ready"}
SEGMENTS = {"A1", "A2", "B1"}


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def derive(facts: OutcomeFacts) -> ContactOutcome:
    return derive_outcome(facts, trigger_statuses=STATUSES, trigger_segments=SEGMENTS, now=NOW)


HISTORY = (
    HistoryPoint(at(9, 1), 10, "B4", "nurture"),
    HistoryPoint(at(9, 20), 55, "B2", "mql"),
    HistoryPoint(at(10, 1), 75, "B1", "sales_ready"),  # the trigger holds from here …
    HistoryPoint(at(10, 2), 80, "A1", "sales_ready"),  # … unbroken up to the handoff on 10-03
    HistoryPoint(at(10, 20), 95, "A1", "sales_ready"),  # after the deal was created on 10-10
)
TASK = TaskFact(
    created_at=at(10, 3),
    intent_at=at(10, 3, 8),
    owner_id=7,
    kind="lead",
    triggers=("sales_ready", "segment A1"),
    closed_as="completed",
    completed_at=at(10, 6),
)


def test_a_won_contact_with_a_handoff_a_response_and_lifecycle_dates() -> None:
    facts = OutcomeFacts(
        contact_id=1,
        created_at=at(8, 1),
        lifecycle={"lead": at(8, 1), "sql": at(10, 4)},
        lead_status="IN_PROGRESS",
        deals=(
            DealFact(11, at(7, 1), closed_won=True, close_date=at(7, 30), amount="5000"),  # before hubsync: history
            DealFact(12, at(10, 10), closed_won=None, close_date=None, amount=None),
            DealFact(13, at(10, 15), closed_won=True, close_date=at(11, 2), amount="12,500"),
        ),
        tasks=(TASK, TaskFact(at(11, 20), at(11, 20), 8, "lead", (), None, None)),
        history=HistorySummary(scored_from=SCORED, mql_at=at(9, 20), peak=HISTORY[-1]),
        history_points=HISTORY,
        # The demo request of 09-30 15:00 made the scoring of 10-01 sales_ready; 09-10 and 10-02 are not it.
        activity_times=(at(9, 10), at(9, 30, 15), at(10, 2, 8)),
        responses=(
            ResponseFact(at(10, 2), "call", "OUTBOUND", 7),  # before the handoff
            ResponseFact(at(10, 4), "email", "INCOMING", 7),  # the lead wrote: no response
            ResponseFact(at(10, 4, 15), "call", "OUTBOUND", 9),  # somebody else's call
            ResponseFact(at(10, 5), "email", "OUTGOING", None),  # nobody named: counts
            ResponseFact(at(10, 5, 12), "meeting", None, 7),
        ),
    )
    got = derive(facts)
    assert got.lead_at == at(8, 1)
    assert got.sql_at == at(10, 4)
    assert got.mql_at is None
    assert got.hubsync_mql_at == at(9, 20)
    assert got.lead_status == "IN_PROGRESS"
    # Deals since the first scoring (12, 13) are the outcome; 11 is history.
    assert (got.deals, got.deal_created_at) == (2, at(10, 10))
    assert (got.won_deal_created_at, got.won_at, got.won_amount) == (at(10, 15), at(11, 2), 12500.0)
    assert got.won_since_scored
    assert got.lost_at is None
    # The peak before the first outcome deal (10-10): 80 in A1 on 10-02, not the 95 after it.
    assert (got.peak_engagement, got.peak_segment) == (80, "A1")
    # The first task is the handoff; its trigger held unbroken from the scoring of 10-01, which found the activity of
    # 09-30 15:00 (after the scoring before, 09-20).
    assert (got.handed_over_at, got.handoff_owner_id, got.handoff_trigger) == (at(10, 3), 7, "sales_ready")
    assert got.triggered_at == at(9, 30, 15)
    # The first answer by the owner (or nobody named): the outgoing email of 10-05, before the task's completion.
    assert (got.first_response_at, got.response_kind) == (at(10, 5), "email")
    assert (got.task_closed, got.task_completed_at) == ("completed", at(10, 6))


def test_without_an_engagement_the_task_completion_is_the_response() -> None:
    got = derive(OutcomeFacts(contact_id=2, tasks=(TASK,), history=HistorySummary(scored_from=SCORED)))
    assert (got.first_response_at, got.response_kind) == (at(10, 6), "task")
    # No scoring before the handoff held a trigger: the task's intent is the trigger moment.
    assert got.triggered_at == at(10, 3, 8)


def test_a_contact_with_only_older_deals_keeps_them_as_history() -> None:
    facts = OutcomeFacts(
        contact_id=3,
        deals=(
            DealFact(21, at(6, 1), closed_won=False, close_date=at(7, 1), amount=None),
            DealFact(22, at(6, 5), closed_won=False, close_date=at(6, 20), amount=None),
        ),
        history=HistorySummary(scored_from=SCORED, peak=HistoryPoint(at(9, 5), 40, "C2", "mql")),
    )
    got = derive(facts)
    assert (got.deals, got.deal_created_at, got.lost_at) == (2, at(6, 1), at(6, 20))
    assert not got.deal_since_scored
    assert not got.won_since_scored
    # No outcome deal: the peak over the whole history, as the store aggregated it.
    assert (got.peak_engagement, got.peak_segment) == (40, "C2")


def test_a_contact_never_scored_has_no_peak_and_no_handoff() -> None:
    got = derive(OutcomeFacts(contact_id=4, lead_status="NEW"))
    assert (got.scored_from, got.peak_segment, got.handed_over_at, got.deals) == (None, None, None, 0)


def test_the_trigger_moment_of_a_surge_and_of_a_contact_hot_from_its_first_scoring() -> None:
    surge = (HistoryPoint(at(9, 1), 10, "B4", "nurture"), HistoryPoint(at(10, 3), 40, "B3", "mql"))
    facts = OutcomeFacts(
        contact_id=5,
        tasks=(TASK,),
        history=HistorySummary(scored_from=SCORED),
        history_points=surge,
        activity_times=(at(10, 2, 23),),
    )
    # No status or segment trigger at the handoff's scoring (10-03): the surge's activity of 10-02 23:00 found there.
    assert derive(facts).triggered_at == at(10, 2, 23)
    hot = (HistoryPoint(at(9, 1), 80, "A1", "sales_ready"),)
    first = replace(facts, history_points=hot, activity_times=(at(8, 20),))
    # Sales-ready at its first scoring: the trigger moment is that scoring, not the activity from before hubsync.
    assert derive(first).triggered_at == at(9, 1)
