"""The account handoff (scoring.md §6): the trigger, the company's episode, the buying center a task lists, cover by a
contact's task, and the company owner's capacity."""

from __future__ import annotations

import dataclasses

from hubsync.scoring import CompanyScore, ContactScore, FitLight, HandoffState, Tier, handed_over
from hubsync.scoring.account_handoff import (
    AccountCandidate,
    AccountCover,
    account_candidate,
    account_triggered,
    advance_account,
    buying_center,
    plan_accounts,
)
from hubsync.scoring.handoff import HandoffDecision, Routing, decide

from .scoring_builders import day, default_model
from .test_scoring_handoff import scored

ACME = 500


def company(segment: str = "A1", *, active: bool = True, engagement: int = 80, company_id: int = ACME) -> CompanyScore:
    return CompanyScore(
        company_id=company_id,
        engagement=engagement,
        profile=80,
        completeness=100,
        fit_light=FitLight.GREEN,
        tier=Tier.MID_MARKET,
        segment=segment,
        buying_center_active=active,
        active_contacts=3 if active else 1,
        engaged_contacts=3,
        personas_present=("decision_maker",),
        personas_missing=("influencer",),
        reason="",
    )


def member(contact_id: int, engagement: int, *, active_on: float | None = 9) -> ContactScore:
    score = scored(engagement, 80, contact_id=contact_id)
    return dataclasses.replace(score, last_positive_at=day(active_on) if active_on is not None else None)


def account(company_id: int, owner: int | None, members: tuple[int, ...], engagement: int = 80) -> AccountCandidate:
    return AccountCandidate(company_id, owner, engagement, 80, Tier.MID_MARKET, "A1", members)


def routing(capacity: dict[int, int], load: dict[int, int] | None = None) -> Routing:
    return Routing(("contact_owner", "company_owner"), (), capacity, load or {}, {})


NOTHING = HandoffDecision(assigned=(), waiting=(), effective_threshold=61, free_capacity=0)


def test_the_trigger_is_an_active_buying_center_in_a_handoff_segment() -> None:
    model = default_model()
    assert account_triggered(company("A1"), model)
    assert account_triggered(company("B1"), model)
    assert not account_triggered(company("A3"), model)
    assert not account_triggered(company("A1", active=False), model)


def test_the_buying_center_lists_engaged_or_recently_active_contacts_best_first() -> None:
    model = default_model()
    members = [member(1, 40), member(2, 65), member(3, 20), member(4, 10, active_on=None), member(5, 20, active_on=-60)]
    # Contact 3 is below `engaged_min` (31) but active within 30 days; 4 never was; 5 was 70 days ago.
    assert [c.contact_id for c in buying_center(members, model, now=day(10))] == [2, 1, 3]


def test_one_account_task_per_episode_re_armed_after_30_quiet_days() -> None:
    model = default_model()
    hot, cold = company("A1"), company("A1", active=False)
    members = [member(1, 65), member(2, 50), member(3, 40)]

    def candidate(state: HandoffState, at: float) -> AccountCandidate | None:
        return account_candidate(hot, state, members, model, owner_id=7, now=day(at))

    found = candidate(HandoffState(), 10)
    assert found is not None
    assert (found.owner_id, found.members, found.segment) == (7, (1, 2, 3), "A1")
    assert candidate(HandoffState(open_task=True), 10) is None
    state = dataclasses.replace(handed_over(HandoffState(), now=day(10)), open_task=False)
    for n in range(11, 40):
        state = advance_account(state, hot, model, now=day(n))
        assert candidate(state, n) is None
    # The buying center goes quiet after day 39: armed again 30 days later, not before.
    state = advance_account(state, cold, model, now=day(68.9))
    assert not state.armed
    state = advance_account(state, cold, model, now=day(69))
    assert state.armed
    assert candidate(state, 70) is not None


def test_a_contact_task_covers_the_buying_center_new_ones_before_open_ones() -> None:
    model = default_model()
    by_owner = Routing(("contact_owner",), (), {7: 5}, {}, {2: (7, None)})
    contacts = decide([(scored(80, 90, contact_id=2), HandoffState())], by_owner, model)
    accounts = [account(ACME, 7, (1, 2, 3)), account(501, 7, (4, 5)), account(502, 7, (6,))]
    decision = plan_accounts(accounts, by_owner, contacts, open_contacts={1, 5})
    assert decision.covered == (AccountCover(ACME, 2, new_task=True), AccountCover(501, 5, new_task=False))
    assert [a.candidate.company_id for a in decision.assigned] == [502]


def test_account_tasks_go_to_the_company_owner_within_capacity_only() -> None:
    accounts = [
        account(1, 7, (11,), engagement=90),
        account(2, 7, (12,), engagement=85),
        account(3, 8, (13,), engagement=80),
        account(4, None, (14,), engagement=75),
        account(5, 9, (15,), engagement=70),  # owner 9 is archived or unknown: not in the routing's capacity
    ]
    # Owner 7 has one task's room left, owner 8 none (its load is beyond capacity).
    decision = plan_accounts(accounts, routing({7: 3, 8: 1}, {7: 2, 8: 4}), NOTHING, open_contacts=())
    assert [(a.candidate.company_id, a.owner_id) for a in decision.assigned] == [(1, 7)]
    assert [a.company_id for a in decision.waiting] == [2, 3]
    assert [a.company_id for a in decision.unrouted] == [4, 5]


def test_contacts_take_capacity_first() -> None:
    model = default_model()
    lead = scored(80, 90, contact_id=21)
    contacts = decide([(lead, HandoffState())], Routing(("contact_owner",), (), {7: 1}, {}, {21: (7, None)}), model)
    assert [a.owner_id for a in contacts.assigned] == [7]
    decision = plan_accounts([account(ACME, 7, (1, 2, 3))], routing({7: 1}), contacts, open_contacts=())
    assert decision.assigned == ()
    assert [a.company_id for a in decision.waiting] == [ACME]
