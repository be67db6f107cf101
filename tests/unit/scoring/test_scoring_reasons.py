"""Reasons: the short form in words, sorted by size, at most 500 characters; the account reason."""

from __future__ import annotations

import itertools
from typing import Any

from hubsync.scoring import score_company, score_contact
from hubsync.scoring.engagement import AtLast, EngagementResult
from hubsync.scoring.reasons import engagement_reason

from .scoring_builders import company, contact, day, default_model, email, form, load_variant, page, webinar


def test_short_reason_reads_like_the_spec() -> None:
    activities = [
        page(0, "/preise"),
        page(1, "/preise"),
        page(2, "/pricing"),
        webinar(3, "attended"),
        page(4, "/case-studies/a"),
    ]
    score = score_contact(contact(), company("120"), activities, default_model(), now=day(5))
    assert score.reason == (
        "pricing page 3\u00d7 (+45), webinar attended (+20), case study (+10), "
        "pricing page 3\u00d7 within two weeks (+10); "
        "fit: more than 50 employees (+50), target industry (+30)"
    )


def test_negative_and_inactivity_parts_are_named() -> None:
    """Contributions as of the last activity (day 100: the demo request's 50 points had faded to 29); at a score of
    0, which would hide their change, inactivity and fading are left out."""
    activities = [form(0, "Demo anfragen"), email(100, "unsubscribe")]
    score = score_contact(contact(), None, activities, default_model(), now=day(200))
    assert score.engagement == 0
    assert score.reason == "demo / consultation request (+29), unsubscribed (-20); fit: no rule matched"


def test_an_idle_contacts_reason_changes_only_with_its_score() -> None:
    """Nothing in the reason counts days: from one day to the next it changes only when the score does, and then
    only in what has faded and the inactivity."""
    model = default_model()
    activities = [form(0, "Demo anfragen"), webinar(2, "attended"), page(3, "/preise"), page(4, "/preise")]
    scores = [score_contact(contact(), None, activities, model, now=day(n)) for n in range(4, 400)]
    for before, after in itertools.pairwise(scores):
        assert (before.reason == after.reason) == (before.engagement == after.engagement), (before, after)
    day100 = scores[96]
    assert 0 < day100.engagement < 95
    assert day100.reason == (
        "demo / consultation request (+50), pricing page 2\u00d7 (+30), webinar attended (+20), "
        f"inactive since 2025-03-07 (-5), faded since 2025-03-07 ({day100.engagement - 95:+d}); fit: no rule matched"
    )
    # Within the grace period nothing has faded: the reason is the contributions as they count now.
    assert scores[0].reason == (
        "demo / consultation request (+50), pricing page 2\u00d7 (+30), webinar attended (+20); fit: no rule matched"
    )


def test_equal_parts_keep_config_order_and_parts_that_round_to_zero_are_left_out() -> None:
    cm = default_model().compiled
    first, second, third, fourth = (signal.label for signal in cm.signals[:4])
    values = (10.0, 0.4, 10.2, -9.6)
    result = EngagementResult(
        score=40,
        signals=tuple((i, 1, value, value) for i, value in enumerate(values)),
        patterns=(),
        inactivity_penalty=0,
        inactive_s=None,
        last_positive_ts=None,
        at_last=AtLast(None, values, (), sum(values)),
        surge=False,
        recent_points=0.0,
        baseline_weekly_points=0.0,
        ignored=0,
        has_history=False,
        hand_raise_ts=None,
    )
    assert engagement_reason(result, cm) == f"{first} (+10), {third} (+10), {fourth} (-10)"
    assert second not in engagement_reason(result, cm)


def test_no_activity() -> None:
    score = score_contact(contact(), None, [], default_model(), now=day(0))
    assert score.reason == "no engagement yet; fit: no rule matched"


def test_reason_stays_within_500_characters() -> None:
    def long_labels(data: dict[str, Any]) -> None:
        for i, signal in enumerate(data["signals"]):
            signal["label"] = f"{i:02d} " + "a long and descriptive signal label, " * 2

    model = load_variant(long_labels)
    activities = [
        page(0, "/"),
        page(0, "/vergleich/a"),
        page(0, "/case-studies/a"),
        page(0, "/preise"),
        page(0, "/blog/a"),
        form(0, "Webinar-Aufzeichnung anfordern"),
        form(0, "E-Book"),
        form(0, "Demo anfragen"),
        webinar(0, "registered"),
        webinar(0, "attended"),
        email(0, "open"),
        email(0, "click"),
    ]
    reason = score_contact(contact(jobtitle="CEO"), company(), activities, model, now=day(1)).reason
    assert len(reason) <= 500
    assert reason.endswith("\u2026")
    assert reason.startswith("07 a long")  # the demo request, the largest, comes first


def test_account_reason_names_missing_personas_and_buying_center() -> None:
    model = default_model()
    target = company("400")
    ceo = score_contact(contact(1, jobtitle="CEO"), target, [form(3, "Demo anfragen")], model, now=day(5))
    other = score_contact(contact(2), target, [webinar(4, "attended"), page(4, "/preise")], model, now=day(5))
    account = score_company(target, [ceo, other], model, now=day(5))
    assert account.personas_missing == ("influencer",)
    assert account.reason == (
        "best contact 50, 1 further engaged contact(s) (+10); no engaged influencer; "
        "fit: more than 50 employees (+50), target industry (+30)"
    )
