"""Engagement mechanics: caps, decay, patterns, inactivity, surge, the scoring instant, and the explanation."""

from __future__ import annotations

from datetime import datetime

import pytest

from hubsync.records import Activity
from hubsync.scoring import explain_contact, history_lines, score_contact

from .scoring_builders import contact, crm, day, default_model, email, form, page, profile_change, webinar


def engagement_at(activities: list[Activity], now: float) -> int:
    return score_contact(contact(), None, activities, default_model(), now=day(now)).engagement


def test_caps_limit_what_one_signal_adds() -> None:
    # Five pricing visits: the cap of 45, plus the intensity pattern (three visits within two weeks, +10).
    assert engagement_at([page(n, "/preise") for n in range(5)], 5) == 45 + 10
    assert engagement_at([page(7 * n, "/preise") for n in range(3)], 14) == 45 + 10
    assert engagement_at([page(10 * n, "/preise") for n in range(3)], 20) == 45  # not within two weeks
    assert engagement_at([page(n, f"/blog/{n}") for n in range(20)], 20) == 10
    assert engagement_at([form(0, "Demo anfragen"), form(1, "Kontakt")], 2) == 50


def test_decay_full_within_grace_then_halving_per_half_life() -> None:
    assert engagement_at([form(0, "Demo anfragen")], 30) == 50
    assert engagement_at([form(0, "Demo anfragen")], 120) == 25 - 5  # half, and one inactivity step
    assert engagement_at([form(0, "Demo anfragen")], 210) == 3  # a quarter, 12.5, less 10: 2.5 rounds up


def test_pattern_needs_the_order_and_the_window() -> None:
    in_order = [page(0, "/vergleich/a"), webinar(10, "attended"), page(20, "/preise")]
    assert engagement_at(in_order, 20) == 40 + 15
    wrong_order = [webinar(0, "attended"), page(10, "/vergleich/a"), page(20, "/preise")]
    assert engagement_at(wrong_order, 20) == 40
    too_slow = [page(0, "/vergleich/a"), webinar(10, "attended"), page(30.5, "/preise")]
    assert engagement_at(too_slow, 30.5) == 40
    # Other activity in between does not break the sequence; a later comparison can start a new one.
    with_noise = [page(0, "/vergleich/a"), email(1, "open"), webinar(10, "attended"), page(20, "/preise")]
    assert engagement_at(with_noise, 20) == 42 + 15
    restarted = [*too_slow, page(31, "/vs-excel"), webinar(35, "attended"), page(40, "/pricing")]
    (hit,) = explain_contact(contact(), None, restarted, default_model(), now=day(40)).patterns
    assert hit.completed_at == day(40)


def test_pattern_bonus_counts_once_and_fades_with_its_age() -> None:
    twice = [page(0, "/vergleich/a"), webinar(1, "attended"), page(2, "/preise")] * 2
    assert engagement_at(twice, 2) == 10 + 40 + 30 + 15
    explanation = explain_contact(
        contact(),
        None,
        [page(0, "/vergleich/a"), webinar(1, "attended"), page(2, "/preise")],
        default_model(),
        now=day(122),
    )
    (hit,) = explanation.patterns
    assert hit.completed_at == day(2)
    assert hit.decay == pytest.approx(0.5)
    assert hit.counted == pytest.approx(7.5)


def test_inactivity_counts_full_periods_since_the_last_positive_activity() -> None:
    person = contact()
    model = default_model()
    demo = [form(0, "Demo anfragen")]
    assert explain_contact(person, None, demo, model, now=day(89.9)).inactivity_penalty == 0
    assert explain_contact(person, None, demo, model, now=day(90)).inactivity_penalty == 5
    # An unsubscribe is not activity that resets the clock.
    unsubscribed = [*demo, email(150, "unsubscribe")]
    assert explain_contact(person, None, unsubscribed, model, now=day(180)).inactivity_penalty == 10
    # Nor is an email sales sent, or one that was only delivered.
    outgoing = [*demo, crm(150, "email", "OUTGOING"), email(150, "delivered")]
    assert explain_contact(person, None, outgoing, model, now=day(180)).inactivity_penalty == 10


def test_score_never_goes_below_zero() -> None:
    assert engagement_at([email(0, "unsubscribe"), email(0, "bounce", "hard")], 1) == 0


def test_surge() -> None:
    person = contact()
    model = default_model()

    def surging(activities: list[Activity], now: float) -> bool:
        return score_contact(person, None, activities, model, now=day(now)).surge

    # A new contact is new, not surging: no history of 35 days (first activity or create date) to rise from.
    assert not surging([form(10, "Demo anfragen")], 12)
    assert not surging([email(0, "open"), webinar(30, "attended"), page(32, "/preise")], 33)
    # A known contact, dormant for a month, asking for a demo: a surge (the baseline is 0, the rise is real).
    assert surging([email(0, "open"), form(40, "Demo anfragen")], 41)
    created_long_ago = contact(created_at=day(-100))
    assert score_contact(created_long_ago, None, [form(10, "Demo anfragen")], model, now=day(12)).surge
    assert not surging([email(0, "open"), email(40, "open")], 41)  # below min_points
    assert not surging([email(n / 10, "open") for n in range(100)], 10)  # opens are capped at 10
    # Steady activity, 15 points a week for five weeks: this week is no rise against the weeks before.
    steady = [page(7 * week, "/preise") for week in range(5)]
    assert not surging(steady, 28.5)
    # Quiet for a month after a first step five weeks ago, then 35 points in a week: a surge.
    assert surging([email(0, "open"), webinar(37, "attended"), page(39, "/preise")], 40)
    # Only the last seven days count as "now": as of day 14, day 7 belongs to the baseline.
    assert not surging([form(0, "E-Book"), webinar(7, "attended"), page(14, "/preise")], 14)


def test_activities_after_now_are_ignored() -> None:
    explanation = explain_contact(
        contact(), None, [form(0, "Demo anfragen"), page(5, "/preise")], default_model(), now=day(1)
    )
    assert explanation.score.engagement == 50
    assert explanation.ignored_activities == 1
    assert [h.signal for h in explanation.history] == ["demo_request"]


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        score_contact(contact(), None, [], default_model(), now=datetime(2025, 1, 1))  # noqa: DTZ001  (the point of the test)


def test_history_shows_decay_and_where_the_cap_cut() -> None:
    activities = [page(n, "/preise") for n in range(4)] + [email(0, "unsubscribe")]
    explanation = explain_contact(contact(), None, activities, default_model(), now=day(3))
    pricing = [h for h in explanation.history if h.signal == "pricing_page_view"]
    assert [h.counted for h in pricing] == [15, 15, 15, 0]  # the fourth visit is past the cap of 45
    lines = history_lines(explanation)
    assert "2025-03-06  pricing page  +15 (cap reached: counts +0.0)" in lines
    assert "2025-03-03  unsubscribed  -20" in lines
    # 45 (cap) + 10 (three visits within two weeks) - 20.
    assert lines[-1].startswith("engagement 35, profile ")

    aged = explain_contact(contact(), None, [form(0, "Demo anfragen")], default_model(), now=day(120))
    assert "2025-03-03  demo / consultation request  +50 × 0.50 decay = +25.0" in history_lines(aged)
    assert "inactive since 2025-03-03 (120 days)  -5" in history_lines(aged)


def test_spam_report_cancelled_webinar_and_job_change() -> None:
    model = default_model()
    person = contact()
    # A spam report takes 20 and never fades.
    assert engagement_at([webinar(0, "attended"), page(1, "/case-studies/a"), email(2, "spam_report")], 3) == 10
    late = explain_contact(person, None, [email(0, "spam_report")], model, now=day(400))
    assert [(h.signal, h.decay) for h in late.history] == [("spam_report", 1.0)]
    # A cancelled registration takes the registration's points back.
    assert engagement_at([webinar(0, "registered"), webinar(1, "cancelled")], 2) == 0
    # A job change (the pull's profile_change activity) earns 15, once.
    change = [profile_change(0, "jobtitle", "Manager → Head of IT"), profile_change(5, "company", "Acme → Beta")]
    assert engagement_at(change, 6) == 15
    assert "changed job 2× (+15)" in score_contact(person, None, change, model, now=day(6)).reason


def test_hand_raise_is_the_newest_hand_raiser_activity_within_14_days() -> None:
    model = default_model()
    demo = [form(0, "Demo anfragen"), form(3, "Kontakt")]
    assert score_contact(contact(), None, demo, model, now=day(10)).hand_raise_at == day(3)
    assert score_contact(contact(), None, demo, model, now=day(17)).hand_raise_at is None
    assert score_contact(contact(), None, [form(0, "E-Book")], model, now=day(1)).hand_raise_at is None
