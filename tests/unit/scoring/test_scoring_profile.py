"""Profile score: HubSpot's free-text values, rules, gates, completeness, fit light and tier."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.records import Company, Contact
from hubsync.scoring import FitLight, Tier, score_company, score_contact
from hubsync.scoring.parsing import email_domain, parse_number, web_domain
from hubsync.scoring.segments import tier

from .scoring_builders import company, contact, day, default_model, load_variant


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("120", 120),
        (" 120 ", 120),
        ("1,000", 1000),
        ("1.000", 1000),  # German thousands separator
        ("1 000", 1000),
        ("1'000", 1000),  # Swiss
        ("12.500.000", 12_500_000),
        ("1,234,567", 1_234_567),
        ("2,5", 2.5),
        ("2.5", 2.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("50-100", 50),  # a range counts as its lower bound
        ("51 - 200", 51),
        ("1001–5000", 1001),
        ("200 bis 500", 200),
        ("10000+", 10000),
        ("ca. 300", 300),
        ("-5", -5),
        ("", None),
        ("   ", None),
        ("abc", None),
        ("n/a", None),
        ("12abc", None),
        ("1e400", None),
        ("1..2", None),
        (None, None),
    ],
)
def test_parse_number_reads_what_can_be_read(text: str | None, number: float | None) -> None:
    assert parse_number(text) == number


def test_domains() -> None:
    assert email_domain("Jan.Kowalski@ACME.example ") == "acme.example"
    assert email_domain("broken") is None
    assert email_domain("trailing@") is None
    assert web_domain("https://www.Acme.example/about") == "acme.example"
    assert web_domain("acme.example") == "acme.example"
    assert web_domain("") is None


@pytest.mark.parametrize(
    ("employees", "expected"),
    [
        ("120", Tier.SMB),
        ("199", Tier.SMB),
        ("200", Tier.MID_MARKET),
        ("201-500", Tier.MID_MARKET),
        ("999", Tier.MID_MARKET),
        ("1,000", Tier.ENTERPRISE),
        ("1.000", Tier.ENTERPRISE),
        ("", Tier.UNKNOWN),
        ("abc", Tier.UNKNOWN),
        (None, Tier.UNKNOWN),
        ("0", Tier.UNKNOWN),
        ("-5", Tier.UNKNOWN),
    ],
)
def test_tier_from_company_size(employees: str | None, expected: Tier) -> None:
    assert tier(company(employees), default_model()) == expected


def test_no_company_is_unknown_tier_and_incomplete_profile() -> None:
    score = score_contact(contact(jobtitle="CEO"), None, [], default_model(), now=day(0))
    assert score.tier == Tier.UNKNOWN
    assert score.profile == 20
    assert score.completeness == 25  # the job title is the only one of four rules known


def test_rules_add_up_and_are_capped_at_100() -> None:
    model = default_model()
    full = score_contact(
        contact(jobtitle="Geschäftsführerin", country="Deutschland"), company("5.000"), [], model, now=day(0)
    )
    assert (full.profile, full.completeness, full.fit_light) == (100, 100, FitLight.GREEN)
    assert full.persona == "decision_maker"
    assert "decision maker (+20)" in full.reason
    assert "DACH region (+10)" in full.reason

    influencer = score_contact(contact(jobtitle="Marketingmanagerin", country="France"), None, [], model, now=day(0))
    assert (influencer.profile, influencer.persona) == (10, "influencer")
    assert influencer.completeness == 50

    nobody = score_contact(contact(jobtitle="Analyst"), company("30", "RETAIL"), [], model, now=day(0))
    assert (nobody.profile, nobody.persona, nobody.completeness) == (0, None, 75)
    assert "fit: no rule matched" in nobody.reason


@pytest.mark.parametrize(
    ("person", "gate"),
    [
        (Contact(id=1, email="jan@gmail.com", jobtitle="CEO"), "personal email address"),
        (Contact(id=1, email="jan@GMX.de", jobtitle="CEO"), "personal email address"),
        (Contact(id=1, email="jan@acme.example", jobtitle="Werkstudent Marketing"), "student / intern"),
        (Contact(id=1, email="jan@acme.example", jobtitle="Marketing Intern"), "student / intern"),
        (Contact(id=1, email="jan@acme.example", jobtitle="Praktikantin Vertrieb"), "student / intern"),
    ],
)
def test_gates_cap_the_profile_whatever_the_points(person: Contact, gate: str) -> None:
    score = score_contact(person, company("5000"), [], default_model(), now=day(0))
    assert score.profile == 25
    assert score.gates == (gate,)
    assert f"capped at 25: {gate}" in score.reason
    assert score.segment[0] == "D"


def test_international_is_not_an_intern() -> None:
    person = Contact(id=1, email="a@acme.example", jobtitle="Head of International Sales")
    score = score_contact(person, company("5000"), [], default_model(), now=day(0))
    assert score.gates == ()
    assert score.profile == 100


def test_competitor_gate_on_contact_and_company() -> None:
    data_model = load_variant(lambda data: data["profile"]["gates"].update(competitor_domains=["rival.example"]))
    rival = Company(id=9, domain="https://www.rival.example", numberofemployees="5000", industry="INTERNET")
    assert score_company(rival, [], data_model, now=day(0)).profile == 25
    spy = Contact(id=1, email="spy@rival.example", jobtitle="CEO")
    assert score_contact(spy, company("5000"), [], data_model, now=day(0)).gates == ("competitor",)
    assert score_contact(contact(jobtitle="CEO"), company("5000"), [], data_model, now=day(0)).gates == ()


def test_numeric_ranges_and_properties_outside_the_record_fields() -> None:
    def variant(data: dict[str, Any]) -> None:
        rules = data["profile"]["rules"]
        rules.append(
            {
                "name": "revenue",
                "source": "company",
                "property": "annualrevenue",
                "cases": [
                    {"gte": 10_000_000, "points": 15, "label": "revenue 10M+"},
                    {"gte": 1_000_000, "lt": 10_000_000, "points": 5, "label": "revenue 1-10M"},
                ],
            }
        )
        rules.append(
            {
                "name": "lead_source",
                "source": "contact",
                "property": "hs_analytics_source",
                "cases": [{"one_of": ["ORGANIC_SEARCH", "REFERRALS"], "points": 5, "label": "organic"}],
            }
        )

    model = load_variant(variant)
    small = Company(id=1, numberofemployees="10", annualrevenue="2.500.000")
    person = Contact(id=1, properties={"hs_analytics_source": "organic_search"})
    score = score_contact(person, small, [], model, now=day(0))
    assert score.profile == 5 + 5
    big = Company(id=1, numberofemployees="10", annualrevenue="12,000,000")
    assert score_contact(Contact(id=1), big, [], model, now=day(0)).profile == 15
    unreadable = Company(id=1, numberofemployees="10", annualrevenue="lots")
    assert score_contact(Contact(id=1), unreadable, [], model, now=day(0)).completeness < 100


@pytest.mark.parametrize("employees", ["0", "-5", "0-10"])
def test_an_employee_count_of_0_or_below_is_unknown_for_size_tier_and_completeness(employees: str) -> None:
    score = score_contact(contact(jobtitle="CEO"), company(employees), [], default_model(), now=day(0))
    assert score.tier == Tier.UNKNOWN
    assert score.completeness == 50  # title and industry known; size and (missing) country not
    assert "more than 50 employees" not in score.reason
    account = score_company(company(employees), [], default_model(), now=day(0))
    assert (account.tier, account.completeness) == (Tier.UNKNOWN, 50)


@pytest.mark.parametrize(
    ("title", "points", "persona"),
    [
        ("Assistentin der Geschäftsführung", 0, None),
        ("Executive Assistant to the CEO", 0, None),
        ("Sekretariat Vorstand", 0, None),
        ("Teamleiter Vertrieb", 10, "influencer"),
        ("Abteilungsleiter IT", 20, "decision_maker"),
        ("CEO", 20, "decision_maker"),
    ],
)
def test_assistants_are_no_decision_makers(title: str, points: int, persona: str | None) -> None:
    score = score_contact(contact(jobtitle=title), None, [], default_model(), now=day(0))
    assert (score.profile, score.persona) == (points, persona)
    assert score.completeness == 25  # an excluded title is known: it only matches no case
