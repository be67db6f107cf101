"""The worked examples of docs/scoring.md, each with the default model from config/hubsync.toml.

Days are relative to the first activity; scores are taken as of the last day named. Examples 10-13 are the rules
of issue 13 (docs/scoring.md: no cold-start surge, one task per episode, capacity per owner, hand-raisers).
"""

from __future__ import annotations

import dataclasses

from hubsync.records import Activity, Company, Contact, Owner
from hubsync.render.task_text import task_subject
from hubsync.scoring import (
    ContactScore,
    FitLight,
    HandoffState,
    LeadStatus,
    ScoringModel,
    Tier,
    advance,
    explain_contact,
    free_capacity,
    handed_over,
    handoff_candidate,
    history_lines,
    score_company,
    score_contact,
    select_handoffs,
)
from hubsync.scoring.handoff import HandoffCandidate, Routing, capacities, decide, plan_handoffs
from hubsync.scoring.segments import segment

from .scoring_builders import company, contact, day, default_model, email, form, load_variant, page, webinar


def _jan() -> tuple[Contact, Company, list[Activity]]:
    """Worked example 1: Jan, CEO of a 500-person software company, and his first three steps."""
    jan = contact(jobtitle="CEO", owner_id=77, firstname="Jan", lastname="Kowalski")
    software_500 = company(employees="500", industry="COMPUTER_SOFTWARE")
    return (
        jan,
        software_500,
        [form(0, "E-Book: Lead Scoring für den Mittelstand"), webinar(7, "attended"), page(14, "/preise")],
    )


def test_example_1_jan_kowalski_becomes_sales_ready_and_is_handed_over_once() -> None:
    model = default_model()
    jan, software_500, activities = _jan()
    state = HandoffState()

    day14 = score_contact(jan, software_500, activities, model, now=day(14))
    assert (day14.engagement, day14.status) == (45, LeadStatus.MQL)
    state = advance(state, day14, model, now=day(14))
    assert handoff_candidate(day14, state, model) is None  # no task

    activities.append(form(16, "Beratung vereinbaren", "/beratung"))
    day16 = score_contact(jan, software_500, activities, model, now=day(16), previous_status=day14.status)
    assert (day16.engagement, day16.status) == (95, LeadStatus.SALES_READY)
    state = advance(state, day16, model, now=day(16))
    candidate = handoff_candidate(day16, state, model)
    assert candidate is not None
    owner = Owner(id=77, email="vertrieb@acme.example")
    decision = select_handoffs([candidate], free_capacity([owner], {}, model), model)
    assert decision.selected == (candidate,)

    # The task body: the dated history lists all four activities.
    explanation = explain_contact(jan, software_500, activities, model, now=day(16), previous_status=day14.status)
    assert explanation.score == day16
    assert [(h.occurred_at, h.signal, h.points) for h in explanation.history] == [
        (day(0), "content_download", 10),
        (day(7), "webinar_attended", 20),
        (day(14), "pricing_page_view", 15),
        (day(16), "demo_request", 50),
    ]
    body = "\n".join(history_lines(explanation))
    for date, label in [
        ("2025-03-03", "content download"),
        ("2025-03-10", "webinar attended"),
        ("2025-03-17", "pricing page"),
        ("2025-03-19", "demo / consultation request"),
    ]:
        assert f"{date}  {label}" in body

    # Running the cycle again creates no second task: the task is open and the contact is no longer armed.
    state = handed_over(state, now=day(16), hand_raise_at=candidate.hand_raise_at)
    again = score_contact(jan, software_500, activities, model, now=day(16), previous_status=day16.status)
    assert handoff_candidate(again, advance(state, again, model, now=day(16)), model) is None
    # Even once the task is closed, he is not handed over again in this episode (see example 11).
    closed = dataclasses.replace(state, open_task=False)
    assert handoff_candidate(again, advance(closed, again, model, now=day(17)), model) is None


def test_example_2_the_matrix_great_fit_not_engaged_is_a4_without_task() -> None:
    model = default_model()
    assert segment(80, 20, model) == "A4"
    # The same with real data: 120 employees in a target industry (80), one webinar three weeks ago (20).
    person = contact()
    score = score_contact(person, company("120", "COMPUTER_SOFTWARE"), [webinar(0, "attended")], model, now=day(21))
    assert (score.profile, score.engagement, score.segment) == (80, 20, "A4")
    assert handoff_candidate(score, HandoffState(), model) is None


def test_example_3_whitepaper_then_buying() -> None:
    model = default_model()
    buyer = contact(jobtitle="Leiterin Marketing")
    target = company("250", "INFORMATION_TECHNOLOGY_AND_SERVICES")
    activities = [form(0, "Whitepaper ICP und Zielkunden"), email(2, "open"), email(5, "open")]

    researching = score_contact(buyer, target, activities, model, now=day(5))
    assert (researching.engagement, researching.status) == (14, LeadStatus.NURTURE)

    # Webinar and pricing page a week apart. (The webinar is then just outside the 7-day surge window, so the
    # rise does not count as a surge here; a surge would be a handoff of its own.)
    activities += [webinar(10, "attended"), page(17, "/pricing")]
    evaluating = score_contact(buyer, target, activities, model, now=day(17), previous_status=researching.status)
    assert (evaluating.engagement, evaluating.status) == (49, LeadStatus.MQL)
    assert handoff_candidate(evaluating, HandoffState(), model) is None

    activities.append(form(18, "Demo anfragen", "/demo"))
    buying = score_contact(buyer, target, activities, model, now=day(18), previous_status=evaluating.status)
    assert (buying.engagement, buying.status) == (99, LeadStatus.SALES_READY)
    candidate = handoff_candidate(buying, HandoffState(), model)
    assert candidate is not None
    assert select_handoffs([candidate], 1, model).selected == (candidate,)


def test_example_4_unsubscribe_drops_20_at_once_and_never_fades() -> None:
    model = default_model()
    person = contact()
    engaged = [webinar(0, "attended"), page(1, "/case-studies/mueller-maschinenbau"), form(2, "Checkliste CRM")]
    unsubscribed = [*engaged, email(10, "unsubscribe")]

    assert score_contact(person, None, engaged, model, now=day(10)).engagement == 40
    assert score_contact(person, None, unsubscribed, model, now=day(10)).engagement == 20

    # Two months on, the positive points have faded but the unsubscribe still takes exactly 20.
    before = score_contact(person, None, engaged, model, now=day(62)).engagement
    after = score_contact(person, None, unsubscribed, model, now=day(62)).engagement
    assert before < 40
    assert before - after == 20

    late = explain_contact(person, None, unsubscribed, model, now=day(400))
    unsubscribe = next(h for h in late.history if h.signal == "unsubscribe")
    assert (unsubscribe.decay, unsubscribe.counted) == (1.0, -20)
    assert all(h.decay < 0.1 for h in late.history if h.points > 0)


def test_example_5_cooling_loses_two_inactivity_steps_on_top_of_decay() -> None:
    model = default_model()
    person = contact()
    activities = [form(0, "Demo anfragen"), webinar(0, "attended"), page(0, "/preise")]

    explanation = explain_contact(person, None, activities, model, now=day(200))
    assert explanation.inactivity_penalty == 10
    assert explanation.inactive_days == 200
    # 85 points, 170 days past the 30-day grace period with a 90-day half-life: 85 * 0.5 ** (170 / 90) = 22.95.
    assert all(abs(h.decay - 0.5 ** (170 / 90)) < 1e-9 for h in explanation.history)
    assert explanation.score.engagement == 13  # 22.95 - 10, rounded
    assert explain_contact(person, None, activities, model, now=day(179)).inactivity_penalty == 5


def test_example_6_icp_fit_of_a_company() -> None:
    model = default_model()
    now = day(0)

    fit = score_company(company("120", "COMPUTER_SOFTWARE"), [], model, now=now)
    assert (fit.profile, fit.fit_light, fit.completeness) == (80, FitLight.GREEN, 100)

    small = score_company(company("30", "COMPUTER_SOFTWARE"), [], model, now=now)
    assert (small.profile, small.fit_light, small.completeness) == (30, FitLight.RED, 100)

    for unknown in (None, "", "abc"):
        unknown_size = score_company(company(unknown, "COMPUTER_SOFTWARE"), [], model, now=now)
        assert (unknown_size.profile, unknown_size.fit_light) == (30, FitLight.RED)
        assert unknown_size.completeness < 100


def _candidate(contact_id: int, engagement: int) -> HandoffCandidate:
    model = default_model()
    status = LeadStatus.SALES_READY if engagement >= 71 else LeadStatus.MQL
    score = ContactScore(
        contact_id=contact_id,
        engagement=engagement,
        profile=60,
        completeness=100,
        fit_light=FitLight.YELLOW,
        tier=Tier.SMB,
        segment=segment(60, engagement, model),
        status=status,
        surge=False,
        reason="",
        last_positive_at=day(0),
        persona=None,
    )
    candidate = handoff_candidate(score, HandoffState(), model)
    assert candidate is not None
    return candidate


def test_example_7_seller_factor_moves_the_threshold_with_capacity() -> None:
    model = default_model()
    scores = [72, 73, 75, 77, 79, 81, 83, 85, 86, 88]
    ready = [_candidate(i, s) for i, s in enumerate(scores)]
    warm = [_candidate(100 + i, s) for i, s in enumerate([61, 65, 70])]
    owners = [Owner(id=1, email="a@acme.example"), Owner(id=2, email="b@acme.example")]

    busy = free_capacity(owners, {1: 18, 2: 18}, model)
    assert busy == 4
    tight = select_handoffs([*ready, *warm], busy, model)
    assert [c.engagement for c in tight.selected] == [88, 86, 85, 83]
    assert tight.effective_threshold == 83  # the fourth candidate's score
    assert tight.free_capacity == 4

    idle = free_capacity(owners, {}, model)
    assert idle == 40
    roomy = select_handoffs([*ready, *warm], idle, model)
    assert sorted(c.engagement for c in roomy.selected) == sorted([*scores, 61, 65, 70])
    assert roomy.effective_threshold == 61
    # 60 is below the floor: not a candidate at all.
    status_60 = ContactScore(
        contact_id=999,
        engagement=60,
        profile=60,
        completeness=100,
        fit_light=FitLight.YELLOW,
        tier=Tier.SMB,
        segment=segment(60, 60, model),
        status=LeadStatus.MQL,
        surge=False,
        reason="",
        last_positive_at=day(0),
        persona=None,
    )
    assert handoff_candidate(status_60, HandoffState(), model) is None


def test_example_8_buying_center() -> None:
    model = default_model()
    target = company("400", "COMPUTER_SOFTWARE")
    ceo = contact(1, jobtitle="CEO")
    manager = contact(2, jobtitle="Marketing Manager")
    analyst = contact(3, jobtitle="Analyst")
    scores = [
        score_contact(ceo, target, [form(3, "Demo anfragen"), page(4, "/preise")], model, now=day(14)),
        score_contact(
            manager,
            target,
            [webinar(0, "attended"), page(6, "/fallstudien/stadtwerke-nordlicht"), form(9, "E-Book: Das B2B")],
            model,
            now=day(14),
        ),
        score_contact(analyst, target, [webinar(10, "attended"), page(13, "/pricing")], model, now=day(14)),
    ]
    assert [s.engagement for s in scores] == [65, 40, 35]

    account = score_company(target, scores, model, now=day(14))
    assert account.buying_center_active
    assert account.active_contacts == 3
    assert account.engagement == 65 + 20  # the best contact + 10 for each of the two further contacts >= 31
    assert account.personas_present == ("decision_maker", "influencer")
    assert account.personas_missing == ()

    # Two of them only: no buying center, and the account engagement adds 10 once.
    pair = score_company(target, scores[:2], model, now=day(14))
    assert (pair.buying_center_active, pair.engagement) == (False, 75)
    assert pair.personas_missing == ()
    # A month later nobody has been active within 30 days.
    later = [score_contact(ceo, target, [form(3, "Demo anfragen")], model, now=day(45))] * 3
    assert not score_company(target, later, model, now=day(45)).buying_center_active


def test_example_9_random_clicks_score_less_than_a_meaningful_sequence() -> None:
    model = default_model()
    person = contact()
    opens = [email(n, "open") for n in range(30)]
    sequence = [page(0, "/vergleich/lead-scoring-tools"), webinar(7, "attended"), page(14, "/preise")]

    clicks = score_contact(person, None, opens, model, now=day(29)).engagement
    journey = score_contact(person, None, sequence, model, now=day(29)).engagement
    assert clicks == 10  # capped
    assert journey == 5 + 20 + 15 + 15  # with the comparison -> webinar -> pricing bonus
    assert clicks < journey


def _route_to(owner: int, *contacts: int) -> Routing:
    return Routing(
        routes=("contact_owner", "company_owner", "round_robin"),
        round_robin=(),
        capacity={owner: 20},
        load={},
        owners_of=dict.fromkeys(contacts, (owner, None)),
    )


def _daily(
    person: Contact,
    where: Company | None,
    activities: list[Activity],
    days: range,
    model: ScoringModel,
    *,
    completes: bool,
) -> list[tuple[int, HandoffCandidate]]:
    """Score the contact every day of `days`, decide, create the tasks (and let the rep complete each one the same
    day when `completes`); the tasks made, as (day, candidate)."""
    state, status, tasks = HandoffState(), None, []
    for n in days:
        known = [a for a in activities if a.occurred_at <= day(n)]
        score = score_contact(person, where, known, model, now=day(n), previous_status=status)
        status = score.status
        state = advance(state, score, model, now=day(n))
        decision = decide([(score, state)], _route_to(77, person.id), model)
        for assignment in decision.assigned:
            tasks.append((n, assignment.candidate))
            state = handed_over(state, now=day(n), hand_raise_at=assignment.candidate.hand_raise_at)
        if completes:
            state = dataclasses.replace(state, open_task=False)
    return tasks


def test_example_10_no_cold_start_surge_jan_gets_his_only_task_on_day_16() -> None:
    model = default_model()
    jan, software_500, activities = _jan()
    activities.append(form(16, "Beratung vereinbaren", "/beratung"))
    # Day 7 (two activities in a week after none) would be a surge without the history rule.
    assert not score_contact(jan, software_500, activities[:2], model, now=day(7)).surge
    tasks = _daily(jan, software_500, activities, range(17), model, completes=False)
    assert [(n, c.engagement) for n, c in tasks] == [(16, 95)]
    explanation = explain_contact(jan, software_500, activities, model, now=day(16))
    assert [h.signal for h in explanation.history] == [
        "content_download",
        "webinar_attended",
        "pricing_page_view",
        "demo_request",
    ]


def test_example_11_one_task_per_episode() -> None:
    model = default_model()
    person = contact(owner_id=77)
    yellow = company("120", industry=None)  # 50: yellow, no handoff segment
    at_80 = [webinar(n, "attended") for n in (0, 1)] + [page(n, "/case-studies/x") for n in (0, 1)]
    at_80 += [form(n, "Checkliste CRM") for n in (0, 1)]
    assert score_contact(person, yellow, at_80, model, now=day(19)).engagement == 80
    # Hot from day 1 for weeks, the rep completing each task the same day: one task.
    assert [n for n, _ in _daily(person, yellow, at_80, range(20), model, completes=True)] == [1]
    # Below every trigger from day 67 (decay); a rise on day 80, only 13 quiet days later, is the same episode.
    rise = [page(80, "/preise"), page(80.1, "/preise"), page(80.2, "/preise")]
    same_episode = _daily(person, yellow, at_80 + rise, range(100), model, completes=True)
    assert [n for n, _ in same_episode] == [1]
    # After 30 quiet days a new demo request: a second task.
    demo = [form(100, "Demo anfragen", "/demo")]
    tasks = _daily(person, yellow, at_80 + demo, range(101), model, completes=True)
    assert [n for n, _ in tasks] == [1, 100]
    # A rise without a hand-raise after 30 quiet days starts a new episode too.
    late_rise = [page(n, "/preise") for n in (100, 100.1, 100.2)]
    assert [n for n, _ in _daily(person, yellow, at_80 + late_rise, range(101), model, completes=True)] == [1, 100]


def test_example_12_per_owner_capacity_routes_past_a_full_owner() -> None:
    model = load_variant(lambda data: data["handoff"]["capacity"].update(owners={"x@acme.example": 2}))
    x, y = Owner(id=1, email="x@acme.example"), Owner(id=2, email="y@acme.example")
    load = {1: 2, 2: 10}
    hot = [_candidate(i, 80 + i) for i in (11, 12, 13)]
    routing = Routing(
        routes=("contact_owner", "company_owner", "round_robin"),
        round_robin=(1, 2),
        capacity=capacities([x, y], model),
        load=load,
        owners_of={c.contact_id: (1, None) for c in hot},
    )
    decision = plan_handoffs(hot, routing, model)
    assert [(a.candidate.contact_id, a.owner_id, a.over_capacity) for a in decision.assigned] == [
        (13, 2, None),
        (12, 2, None),
        (11, 2, None),
    ]
    # With a company owner who has room, that is the next step.
    z = Owner(id=3, email="z@acme.example")
    with_company = dataclasses.replace(
        routing, capacity=capacities([x, y, z], model), owners_of={c.contact_id: (1, 3) for c in hot}
    )
    assert {a.owner_id for a in plan_handoffs(hot, with_company, model).assigned} == {3}


def test_example_13_hand_raiser_outside_the_icp() -> None:
    model = load_variant(lambda data: data["profile"]["gates"].update(competitor_domains=["rival.example"]))
    retailer = company("30", "RETAIL")
    ceo = contact(1, jobtitle="CEO", owner_id=77)
    demo = [form(0, "Demo anfragen", "/demo", contact_id=1)]
    score = score_contact(ceo, retailer, demo, model, now=day(0.1))
    assert (score.profile, score.fit_light) == (20, FitLight.RED)
    decision = decide([(score, HandoffState())], _route_to(77, 1, 2), model)
    (assignment,) = decision.assigned
    assert assignment.candidate.outside_icp == "fit red"
    assert task_subject(score, "Chris CEO", outside_icp=assignment.candidate.outside_icp).startswith(
        "[hubsync] hand-raiser outside ICP (fit red): "
    )
    # The same from a competitor's domain: no task, held for `status`.
    rival = contact(2, jobtitle="CEO", owner_id=77, email="ceo@rival.example")
    rival_score = score_contact(rival, retailer, [form(0, "Demo anfragen", contact_id=2)], model, now=day(0.1))
    held = decide([(rival_score, HandoffState())], _route_to(77, 1, 2), model)
    assert held.assigned == ()
    assert [(h.contact_id, h.why) for h in held.held] == [(2, "competitor domain")]
