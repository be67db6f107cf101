"""The hubsync property definitions and the set-up plan (pure: no portal)."""

from __future__ import annotations

from typing import Any

from hubsync.hubspot.classify import SCOPES_WHERE
from hubsync.hubspot.properties import COMPANIES, CONTACTS, MissingScope, missing_scopes_error
from hubsync.jobs.properties import Prop, definitions, property_names
from hubsync.jobs.setup import Action, plan_setup
from hubsync.scoring import FitLight, LeadStatus, Tier
from hubsync.settings import PushConfig

CONFIG = PushConfig()


def _as_portal_json(config: PushConfig = CONFIG) -> dict[str, dict[str, dict[str, Any]]]:
    """What HubSpot answers for properties created from hubsync's own definitions."""
    out: dict[str, dict[str, dict[str, Any]]] = {CONTACTS: {}, COMPANIES: {}}
    for d in definitions(config):
        out[d.object_type][d.name] = d.create_body()
    return out


def test_every_property_the_issue_lists_exists_with_the_prefix() -> None:
    contacts = property_names(CONFIG, CONTACTS)
    companies = property_names(CONFIG, COMPANIES)
    assert set(contacts) == {
        Prop.ENGAGEMENT, Prop.PROFILE, Prop.COMPLETENESS, Prop.SEGMENT, Prop.LEAD_STATUS, Prop.FIT_LIGHT, Prop.TIER,
        Prop.SURGE, Prop.REASON,
    }  # fmt: skip
    assert set(companies) == {
        Prop.ACCOUNT_ENGAGEMENT, Prop.ACCOUNT_PROFILE, Prop.COMPLETENESS, Prop.ACCOUNT_SEGMENT, Prop.FIT_LIGHT,
        Prop.TIER, Prop.BUYING_CENTER_ACTIVE, Prop.ENGAGED_CONTACTS, Prop.ACCOUNT_REASON,
    }  # fmt: skip
    assert all(name.startswith("hubsync_") for name in [*contacts.values(), *companies.values()])
    other = property_names(PushConfig(property_prefix="ls_"), CONTACTS)
    assert other[Prop.SEGMENT] == "ls_segment"


def test_enumerations_offer_every_value_scoring_produces() -> None:
    by_name = {(d.object_type, d.prop): d for d in definitions(CONFIG)}

    def values(object_type: str, prop: Prop) -> set[str]:
        return {value for value, _ in by_name[(object_type, prop)].options}

    assert values(CONTACTS, Prop.LEAD_STATUS) == {s.value for s in LeadStatus}
    assert values(CONTACTS, Prop.FIT_LIGHT) == {f.value for f in FitLight} == values(COMPANIES, Prop.FIT_LIGHT)
    assert values(CONTACTS, Prop.TIER) == {t.value for t in Tier} == values(COMPANIES, Prop.TIER)
    segments = {f"{letter}{digit}" for letter in "ABCD" for digit in "1234"}
    assert values(CONTACTS, Prop.SEGMENT) == segments == values(COMPANIES, Prop.ACCOUNT_SEGMENT)
    assert values(CONTACTS, Prop.SURGE) == {"true", "false"}
    assert by_name[(CONTACTS, Prop.SURGE)].type == "bool"


def test_definitions_are_written_for_an_admin_and_hold_no_timestamp() -> None:
    for d in definitions(CONFIG):
        assert d.group == "hubsync"
        assert d.label.endswith("(hubsync)")
        assert len(d.description) > 40, d.name
        assert d.type in {"number", "string", "enumeration", "bool"}
        # A value that changes every run would defeat the diff.
        assert not any(word in d.name for word in ("time", "date", "updated", "_at"))


def test_plan_on_an_empty_portal_creates_everything() -> None:
    plan = plan_setup(CONFIG, {CONTACTS: ["contactinformation"], COMPANIES: []}, {})
    assert [g.action for g in plan.groups] == [Action.CREATE, Action.CREATE]
    assert {p.action for p in plan.properties} == {Action.CREATE}
    assert len(plan.properties) == 18


def test_plan_after_setup_creates_nothing() -> None:
    plan = plan_setup(CONFIG, {CONTACTS: ["hubsync"], COMPANIES: ["hubsync"]}, _as_portal_json())
    assert {g.action for g in plan.groups} == {Action.EXISTS}
    assert {p.action for p in plan.properties} == {Action.EXISTS}
    assert plan.conflicts == ()


def test_relabelled_or_moved_property_is_not_a_conflict() -> None:
    portal = _as_portal_json()
    reason = portal[CONTACTS]["hubsync_reason"]
    reason.update(label="Warum?", description="", groupName="sales_properties", fieldType="text")
    status = portal[CONTACTS]["hubsync_lead_status"]
    status["options"] = [*status["options"], {"value": "extra", "label": "Extra"}]
    plan = plan_setup(CONFIG, {CONTACTS: ["hubsync"], COMPANIES: ["hubsync"]}, portal)
    assert plan.conflicts == ()


def test_conflicting_type_field_type_or_options_are_reported() -> None:
    portal = _as_portal_json()
    portal[CONTACTS]["hubsync_engagement_score"].update(type="string", fieldType="text")
    portal[CONTACTS]["hubsync_segment"]["options"] = [{"value": "A1"}, {"value": "A2"}]
    portal[COMPANIES]["hubsync_account_reason"].update(fieldType="number")
    plan = plan_setup(CONFIG, {CONTACTS: ["hubsync"], COMPANIES: ["hubsync"]}, portal)
    conflicts = {(p.definition.object_type, p.definition.name): p.conflict for p in plan.conflicts}
    assert set(conflicts) == {
        (CONTACTS, "hubsync_engagement_score"),
        (CONTACTS, "hubsync_segment"),
        (COMPANIES, "hubsync_account_reason"),
    }
    assert "type is 'string'" in conflicts[(CONTACTS, "hubsync_engagement_score")]
    assert "lack A3" in conflicts[(CONTACTS, "hubsync_segment")]
    lines = "\n".join(plan.lines())
    assert "hubsync_segment (enumeration): conflict" in lines
    assert "left unchanged" in lines


def test_missing_scopes_error_names_each_scope_and_where_to_add_it() -> None:
    error = missing_scopes_error(
        [
            MissingScope("crm.schemas.contacts.write", "creating the hubsync contact properties", ()),
            MissingScope("forms", "reading forms", ()),
        ]
    )
    assert error.scopes == ("crm.schemas.contacts.write", "forms")
    assert "crm.schemas.contacts.write (for creating the hubsync contact properties)" in str(error)
    assert SCOPES_WHERE in str(error)
    assert error.exit_code == 6
