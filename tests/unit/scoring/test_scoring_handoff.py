"""Handoff: triggers, blocks, the one-open-task rule with re-arming, capacity and the seller factor's edges."""

from __future__ import annotations

import dataclasses

from hubsync.records import Owner
from hubsync.scoring import (
    ContactScore,
    FitLight,
    HandoffCandidate,
    HandoffState,
    HandoffTrigger,
    LeadStatus,
    Tier,
    free_capacity,
    handed_over,
    handoff_candidate,
    rearm,
    select_handoffs,
)
from hubsync.scoring.segments import fit_light, lead_status, segment

from .scoring_builders import day, default_model, load_variant


def scored(
    engagement: int, profile: int = 60, *, surge: bool = False, contact_id: int = 1, tier: Tier = Tier.SMB
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


def test_one_open_task_and_rearming() -> None:
    model = default_model()
    ready = scored(80)
    assert handoff_candidate(ready, HandoffState(open_task=True), model) is None
    state = handed_over()
    assert handoff_candidate(ready, rearm(state, LeadStatus.MQL), model) is None
    # Back to nurture re-arms it; the open task still blocks until it is closed.
    rearmed = rearm(state, LeadStatus.NURTURE)
    assert rearmed == HandoffState(open_task=True, armed=True)
    assert handoff_candidate(ready, rearmed, model) is None
    assert handoff_candidate(ready, dataclasses.replace(rearmed, open_task=False), model) is not None


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
