"""Reasons: the short form in words, sorted by size, at most 500 characters; the account reason."""

from __future__ import annotations

from typing import Any

from hubsync.scoring import score_company, score_contact

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
    activities = [form(0, "Demo anfragen"), email(100, "unsubscribe")]
    score = score_contact(contact(), None, activities, default_model(), now=day(200))
    assert score.reason.startswith("unsubscribed (-20), demo / consultation request (+14), inactive 200 days (-10)")


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
