"""mapping: realistic HubSpot payloads (dicts and SDK models) → records, and odd values that must not crash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hubspot.crm.associations.v4.models import (
    AssociationSpecWithLabel,
    MultiAssociatedObjectWithLabel,
    PublicAssociationMultiWithLabel,
    PublicObjectId,
)
from hubspot.crm.contacts.models import SimplePublicObject
from hubspot.crm.owners.models import PublicOwner
from hubspot.events.models import ExternalUnifiedEvent
from hubspot.marketing.events.models import (
    ContactAssociation,
    MarketingEventAssociation,
    ParticipationAssociations,
    ParticipationBreakdown,
    ParticipationProperties,
)

from hubsync.hubspot.activity_mapping import (
    email_event_to_activity,
    engagement_to_activities,
    form_names,
    form_submission_to_activity,
    marketing_event_participation_to_activity,
    page_view_to_activity,
)
from hubsync.hubspot.mapping import (
    associations_from_batch_result,
    company_from_hubspot,
    contact_from_hubspot,
    deal_from_hubspot,
    owner_from_hubspot,
)
from hubsync.hubspot.values import Skip, parse_id, parse_timestamp
from hubsync.records import (
    Activity,
    ActivityKind,
    Association,
    Company,
    Contact,
    Deal,
    EngagementType,
    Owner,
)

T0 = datetime(2024, 3, 5, 14, 30, 0, tzinfo=UTC)
T0_MS = 1709649000000
CONTACTS = {"ada@example.com": 101, "bob@example.com": 102}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T0_MS, T0),
        (str(T0_MS), T0),
        ("2024-03-05T14:30:00Z", T0),
        ("2024-03-05T14:30:00.000Z", T0),
        ("2024-03-05T14:30:00.000000123Z", T0),
        ("2024-03-05T16:30:00+02:00", T0),
        ("2024-03-05T14:30:00", T0),
        (datetime(2024, 3, 5, 14, 30), T0),  # noqa: DTZ001 -- a naive datetime is what some SDK models give
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("   ", None),
        ("not a date", None),
        ("2024-13-45T99:00:00Z", None),
        (-5, None),
        (10**20, None),
        (float("nan"), None),
        (True, None),
        ({"ms": 1}, None),
    ],
)
def test_parse_timestamp(value: Any, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (101, 101),
        ("101", 101),
        (" 101 ", 101),
        (101.0, 101),
        ("", None),
        ("abc", None),
        (-1, None),
        (1.5, None),
        (None, None),
        (True, None),
    ],
)
def test_parse_id(value: Any, expected: int | None) -> None:
    assert parse_id(value) == expected


def contact_json(**props: Any) -> dict[str, Any]:
    return {
        "id": "101",
        "properties": {
            "email": "ada@example.com",
            "firstname": "Ada",
            "lastname": "Lovelace",
            "jobtitle": "Head of Engineering",
            "country": "United Kingdom",
            "lifecyclestage": "marketingqualifiedlead",
            "hubspot_owner_id": "5001",
            "associatedcompanyid": "9001",
            "createdate": "2023-01-10T09:00:00.000Z",
            "lastmodifieddate": "2024-03-05T14:30:00Z",
            "hs_object_id": "101",
            "hs_analytics_num_page_views": "12",
            "phone": None,
            **props,
        },
        "createdAt": "2023-01-10T09:00:00.000Z",
        "updatedAt": "2024-03-05T14:30:00.000Z",
        "archived": False,
    }


def test_contact_from_json() -> None:
    contact = contact_from_hubspot(contact_json())
    assert isinstance(contact, Contact)
    assert (contact.id, contact.email, contact.firstname, contact.lastname) == (
        101,
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    assert (contact.jobtitle, contact.country, contact.lifecyclestage) == (
        "Head of Engineering",
        "United Kingdom",
        "marketingqualifiedlead",
    )
    assert (contact.owner_id, contact.company_id) == (5001, 9001)
    assert contact.created_at == datetime(2023, 1, 10, 9, tzinfo=UTC)
    assert contact.updated_at == T0
    assert contact.properties["hs_analytics_num_page_views"] == "12"
    assert "phone" not in contact.properties  # null carries nothing


def test_contact_from_sdk_model() -> None:
    raw = contact_json()
    model = SimplePublicObject(
        id=raw["id"],
        properties=raw["properties"],
        created_at=datetime(2023, 1, 10, 9, tzinfo=UTC),
        updated_at=T0,
        archived=False,
    )
    assert contact_from_hubspot(model) == contact_from_hubspot(raw)


def test_contact_with_odd_values() -> None:
    contact = contact_from_hubspot(
        contact_json(
            hubspot_owner_id="", associatedcompanyid="n/a", email="", createdate="yesterday", lastmodifieddate=None
        )
    )
    assert isinstance(contact, Contact)
    assert (contact.owner_id, contact.company_id, contact.email) == (None, None, None)
    assert contact.created_at == datetime(2023, 1, 10, 9, tzinfo=UTC)  # falls back to createdAt
    assert contact.updated_at == T0  # falls back to updatedAt
    assert contact_from_hubspot({"id": "x1", "properties": {}}) == Skip("contact without a numeric id", "x1")
    assert isinstance(contact_from_hubspot({"properties": None}), Skip)
    assert isinstance(contact_from_hubspot("garbage"), Skip)


def test_company() -> None:
    company = company_from_hubspot(
        {
            "id": "9001",
            "properties": {
                "name": "Analytical Engines Ltd",
                "domain": "engines.example",
                "industry": "COMPUTER_SOFTWARE",
                "numberofemployees": "1,000",
                "annualrevenue": "",
                "country": "UK",
                "hubspot_owner_id": "5001",
                "createdate": "1672531200000",
                "hs_lastmodifieddate": "2024-03-05T14:30:00.000Z",
            },
        }
    )
    assert isinstance(company, Company)
    assert (company.id, company.name, company.domain) == (9001, "Analytical Engines Ltd", "engines.example")
    assert company.numberofemployees == "1,000"
    assert company.annualrevenue is None
    assert company.created_at == datetime(2023, 1, 1, tzinfo=UTC)
    assert company.updated_at == T0


def test_owner_from_json_and_sdk_model() -> None:
    raw = {
        "id": "5001",
        "email": "rep@example.com",
        "firstName": "Grace",
        "lastName": "Hopper",
        "userId": 77,
        "archived": False,
    }
    owner = owner_from_hubspot(raw)
    assert owner == Owner(
        id=5001, email="rep@example.com", firstname="Grace", lastname="Hopper", user_id=77, archived=False
    )
    model = PublicOwner(
        id="5001", email="rep@example.com", first_name="Grace", last_name="Hopper", user_id=77, archived=False
    )
    assert owner_from_hubspot(model) == owner
    archived = owner_from_hubspot({"id": "5002", "archived": True, "userId": None})
    assert isinstance(archived, Owner)
    assert archived.archived
    assert archived.display_name == "owner 5002"


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"dealstage": "closedwon"}, True),
        ({"dealstage": "closedlost", "hs_is_closed_won": "false"}, False),
        ({"dealstage": "appointmentscheduled", "hs_is_closed_won": "false", "hs_is_closed": "false"}, None),
        ({"dealstage": "1234567", "hs_is_closed_won": "true", "hs_is_closed": "true"}, True),
        ({"dealstage": "1234568", "hs_is_closed_won": "false", "hs_is_closed": "true"}, False),
        ({"dealstage": "1234569"}, None),
    ],
)
def test_deal_closed_won(props: dict[str, str], expected: bool | None) -> None:
    deal = deal_from_hubspot({"id": "7", "properties": {"dealname": "Engines", "amount": "12000.50", **props}})
    assert isinstance(deal, Deal)
    assert deal.closed_won is expected


def test_deal_fields() -> None:
    deal = deal_from_hubspot(
        {
            "id": "7",
            "properties": {
                "dealname": "Engines",
                "pipeline": "default",
                "dealstage": "closedwon",
                "amount": "12000.50",
                "closedate": "2024-03-05T14:30:00Z",
                "hubspot_owner_id": "5001",
                "hs_lastmodifieddate": "1709649000000",
            },
        }
    )
    assert deal == Deal(
        id=7,
        name="Engines",
        pipeline="default",
        stage="closedwon",
        amount="12000.50",
        closed_won=True,
        close_date=T0,
        owner_id=5001,
        updated_at=T0,
    )


def test_associations_from_json_and_sdk_model() -> None:
    raw = {
        "from": {"id": "101"},
        "to": [
            {
                "toObjectId": 9001,
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                    {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
                ],
            },
            {"toObjectId": "not-an-id", "associationTypes": [{"typeId": 279}]},
        ],
    }
    mapped = associations_from_batch_result(raw, from_type="contacts", to_type="companies")
    assert mapped[:2] == [
        Association("contacts", 101, "companies", 9001, 1, "Primary"),
        Association("contacts", 101, "companies", 9001, 279, None),
    ]
    assert isinstance(mapped[2], Skip)
    model = PublicAssociationMultiWithLabel(
        _from=PublicObjectId(id="101"),
        to=[
            MultiAssociatedObjectWithLabel(
                to_object_id="9001",
                association_types=[AssociationSpecWithLabel(category="HUBSPOT_DEFINED", type_id=1, label="Primary")],
            )
        ],
    )
    assert associations_from_batch_result(model, from_type="contacts", to_type="companies") == mapped[:1]
    assert associations_from_batch_result({"to": []}, from_type="contacts", to_type="companies")[0] == Skip(
        "contacts association result without a numeric from id"
    )


# -- activities -----------------------------------------------------------------------------------------------


def email_event(**fields: Any) -> dict[str, Any]:
    return {
        "id": "ev-4711",
        "created": T0_MS,
        "type": "OPEN",
        "recipient": "Ada@Example.com ",
        "portalId": 62515,
        "appId": 113,
        "appName": "BatchTest",
        "emailCampaignId": 12345,
        "sentBy": {"id": "s1", "created": T0_MS - 1000},
        **fields,
    }


def test_email_open() -> None:
    activity = email_event_to_activity(email_event(), contact_id_by_email=CONTACTS)
    assert activity == Activity(
        id="email_event:ev-4711",
        contact_id=101,
        kind=ActivityKind.EMAIL_EVENT,
        occurred_at=T0,
        event_type="open",
        campaign_id="12345",
    )


@pytest.mark.parametrize(
    ("fields", "event_type", "status", "url"),
    [
        ({"type": "CLICK", "url": "https://engines.example/pricing"}, "click", None, "https://engines.example/pricing"),
        ({"type": "BOUNCE", "category": "HARD_BOUNCE"}, "bounce", "hard", None),
        ({"type": "BOUNCE", "category": "SOFT_BOUNCE"}, "bounce", "soft", None),
        ({"type": "BOUNCE", "category": "POLICY"}, "bounce", None, None),
        ({"type": "SPAMREPORT"}, "spam_report", None, None),
        ({"type": "SENT", "subject": "Webinar next week"}, "sent", None, None),
        ({"type": "DELIVERED", "created": str(T0_MS)}, "delivered", None, None),
        ({"type": "STATUSCHANGE", "portalSubscriptionStatus": "UNSUBSCRIBED"}, "unsubscribe", None, None),
        ({"type": "STATUSCHANGE", "subscriptions": [{"id": 1, "status": "UNSUBSCRIBED"}]}, "unsubscribe", None, None),
    ],
)
def test_email_event_types(fields: dict[str, Any], event_type: str, status: str | None, url: str | None) -> None:
    activity = email_event_to_activity(email_event(**fields), contact_id_by_email=CONTACTS)
    assert isinstance(activity, Activity)
    assert (activity.event_type, activity.status, activity.url) == (event_type, status, url)
    assert activity.occurred_at == T0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"recipient": "stranger@example.com"}, "not a known contact"),
        ({"recipient": None}, "not a known contact"),
        ({"created": "soon"}, "usable time"),
        ({"type": "DEFERRED"}, "DEFERRED is not used"),
        ({"type": None}, "missing is not used"),
        ({"type": "STATUSCHANGE", "portalSubscriptionStatus": "SUBSCRIBED"}, "not an unsubscribe"),
        ({"id": None}, "without an id"),
    ],
)
def test_email_event_skips(fields: dict[str, Any], reason: str) -> None:
    skipped = email_event_to_activity(email_event(**fields), contact_id_by_email=CONTACTS)
    assert isinstance(skipped, Skip)
    assert reason in skipped.reason


def test_form_submission() -> None:
    raw = {
        "conversionId": "5e4f3a2b-1111-2222-3333-444455556666",
        "submittedAt": T0_MS,
        "values": [
            {"name": "firstname", "value": "Bob", "objectTypeId": "0-1"},
            {"name": "email", "value": "BOB@example.com", "objectTypeId": "0-1"},
        ],
        "pageUrl": "https://engines.example/demo",
    }
    names = form_names([{"id": "form-1", "name": "Request a demo"}, {"id": "form-2"}])
    activity = form_submission_to_activity(
        raw, form_id="form-1", form_name=names.get("form-1"), contact_id_by_email=CONTACTS
    )
    assert activity == Activity(
        id="form_submission:5e4f3a2b-1111-2222-3333-444455556666",
        contact_id=102,
        kind=ActivityKind.FORM_SUBMISSION,
        occurred_at=T0,
        url="https://engines.example/demo",
        form_id="form-1",
        form_name="Request a demo",
    )
    no_email = form_submission_to_activity(
        {**raw, "values": []}, form_id="form-1", form_name=None, contact_id_by_email=CONTACTS
    )
    assert isinstance(no_email, Skip)
    bad_time = form_submission_to_activity(
        {**raw, "submittedAt": "?"}, form_id="form-1", form_name=None, contact_id_by_email=CONTACTS
    )
    assert isinstance(bad_time, Skip)
    no_conversion = form_submission_to_activity(
        {k: v for k, v in raw.items() if k != "conversionId"},
        form_id="form-1",
        form_name=None,
        contact_id_by_email=CONTACTS,
    )
    assert isinstance(no_conversion, Activity)
    assert no_conversion.id == f"form_submission:form-1:{T0_MS}:bob@example.com"


def test_page_view_from_json_and_sdk_model() -> None:
    raw = {
        "objectType": "CONTACT",
        "objectId": "101",
        "eventType": "e_visited_page",
        "occurredAt": "2024-03-05T14:30:00.000Z",
        "id": "8b7c6d5e-aaaa-bbbb-cccc-ddddeeeeffff",
        "properties": {"hs_url": "https://engines.example/pricing", "hs_page_title": "Pricing", "hs_referrer": ""},
    }
    activity = page_view_to_activity(raw)
    assert activity == Activity(
        id="page_view:8b7c6d5e-aaaa-bbbb-cccc-ddddeeeeffff",
        contact_id=101,
        kind=ActivityKind.PAGE_VIEW,
        occurred_at=T0,
        url="https://engines.example/pricing",
        title="Pricing",
    )
    model = ExternalUnifiedEvent(
        object_type="CONTACT",
        object_id="101",
        event_type="e_visited_page",
        occurred_at=T0,
        id="8b7c6d5e-aaaa-bbbb-cccc-ddddeeeeffff",
        properties=raw["properties"],
    )
    assert page_view_to_activity(model) == activity
    assert isinstance(page_view_to_activity({**raw, "eventType": "e_form_submission"}), Skip)
    assert isinstance(page_view_to_activity({**raw, "objectType": "COMPANY"}), Skip)
    assert isinstance(page_view_to_activity({**raw, "objectId": "abc"}), Skip)
    assert isinstance(page_view_to_activity({**raw, "occurredAt": None}), Skip)


def participation(state: str, occurred_at: Any = T0_MS) -> ParticipationBreakdown:
    return ParticipationBreakdown(
        id="p-1",
        created_at=datetime(2024, 3, 1, tzinfo=UTC),
        associations=ParticipationAssociations(
            marketing_event=MarketingEventAssociation(
                marketing_event_id="me-9", name="Engines 101 webinar", external_event_id="x", external_account_id="y"
            ),
            contact=ContactAssociation(contact_id="101", email="ada@example.com", firstname="Ada", lastname="Lovelace"),
        ),
        properties=ParticipationProperties(attendance_state=state, occurred_at=occurred_at),
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [("REGISTERED", "registered"), ("ATTENDED", "attended"), ("NO_SHOW", "no_show"), ("CANCELLED", "cancelled")],
)
def test_marketing_event_participation(state: str, expected: str) -> None:
    activity = marketing_event_participation_to_activity(participation(state))
    assert activity == Activity(
        id="marketing_event:p-1",
        contact_id=101,
        kind=ActivityKind.MARKETING_EVENT,
        occurred_at=T0,
        event_type=expected,
        campaign_id="me-9",
        event_name="Engines 101 webinar",
    )


def test_marketing_event_participation_odd_values() -> None:
    assert isinstance(marketing_event_participation_to_activity(participation("EMPTY")), Skip)
    no_time = marketing_event_participation_to_activity(participation("ATTENDED", occurred_at=None))
    assert isinstance(no_time, Activity)
    assert no_time.occurred_at == datetime(2024, 3, 1, tzinfo=UTC)  # falls back to createdAt
    raw = participation("ATTENDED").to_dict(serialize=True)
    raw["associations"]["contact"]["contactId"] = None
    assert isinstance(marketing_event_participation_to_activity(raw), Skip)


def engagement(props: dict[str, Any], contacts: list[Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "3001", "properties": props, "createdAt": "2024-03-01T00:00:00Z"}
    if contacts is not None:
        out["associations"] = {"contacts": {"results": [{"id": c, "type": "email_to_contact"} for c in contacts]}}
    return out


@pytest.mark.parametrize(
    ("raw_direction", "direction"),
    [("INCOMING_EMAIL", "INCOMING"), ("EMAIL", "OUTGOING"), ("FORWARDED_EMAIL", "OUTGOING"), ("WEIRD", None)],
)
def test_engagement_email_direction(raw_direction: str, direction: str | None) -> None:
    raw = engagement(
        {
            "hs_timestamp": "2024-03-05T14:30:00Z",
            "hs_email_direction": raw_direction,
            "hs_email_subject": "Re: pricing",
        },
        contacts=["101"],
    )
    [activity] = engagement_to_activities(raw, engagement_type=EngagementType.EMAIL)
    assert activity == Activity(
        id="crm_engagement:email:3001:101",
        contact_id=101,
        kind=ActivityKind.CRM_ENGAGEMENT,
        occurred_at=T0,
        event_type="email",
        title="Re: pricing",
        direction=direction,
    )


def test_engagement_meeting_call_note() -> None:
    meeting = engagement(
        {
            "hs_meeting_start_time": "2024-03-05T14:30:00.000Z",
            "hs_timestamp": "2024-03-04T00:00:00Z",
            "hs_meeting_outcome": "COMPLETED",
            "hs_meeting_title": "Demo",
        },
        contacts=["101", "102", "101"],
    )
    activities = engagement_to_activities(meeting, engagement_type=EngagementType.MEETING)
    assert [a.contact_id for a in activities if isinstance(a, Activity)] == [101, 102]
    first = activities[0]
    assert isinstance(first, Activity)
    assert (first.status, first.title, first.occurred_at) == ("COMPLETED", "Demo", T0)
    [call] = engagement_to_activities(
        engagement({"hs_timestamp": str(T0_MS), "hs_call_direction": "INBOUND", "hs_call_status": "COMPLETED"}),
        engagement_type=EngagementType.CALL,
        contact_ids=[102],
    )
    assert isinstance(call, Activity)
    assert (call.contact_id, call.direction, call.status) == (102, "INBOUND", "COMPLETED")
    [note] = engagement_to_activities(
        engagement({"hs_timestamp": None}, contacts=["101"]), engagement_type=EngagementType.NOTE
    )
    assert isinstance(note, Activity)
    assert note.occurred_at == datetime(2024, 3, 1, tzinfo=UTC)  # falls back to createdAt


def test_engagement_odd_values() -> None:
    [no_contact] = engagement_to_activities(
        engagement({"hs_timestamp": str(T0_MS)}), engagement_type=EngagementType.TASK
    )
    assert isinstance(no_contact, Skip)
    mixed = engagement_to_activities(
        engagement({"hs_timestamp": str(T0_MS)}, contacts=["x", "101"]), engagement_type=EngagementType.TASK
    )
    assert [type(a) for a in mixed] == [Skip, Activity]
    raw = engagement({"hs_timestamp": "never"}, contacts=["101"])
    raw["createdAt"] = None
    [no_time] = engagement_to_activities(raw, engagement_type=EngagementType.CALL)
    assert isinstance(no_time, Skip)
    [no_id] = engagement_to_activities({"id": None, "properties": {}}, engagement_type=EngagementType.CALL)
    assert isinstance(no_id, Skip)


def test_page_view_title_under_either_property_name() -> None:
    for key in ("hs_page_title", "hs_title"):
        event = {
            "id": "e1",
            "objectId": "12",
            "occurredAt": "2026-03-01T10:00:00Z",
            "eventType": "e_visited_page",
            "properties": {"hs_url": "https://www.acme.example/preise", key: "Preise"},
        }
        activity = page_view_to_activity(event)
        assert isinstance(activity, Activity)
        assert activity.title == "Preise"
