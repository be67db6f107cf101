"""The scoring model: the default file loads and means what docs/scoring.md says; mistakes are named by their key."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.errors import ConfigError
from hubsync.records import Activity, ActivityKind
from hubsync.scoring import ScoringModel
from hubsync.validation import parse

from .scoring_builders import DAY0, SITE, default_model, raw_scoring


def load(data: dict[str, Any]) -> ScoringModel:
    return parse(ScoringModel, data, source="hubsync.toml", prefix=("scoring",))


def signal_index(data: dict[str, Any], name: str) -> int:
    return next(i for i, s in enumerate(data["signals"]) if s["name"] == name)


def test_default_signals_follow_the_spec_table() -> None:
    expected = {
        "homepage_view": (1, 5, True),
        "page_view": (1, 10, True),
        "comparison_page_view": (5, 15, True),
        "case_study": (10, 20, True),
        "pricing_page_view": (15, 45, True),
        "content_download": (10, 30, True),
        "webinar_registered": (15, 30, True),
        "webinar_attended": (20, 40, True),
        "recording_requested": (5, 10, True),
        "demo_request": (50, 50, True),
        "email_open": (2, 10, True),
        "email_click": (3, 15, True),
        "sales_email_reply": (10, 20, True),
        "meeting_held": (25, 25, True),
        "unsubscribe": (-20, None, False),
        "hard_bounce": (-10, None, False),
        "spam_report": (-20, None, False),
        "webinar_cancelled": (-15, None, True),
        "job_change": (15, 15, True),
    }
    model = default_model()
    assert {s.name: (s.points, s.max_points, s.decays) for s in model.signals} == expected
    pattern = model.patterns[0]
    assert (pattern.signals, pattern.within_days, pattern.bonus) == (
        ("comparison_page_view", "webinar_attended", "pricing_page_view"),
        30,
        15,
    )


def _activity(kind: ActivityKind, **attributes: str | None) -> Activity:
    return Activity(id="t:1", contact_id=1, kind=kind, occurred_at=DAY0, **attributes)


@pytest.mark.parametrize(
    ("activity", "signal"),
    [
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/"), "homepage_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}"), "homepage_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/?utm_source=newsletter"), "homepage_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/blog/mql-oder-sql"), "page_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/kontakt"), "page_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/vergleich/lead-scoring-tools"), "comparison_page_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/compare/leadwerk-vs-native"), "comparison_page_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/vs-excel-lead-listen"), "comparison_page_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/case-studies/brightlane"), "case_study"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/fallstudien/stadtwerke"), "case_study"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/Preise#enterprise"), "pricing_page_view"),
        (_activity(ActivityKind.PAGE_VIEW, url=f"{SITE}/pricing"), "pricing_page_view"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Case Study Müller Maschinenbau"), "case_study"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Fallstudie anfordern"), "case_study"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="E-Book: Das B2B-Buying-Center"), "content_download"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Whitepaper ICP"), "content_download"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Checkliste CRM-Datenqualität"), "content_download"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="GDPR checklist"), "content_download"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Demo anfragen"), "demo_request"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Beratung vereinbaren"), "demo_request"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Free consultation"), "demo_request"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Kontaktformular"), "demo_request"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Contact us"), "demo_request"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Webinar-Aufzeichnung anfordern"), "recording_requested"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Request the recording / contact"), "recording_requested"),
        (_activity(ActivityKind.FORM_SUBMISSION, form_name="Newsletter-Anmeldung"), None),
        (_activity(ActivityKind.MARKETING_EVENT, event_type="registered"), "webinar_registered"),
        (_activity(ActivityKind.MARKETING_EVENT, event_type="attended"), "webinar_attended"),
        (_activity(ActivityKind.MARKETING_EVENT, event_type="no_show"), None),
        (_activity(ActivityKind.MARKETING_EVENT, event_type="cancelled"), "webinar_cancelled"),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="spam_report"), "spam_report"),
        (_activity(ActivityKind.PROFILE_CHANGE, event_type="jobtitle"), "job_change"),
        (_activity(ActivityKind.PROFILE_CHANGE, event_type="company"), "job_change"),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="open"), "email_open"),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="click", url=f"{SITE}/preise"), "email_click"),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="unsubscribe"), "unsubscribe"),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="bounce", status="hard"), "hard_bounce"),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="bounce", status="soft"), None),
        (_activity(ActivityKind.EMAIL_EVENT, event_type="delivered"), None),
        (_activity(ActivityKind.CRM_ENGAGEMENT, event_type="email", direction="INCOMING"), "sales_email_reply"),
        (_activity(ActivityKind.CRM_ENGAGEMENT, event_type="email", direction="OUTGOING"), None),
        (_activity(ActivityKind.CRM_ENGAGEMENT, event_type="meeting", status="COMPLETED"), "meeting_held"),
        (_activity(ActivityKind.CRM_ENGAGEMENT, event_type="meeting"), "meeting_held"),
        (_activity(ActivityKind.CRM_ENGAGEMENT, event_type="meeting", status="NO_SHOW"), None),
        (_activity(ActivityKind.CRM_ENGAGEMENT, event_type="note"), None),
    ],
)
def test_default_signals_recognise_the_portal_conventions(activity: Activity, signal: str | None) -> None:
    compiled = default_model().compiled
    found = compiled.signal_of(activity)
    assert (compiled.signals[found].name if found >= 0 else None) == signal
    # Asked again, the memo answers the same.
    assert compiled.signal_of(activity) == found


def test_default_model_loads_and_defaults_match_the_spec() -> None:
    model = default_model()
    assert (model.decay.grace_days, model.decay.half_life_days) == (30, 90)
    assert (model.inactivity.days, model.inactivity.points) == (90, 5)
    surge = model.surge
    assert (surge.window_days, surge.baseline_days, surge.factor, surge.min_points) == (7, 28, 3.0, 15)
    assert (model.status.mql, model.status.sales_ready, model.status.hysteresis) == (31, 71, 10)
    capacity = model.handoff.capacity
    assert (capacity.default, capacity.floor, capacity.base, capacity.ceiling) == (20, 61, 71, 90)
    assert model.handoff.segments == ("A1", "A2", "B1")
    assert model.profile.gates.cap == 25
    assert model.segments.bounds == (75, 50, 25)


def test_scalar_defaults_in_code_equal_the_documented_file() -> None:
    # The file says "the value written here is the default": leaving a table out must change nothing.
    data = raw_scoring()
    for table in ("decay", "inactivity", "surge", "segments", "status", "account"):
        del data[table]
    del data["handoff"]["capacity"]
    for table in ("gates", "fit_light", "tiers"):
        del data["profile"][table]
    trimmed = load(data)
    full = default_model()
    for table in ("decay", "inactivity", "surge", "segments", "status", "account"):
        assert getattr(trimmed, table) == getattr(full, table), table
    assert trimmed.handoff.capacity == full.handoff.capacity
    assert trimmed.profile.fit_light == full.profile.fit_light
    assert trimmed.profile.tiers == full.profile.tiers


# --- Mistakes are rejected, naming the key ---------------------------------------------------------------------


def _rejected(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(data)
    assert caught.value.source == "hubsync.toml"
    return caught.value


def test_bad_regex_names_its_key() -> None:
    data = raw_scoring()
    data["signals"][3]["match"][0]["url"] = "/preise(|/pricing"
    error = _rejected(data)
    assert error.key == "scoring.signals[3].match[0].url"
    assert "regular expression" in error.expected


def test_bad_regex_in_a_profile_rule_and_gate_names_its_key() -> None:
    data = raw_scoring()
    data["profile"]["rules"][2]["cases"][1]["regex"] = "[manager"
    assert _rejected(data).key == "scoring.profile.rules[2].cases[1].regex"
    data = raw_scoring()
    data["profile"]["gates"]["student_title"] = "*student"
    assert _rejected(data).key == "scoring.profile.gates.student_title"


def test_pattern_naming_an_unknown_signal() -> None:
    data = raw_scoring()
    data["patterns"][0]["signals"][1] = "webinar_atended"
    error = _rejected(data)
    assert error.key == "scoring.patterns[0].signals[1]"
    assert "webinar_atended" in str(error)


def test_status_thresholds_out_of_order() -> None:
    data = raw_scoring()
    data["status"]["mql"] = 75
    assert _rejected(data).key == "scoring.status.sales_ready"


def test_segment_bounds_out_of_order() -> None:
    data = raw_scoring()
    data["segments"]["bounds"] = [75, 80, 25]
    assert _rejected(data).key == "scoring.segments.bounds[1]"


def test_fit_light_and_tiers_out_of_order() -> None:
    data = raw_scoring()
    data["profile"]["fit_light"]["yellow"] = 85
    assert _rejected(data).key == "scoring.profile.fit_light.green"
    data = raw_scoring()
    data["profile"]["tiers"]["enterprise"] = 100
    assert _rejected(data).key == "scoring.profile.tiers.enterprise"


def test_capacity_floor_above_ceiling() -> None:
    data = raw_scoring()
    data["handoff"]["capacity"]["floor"] = 95
    error = _rejected(data)
    assert error.key == "scoring.handoff.capacity.floor"
    assert "ceiling" in error.expected


def test_capacity_base_outside_floor_and_ceiling() -> None:
    data = raw_scoring()
    data["handoff"]["capacity"]["base"] = 50
    assert _rejected(data).key == "scoring.handoff.capacity.base"


def test_duplicate_signal_name() -> None:
    data = raw_scoring()
    data["signals"][5]["name"] = data["signals"][2]["name"]
    error = _rejected(data)
    assert error.key == "scoring.signals[5].name"
    assert "twice" in error.expected


def test_condition_that_the_kind_does_not_have() -> None:
    data = raw_scoring()
    index = signal_index(data, "pricing_page_view")
    data["signals"][index]["match"][0]["form_name"] = "Demo"
    assert _rejected(data).key == f"scoring.signals[{index}].match[0].form_name"


def test_unknown_event_type() -> None:
    data = raw_scoring()
    index = signal_index(data, "email_open")
    data["signals"][index]["match"][0]["event_type"] = ["opened"]
    assert _rejected(data).key == f"scoring.signals[{index}].match[0].event_type[0]"


def test_unknown_activity_kind_and_unknown_key() -> None:
    data = raw_scoring()
    data["signals"][0]["match"][0]["kind"] = "pageview"
    assert _rejected(data).key == "scoring.signals[0].match[0].kind"
    data = raw_scoring()
    data["signals"][0]["max_point"] = 5
    error = _rejected(data)
    assert error.key == "scoring.signals[0].max_point"
    assert "unknown key" in error.expected


def test_wrong_types_are_not_coerced() -> None:
    data = raw_scoring()
    data["signals"][0]["points"] = "1"
    assert _rejected(data).key == "scoring.signals[0].points"


def test_profile_case_needs_exactly_one_condition() -> None:
    data = raw_scoring()
    data["profile"]["rules"][0]["cases"][0]["regex"] = "x"
    assert _rejected(data).key == "scoring.profile.rules[0].cases[0]"
    data = raw_scoring()
    data["profile"]["rules"][0]["cases"][0]["lt"] = 10
    assert _rejected(data).key == "scoring.profile.rules[0].cases[0].lt"


def test_persona_must_be_declared() -> None:
    data = raw_scoring()
    data["profile"]["rules"][2]["cases"][0]["persona"] = "champion"
    assert _rejected(data).key == "scoring.profile.rules[2].cases[0].persona"


def test_handoff_segment_must_exist() -> None:
    data = raw_scoring()
    data["handoff"]["segments"] = ["A1", "E5"]
    assert _rejected(data).key == "scoring.handoff.segments[1]"


def test_owner_capacity_keyed_by_email() -> None:
    data = raw_scoring()
    data["handoff"]["capacity"]["owners"] = {"Anna.Schmidt@acme.example": 5}
    assert load(data).compiled.owner_capacity == {"anna.schmidt@acme.example": 5}
    data["handoff"]["capacity"]["owners"] = {"anna": 5}
    assert _rejected(data).key == "scoring.handoff.capacity.owners.anna"
