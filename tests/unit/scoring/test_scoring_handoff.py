"""Handoff: triggers, blocks, episodes with re-arming, hand-raisers, capacity per owner and the seller factor's
edges."""

from __future__ import annotations

import dataclasses

from hubsync.records import Owner
from hubsync.scoring import (
    ContactScore,
    FitLight,
    HandoffCandidate,
    HandoffState,
    HandoffTrigger,
    Tier,
    advance,
    free_capacity,
    handed_over,
    handoff_candidate,
    select_handoffs,
)
from hubsync.scoring.handoff import (
    HELD_COMPETITOR,
    HELD_NO_OWNER,
    Overload,
    Routing,
    TaskUpdate,
    decide,
    plan_handoffs,
)
from hubsync.scoring.profile import GATE_COMPETITOR, GATE_PERSONAL_EMAIL
from hubsync.scoring.segments import fit_light, lead_status, segment

from .scoring_builders import day, default_model, load_variant


def scored(
    engagement: int,
    profile: int = 60,
    *,
    surge: bool = False,
    contact_id: int = 1,
    tier: Tier = Tier.SMB,
    hand_raise: float | None = None,
    gates: tuple[str, ...] = (),
) -> ContactScore:
    model = default_model()
    return ContactScore(
        contact_id=contact_id,
        engagement=engagement,
        profile=profile,
        completeness=100,
        fit_light=fit_light(profile, model),
        tier=tier,
        segment=segment(profile, engagement, model),
        status=lead_status(engagement, None, model),
        surge=surge,
        reason="",
        last_positive_at=day(0),
        persona=None,
        gates=gates,
        hand_raise_at=day(hand_raise) if hand_raise is not None else None,
    )


def candidate(score: ContactScore) -> HandoffCandidate:
    found = handoff_candidate(score, HandoffState(), default_model())
    assert found is not None
    return found


def test_triggers() -> None:
    # Profile 50: yellow, but letter C, so C1 is no handoff segment.
    assert candidate(scored(80, 50)).triggers == (HandoffTrigger.STATUS, HandoffTrigger.SCORE)
    assert candidate(scored(80, 90)).triggers == (
        HandoffTrigger.STATUS,
        HandoffTrigger.SEGMENT,
        HandoffTrigger.SCORE,
    )
    assert candidate(scored(55, 90)).triggers == (HandoffTrigger.SEGMENT,)  # A2
    assert candidate(scored(40, 60, surge=True)).triggers == (HandoffTrigger.SURGE,)
    assert candidate(scored(65, 60)).triggers == (HandoffTrigger.SCORE,)
    assert handoff_candidate(scored(55, 60), HandoffState(), default_model()) is None  # B2, mql, below the floor


def test_red_fit_blocks_every_trigger() -> None:
    red = scored(95, 30, surge=True)
    assert red.fit_light == FitLight.RED
    assert handoff_candidate(red, HandoffState(), default_model()) is None


def test_surge_as_trigger_can_be_switched_off() -> None:
    model = load_variant(lambda data: data["handoff"].update(surge=False))
    assert handoff_candidate(scored(40, 60, surge=True), HandoffState(), model) is None


def test_one_task_per_episode_rearms_only_after_30_quiet_days() -> None:
    model = default_model()
    ready, quiet = scored(80), scored(40)
    assert handoff_candidate(ready, HandoffState(open_task=True), model) is None
    state = handed_over(HandoffState(), now=day(0))
    # The rep completes the task: no re-arm, however long the contact stays hot.
    state = dataclasses.replace(state, open_task=False)
    for n in range(1, 60):
        state = advance(state, ready, model, now=day(n))
        assert handoff_candidate(ready, state, model) is None
    # Quiet (no trigger) from day 60: disarmed until 30 days after the last trigger (day 59).
    for n in range(60, 89):
        state = advance(state, quiet, model, now=day(n))
        assert not state.armed
    assert not advance(state, quiet, model, now=day(88.9)).armed
    state = advance(state, quiet, model, now=day(89))
    assert state.armed
    assert state.triggers_held_at == day(59)
    assert handoff_candidate(ready, advance(state, ready, model, now=day(91)), model) is not None


def test_a_trigger_within_the_quiet_days_starts_them_again() -> None:
    model = default_model()
    state = dataclasses.replace(handed_over(HandoffState(), now=day(0)), open_task=False)
    state = advance(state, scored(40), model, now=day(20))
    state = advance(state, scored(40, surge=True), model, now=day(25))  # a surge is a trigger
    state = advance(state, scored(40), model, now=day(40))
    assert not state.armed
    assert advance(state, scored(40), model, now=day(55)).armed


def test_hand_raisers_outside_the_icp_get_a_task_competitors_do_not() -> None:
    model = default_model()
    red = scored(50, 30, hand_raise=0)
    found = handoff_candidate(red, HandoffState(), model)
    assert found is not None
    assert (found.hand_raiser, found.outside_icp, found.triggers[-1]) == (True, "fit red", HandoffTrigger.HAND_RAISER)
    gated = scored(50, 25, hand_raise=0, gates=(GATE_PERSONAL_EMAIL,))
    assert handoff_candidate(gated, HandoffState(), model).outside_icp == GATE_PERSONAL_EMAIL  # type: ignore[union-attr]  # a candidate, or the test fails here
    inside = handoff_candidate(scored(80, 90, hand_raise=0), HandoffState(), model)
    assert inside is not None
    assert inside.outside_icp is None
    rival = scored(50, 25, contact_id=2, hand_raise=0, gates=(GATE_COMPETITOR,))
    assert handoff_candidate(rival, HandoffState(), model) is None
    decision = decide([(red, HandoffState()), (rival, HandoffState())], _routing({1: (7, None), 2: (7, None)}), model)
    assert [a.candidate.contact_id for a in decision.assigned] == [1]
    assert [(h.contact_id, h.why) for h in decision.held] == [(2, HELD_COMPETITOR)]


def test_a_new_hand_raise_updates_an_open_task_and_creates_one_after_completion() -> None:
    model = default_model()
    first = scored(80, 90, hand_raise=0)
    state = handed_over(HandoffState(), now=day(0), hand_raise_at=day(0))
    # The hand-raise the task was made for is not news.
    assert decide([(first, state)], _routing({1: (7, None)}), model).updates == ()
    again = scored(80, 90, hand_raise=3)
    assert decide([(again, state)], _routing({1: (7, None)}), model).updates == (TaskUpdate(1, day(3)),)
    done = dataclasses.replace(state, open_task=False)
    decision = decide([(again, done)], _routing({1: (7, None)}), model)
    assert [a.candidate.hand_raise_at for a in decision.assigned] == [day(3)]
    # Unheard hand-raisers without any owner are listed, not dropped.
    nobody = decide([(again, done)], _routing({}), model)
    assert [(h.contact_id, h.why) for h in nobody.held] == [(1, HELD_NO_OWNER)]


def _routing(
    owners_of: dict[int, tuple[int | None, int | None]],
    *,
    capacity: dict[int, int] | None = None,
    load: dict[int, int] | None = None,
    round_robin: tuple[int, ...] = (),
) -> Routing:
    return Routing(
        routes=("contact_owner", "company_owner", "round_robin"),
        round_robin=round_robin,
        capacity=capacity if capacity is not None else {7: 20},
        load=load or {},
        owners_of=owners_of,
    )


def test_full_owners_are_skipped_round_robin_takes_the_most_free() -> None:
    model = default_model()
    leads = [candidate(scored(80 - i, contact_id=i)) for i in range(1, 4)]
    routing = _routing(
        {1: (1, None), 2: (1, 3), 3: (1, None)},
        capacity={1: 2, 2: 20, 3: 20, 4: 20},
        load={1: 2, 2: 15, 3: 19, 4: 10},
        round_robin=(2, 4),
    )
    decision = plan_handoffs(leads, routing, model)
    # Contact 2 goes to its company owner (3, one free); the others round robin to 4 (most free), never to 1.
    assert [(a.candidate.contact_id, a.owner_id) for a in decision.assigned] == [(1, 4), (2, 3), (3, 4)]
    assert all(a.over_capacity is None for a in decision.assigned)


def test_leads_wait_for_capacity_only_ceiling_leads_and_hand_raisers_exceed_it() -> None:
    model = default_model()
    queue = [
        candidate(scored(95, contact_id=1)),
        candidate(scored(80, contact_id=2)),
        handoff_candidate(scored(40, 30, contact_id=3, hand_raise=0), HandoffState(), model),
    ]
    routing = _routing({1: (7, None), 2: (7, None), 3: (7, None)}, capacity={7: 2}, load={7: 2})
    decision = plan_handoffs([c for c in queue if c is not None], routing, model)
    assert [(a.candidate.contact_id, a.over_capacity) for a in decision.assigned] == [
        (3, Overload.HAND_RAISER),
        (1, Overload.CEILING),
    ]
    assert [c.contact_id for c in decision.waiting] == [2]
    assert decision.effective_threshold == 90


def test_free_capacity_by_owner() -> None:
    model = load_variant(lambda data: data["handoff"]["capacity"].update(owners={"Lea@acme.example": 5}))
    owners = [
        Owner(id=1, email="anna@acme.example"),
        Owner(id=2, email="lea@ACME.example"),
        Owner(id=3, email="gone@acme.example", archived=True),
        Owner(id=4),
    ]
    # 20 - 3, 5 - 7 (over capacity counts as 0), archived none, 20 without email (the default).
    assert free_capacity(owners, {1: 3, 2: 7, 3: 0}, model) == 17 + 0 + 20


def test_leads_at_the_ceiling_are_always_handed_over() -> None:
    model = default_model()
    queue = [candidate(scored(s, contact_id=i)) for i, s in enumerate([95, 92, 90, 85])]
    decision = select_handoffs(queue, 1, model)
    assert [c.engagement for c in decision.selected] == [95, 92, 90]
    assert decision.effective_threshold == 90
    none_free = select_handoffs(queue, 0, model)
    assert [c.engagement for c in none_free.selected] == [95, 92, 90]
    assert [c.engagement for c in none_free.waiting] == [85]


def test_no_capacity_and_no_ceiling_leads_hands_over_nobody() -> None:
    decision = select_handoffs([candidate(scored(80))], 0, default_model())
    assert decision.selected == ()
    assert decision.effective_threshold == 90


def test_ties_go_to_the_bigger_account_then_the_better_fit() -> None:
    queue = [
        candidate(scored(80, 60, contact_id=1, tier=Tier.SMB)),
        candidate(scored(80, 60, contact_id=2, tier=Tier.UNKNOWN)),
        candidate(scored(80, 70, contact_id=3, tier=Tier.MID_MARKET)),
        candidate(scored(80, 60, contact_id=4, tier=Tier.ENTERPRISE)),
        candidate(scored(80, 65, contact_id=5, tier=Tier.MID_MARKET)),
    ]
    decision = select_handoffs(queue, 2, default_model())
    assert [c.contact_id for c in decision.selected] == [4, 3]
    assert [c.contact_id for c in decision.waiting] == [5, 1, 2]
    assert decision.effective_threshold == 80


def test_other_triggers_below_the_floor_queue_behind_scores() -> None:
    queue = [candidate(scored(40, 60, surge=True, contact_id=1)), candidate(scored(75, contact_id=2))]
    tight = select_handoffs(queue, 1, default_model())
    assert [c.contact_id for c in tight.selected] == [2]
    assert tight.effective_threshold == 75
    roomy = select_handoffs(queue, 5, default_model())
    assert [c.contact_id for c in roomy.selected] == [2, 1]
    assert roomy.effective_threshold == 61
