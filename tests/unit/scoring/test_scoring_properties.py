"""Properties that must hold for any data: bounds, monotonicity in activity and time, determinism, and agreement
of segment, status and handoff selection with their rules."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.records import Activity, ActivityKind, Company, Contact
from hubsync.scoring import (
    HandoffCandidate,
    HandoffTrigger,
    LeadStatus,
    Tier,
    explain_contact,
    score_company,
    score_contact,
    select_handoffs,
)
from hubsync.scoring.segments import entry_threshold, lead_status, segment

from .scoring_builders import SITE, day, default_model

NOW_DAY = 400.0

_PAGES = ["/", "/?utm=x", "/preise", "/pricing", "/vergleich/a", "/vs-excel", "/case-studies/a", "/blog/a", "/jobs"]
_FORMS = [
    "E-Book: Lead Scoring",
    "Whitepaper ICP",
    "Case Study Müller",
    "Demo anfragen",
    "Contact us",
    "Webinar-Aufzeichnung anfordern",
    "Newsletter-Anmeldung",
]


def _attributes(**values: str | None) -> dict[str, str | None]:
    return values


POSITIVE: list[tuple[ActivityKind, dict[str, str | None]]] = [
    *[(ActivityKind.PAGE_VIEW, _attributes(url=SITE + p)) for p in _PAGES],
    *[(ActivityKind.FORM_SUBMISSION, _attributes(form_name=f)) for f in _FORMS if not f.startswith("Newsletter")],
    (ActivityKind.MARKETING_EVENT, {"event_type": "registered"}),
    (ActivityKind.MARKETING_EVENT, {"event_type": "attended"}),
    (ActivityKind.EMAIL_EVENT, {"event_type": "open"}),
    (ActivityKind.EMAIL_EVENT, {"event_type": "click"}),
    (ActivityKind.CRM_ENGAGEMENT, {"event_type": "email", "direction": "INCOMING"}),
    (ActivityKind.CRM_ENGAGEMENT, {"event_type": "meeting", "status": "COMPLETED"}),
]
TEMPLATES: list[tuple[ActivityKind, dict[str, str | None]]] = [
    *POSITIVE,
    (ActivityKind.FORM_SUBMISSION, {"form_name": "Newsletter-Anmeldung"}),
    (ActivityKind.MARKETING_EVENT, {"event_type": "no_show"}),
    (ActivityKind.EMAIL_EVENT, {"event_type": "unsubscribe"}),
    (ActivityKind.EMAIL_EVENT, {"event_type": "bounce", "status": "hard"}),
    (ActivityKind.EMAIL_EVENT, {"event_type": "bounce", "status": "soft"}),
    (ActivityKind.EMAIL_EVENT, {"event_type": "delivered"}),
    (ActivityKind.CRM_ENGAGEMENT, {"event_type": "email", "direction": "OUTGOING"}),
    (ActivityKind.CRM_ENGAGEMENT, {"event_type": "note"}),
]
_ids = iter(range(10**9))


def _build(template: tuple[ActivityKind, dict[str, str | None]], when: float) -> Activity:
    kind, attributes = template
    return Activity(id=f"p:{next(_ids)}", contact_id=1, kind=kind, occurred_at=day(when), **attributes)


days = st.floats(min_value=0, max_value=NOW_DAY, allow_nan=False)
activities = st.lists(st.builds(_build, st.sampled_from(TEMPLATES), days), max_size=40)
positive_activity = st.builds(_build, st.sampled_from(POSITIVE), days)
messy_text = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "abc", "1,000", "1.000", "50-100", "51-200", "10000+", "120", "30", "-5", "1e400"]),
    st.text(max_size=12),
)
contacts = st.builds(
    Contact,
    id=st.just(1),
    email=st.one_of(st.none(), st.sampled_from(["a@acme.example", "b@gmail.com", "broken", "@", ""])),
    jobtitle=st.one_of(messy_text, st.sampled_from(["CEO", "Werkstudentin", "Marketing Manager", "Head of IT"])),
    country=st.one_of(messy_text, st.sampled_from(["Germany", "DE", "France"])),
)
companies = st.one_of(
    st.none(),
    st.builds(
        Company,
        id=st.just(500),
        numberofemployees=messy_text,
        industry=st.one_of(messy_text, st.sampled_from(["COMPUTER_SOFTWARE", "RETAIL"])),
        domain=st.one_of(st.none(), st.sampled_from(["acme.example", "https://www.acme.example/", ""])),
    ),
)
statuses = st.one_of(st.none(), st.sampled_from(list(LeadStatus)))


def _score(contact: Contact, company: Company | None, acts: list[Activity], at: float, **kw: Any) -> Any:
    return score_contact(contact, company, acts, default_model(), now=day(at), **kw)


@given(activities, contacts, companies, statuses)
def test_every_score_is_between_0_and_100(
    acts: list[Activity], contact: Contact, company: Company | None, previous: LeadStatus | None
) -> None:
    score = _score(contact, company, acts, NOW_DAY, previous_status=previous)
    for value in (score.engagement, score.profile, score.completeness):
        assert 0 <= value <= 100
    assert len(score.reason) <= 500
    if company is not None:
        account = score_company(company, [score], default_model(), now=day(NOW_DAY))
        for value in (account.engagement, account.profile, account.completeness):
            assert 0 <= value <= 100


@given(activities, positive_activity)
def test_a_positive_activity_never_lowers_engagement(acts: list[Activity], extra: Activity) -> None:
    person = Contact(id=1)
    before = _score(person, None, acts, NOW_DAY).engagement
    after = _score(person, None, [*acts, extra], NOW_DAY).engagement
    assert after >= before


@given(activities, st.floats(min_value=0, max_value=2000, allow_nan=False))
def test_time_passing_without_activity_never_raises_engagement(acts: list[Activity], later: float) -> None:
    person = Contact(id=1)
    assert _score(person, None, acts, NOW_DAY + later).engagement <= _score(person, None, acts, NOW_DAY).engagement


@given(activities, contacts, companies, statuses, st.randoms(use_true_random=False))
def test_scoring_is_deterministic_and_ignores_activity_order(
    acts: list[Activity], contact: Contact, company: Company | None, previous: LeadStatus | None, rnd: random.Random
) -> None:
    first = _score(contact, company, acts, NOW_DAY, previous_status=previous)
    shuffled = list(acts)
    rnd.shuffle(shuffled)
    assert _score(contact, company, shuffled, NOW_DAY, previous_status=previous) == first
    explained = explain_contact(contact, company, shuffled, default_model(), now=day(NOW_DAY), previous_status=previous)
    assert explained.score == first


@given(activities, contacts, companies)
def test_activities_after_now_do_not_count(acts: list[Activity], contact: Contact, company: Company | None) -> None:
    now = NOW_DAY / 2
    known = [a for a in acts if a.occurred_at <= day(now)]
    assert _score(contact, company, acts, now) == _score(contact, company, known, now)


def _rank(status: LeadStatus) -> int:
    return [LeadStatus.NURTURE, LeadStatus.MQL, LeadStatus.SALES_READY].index(status)


@given(st.integers(0, 100), st.integers(0, 100))
def test_segment_follows_the_quarter_bins(profile: int, engagement: int) -> None:
    found = segment(profile, engagement, default_model())
    letter, digit = found[0], found[1]
    assert letter == ("A" if profile > 75 else "B" if profile > 50 else "C" if profile > 25 else "D")
    assert digit == ("1" if engagement > 75 else "2" if engagement > 50 else "3" if engagement > 25 else "4")


@given(st.integers(0, 100), statuses)
def test_status_follows_thresholds_with_hysteresis(engagement: int, previous: LeadStatus | None) -> None:
    model = default_model()
    status = lead_status(engagement, previous, model)
    plain = lead_status(engagement, None, model)
    assert plain == (
        LeadStatus.SALES_READY if engagement >= 71 else LeadStatus.MQL if engagement >= 31 else LeadStatus.NURTURE
    )
    # Up at once; never below what the score gives; a different status only by staying where it was.
    assert _rank(status) >= _rank(plain)
    if status != plain:
        assert status == previous
    if previous is not None:
        held = engagement >= entry_threshold(previous, model) - model.status.hysteresis
        assert (_rank(status) >= _rank(previous)) == (held or _rank(plain) >= _rank(previous))


def test_a_score_wobbling_around_71_does_not_flap() -> None:
    model = default_model()
    status = None
    seen = []
    for engagement in [50, 72, 69, 66, 71, 62, 61, 75, 64]:
        status = lead_status(engagement, status, model)
        seen.append(status)
    assert seen == [LeadStatus.MQL] + [LeadStatus.SALES_READY] * 8
    assert lead_status(60, LeadStatus.SALES_READY, model) == LeadStatus.MQL
    assert lead_status(21, LeadStatus.MQL, model) == LeadStatus.MQL
    assert lead_status(20, LeadStatus.MQL, model) == LeadStatus.NURTURE
    assert lead_status(20, LeadStatus.SALES_READY, model) == LeadStatus.NURTURE


candidates = st.lists(
    st.builds(
        HandoffCandidate,
        contact_id=st.integers(1, 10**6),
        engagement=st.integers(0, 100),
        profile=st.integers(0, 100),
        tier=st.sampled_from(list(Tier)),
        triggers=st.just((HandoffTrigger.SCORE,)),
    ),
    max_size=30,
    unique_by=lambda c: c.contact_id,
)


@given(candidates, st.integers(0, 40))
def test_handoff_selection_respects_capacity_and_threshold(queue: list[HandoffCandidate], free: int) -> None:
    capacity = default_model().handoff.capacity
    decision = select_handoffs(queue, free, default_model())
    selected, waiting = decision.selected, decision.waiting
    assert sorted(c.contact_id for c in (*selected, *waiting)) == sorted(c.contact_id for c in queue)
    must = [c for c in queue if c.engagement >= capacity.ceiling]
    assert all(c in selected for c in must)
    assert len(selected) == min(len(queue), max(free, len(must)))
    assert capacity.floor <= decision.effective_threshold <= capacity.ceiling
    assert all(c.engagement >= decision.effective_threshold for c in selected if c.engagement >= capacity.floor)
    assert all(c.engagement <= decision.effective_threshold for c in waiting)
    # Higher engagement always first; on a tie, never an smb before an enterprise.
    tiers = [Tier.ENTERPRISE, Tier.MID_MARKET, Tier.SMB, Tier.UNKNOWN]
    for chosen in selected:
        for other in waiting:
            assert chosen.engagement >= other.engagement
            if chosen.engagement == other.engagement:
                assert tiers.index(chosen.tier) <= tiers.index(other.tier)


@settings(max_examples=30)
@given(activities)
def test_explanation_adds_up_to_the_score(acts: list[Activity]) -> None:
    explanation = explain_contact(Contact(id=1), None, acts, default_model(), now=day(NOW_DAY))
    total = (
        sum(h.counted for h in explanation.history)
        + sum(p.counted for p in explanation.patterns)
        - explanation.inactivity_penalty
    )
    assert explanation.score.engagement == max(0, min(100, int(total + 0.5) if total >= 0 else 0))
    assert all(entry.occurred_at <= day(NOW_DAY) for entry in explanation.history)
