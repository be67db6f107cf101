"""Every sandbox endpoint, driven through the official SDK: requests the SDK builds are accepted and every answer
deserializes into the SDK's model for that operation (the SDK validates required fields and enum values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hubspot.crm.associations.v4.models import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.associations.v4.models import (
    BatchResponsePublicAssociationMultiWithLabel as AssocBatch,
)
from hubspot.crm.associations.v4.models import (
    CollectionResponseMultiAssociatedObjectWithLabelForwardPaging as AssocPage,
)
from hubspot.crm.associations.v4.schema.models import CollectionResponseAssociationSpecWithLabelNoPaging
from hubspot.crm.contacts.models import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    CollectionResponseSimplePublicObjectWithAssociationsForwardPaging,
    CollectionResponseWithTotalSimplePublicObjectForwardPaging,
    Filter,
    FilterGroup,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObject,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
    SimplePublicObjectWithAssociations,
)
from hubspot.crm.objects.tasks.models import AssociationSpec, PublicAssociationsForObject, PublicObjectId
from hubspot.crm.objects.tasks.models import SimplePublicObjectInputForCreate as TaskCreate
from hubspot.crm.owners.models import CollectionResponsePublicOwnerForwardPaging, PublicOwner
from hubspot.crm.properties.models import (
    CollectionResponsePropertyGroupNoPaging,
    CollectionResponsePropertyNoPaging,
    ModelProperty,
    PropertyCreate,
    PropertyGroup,
    PropertyGroupCreate,
)
from hubspot.events.models import CollectionResponseExternalUnifiedEvent, VisibleExternalEventTypeNames
from hubspot.marketing.events.models import (
    AttendanceCounters,
    CollectionResponseMarketingEventPublicReadResponseV2ForwardPaging,
    CollectionResponseWithTotalParticipationBreakdownForwardPaging,
    MarketingEventPublicReadResponseV2,
)
from hubspot.marketing.forms.models import CollectionResponseFormDefinitionBaseForwardPaging

from hubsync.sandbox import schema
from hubsync.sandbox.catalog import BUILTIN_PROPERTIES
from hubsync.sandbox.marketing.marketing_events import EXTERNAL_ACCOUNT_ID
from hubsync.sandbox.portal import EMAIL_EVENT_TYPES

if TYPE_CHECKING:
    from hubspot import HubSpot

    from hubsync.sandbox import Sandbox

ENGAGEMENT_APIS = ("tasks", "emails", "calls", "meetings", "notes")


def is_model(value: object, model: type) -> bool:
    """The SDK's model for the operation: each SDK package has its own copy of a model class, so compare names."""
    return type(value).__name__ == model.__name__ and bool(value.to_dict())  # type: ignore[attr-defined]  # SDK models are untyped


def crm_api(client: HubSpot, object_type: str) -> Any:
    if object_type in ENGAGEMENT_APIS:
        return getattr(client.crm.objects, object_type)
    return getattr(client.crm, object_type)


def a_live_id(sb: Sandbox, object_type: str) -> str:
    return str(sb.portal.stores[object_type].live[0])


@pytest.mark.parametrize("object_type", schema.OBJECT_TYPES)
def test_list_pages_follow_after_cursors(client: HubSpot, sandbox: Sandbox, object_type: str) -> None:
    api = crm_api(client, object_type).basic_api
    first = api.get_page(limit=3, properties=[schema.modified_property(object_type)], associations=["contacts"])
    assert is_model(first, CollectionResponseSimplePublicObjectWithAssociationsForwardPaging)
    assert len(first.results) == 3
    assert first.results[0].properties["hs_object_id"] == first.results[0].id
    assert first.results[0].created_at is not None
    assert first.results[0].updated_at is not None
    second = api.get_page(limit=3, after=first.paging.next.after)
    assert int(second.results[0].id) > int(first.results[-1].id)
    live = sandbox.portal.stores[object_type].live
    assert [r.id for r in first.results + second.results] == [str(i) for i in live[:6]]


def test_list_walks_every_live_contact_once(client: HubSpot, sandbox: Sandbox) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.contacts.basic_api.get_page(limit=100, after=after)
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == [str(i) for i in sandbox.portal.stores["contacts"].live]


@pytest.mark.parametrize("object_type", ["contacts", "companies", "deals"])
def test_archived_records_carry_archived_at(client: HubSpot, sandbox: Sandbox, object_type: str) -> None:
    assert sandbox.portal.stores[object_type].archived, "the generated portal archives some records"
    page = crm_api(client, object_type).basic_api.get_page(limit=100, archived=True)
    assert page.results
    assert all(r.archived and r.archived_at is not None for r in page.results)


def test_associations_are_listed_with_the_primary_label(client: HubSpot) -> None:
    page = client.crm.contacts.basic_api.get_page(limit=100, associations=["companies"])
    linked = [r for r in page.results if r.associations]
    assert linked
    types = {a.type for r in linked for a in r.associations["companies"].results}
    assert types == {"contact_to_company", "contact_to_company_unlabeled"}


@pytest.mark.parametrize("object_type", schema.OBJECT_TYPES)
def test_get_by_id(client: HubSpot, sandbox: Sandbox, object_type: str) -> None:
    api = crm_api(client, object_type).basic_api
    object_id = a_live_id(sandbox, object_type)
    got = api.get_by_id(object_id, properties=["hubspot_owner_id"], associations=["contacts"])
    assert is_model(got, SimplePublicObjectWithAssociations)
    assert got.id == object_id
    assert "hubspot_owner_id" in got.properties


def test_get_by_email_id_property(client: HubSpot, sandbox: Sandbox) -> None:
    contact = sandbox.portal.stores["contacts"].by_id[int(a_live_id(sandbox, "contacts"))]
    got = client.crm.contacts.basic_api.get_by_id(contact.props["email"], id_property="email")
    assert got.id == str(contact.id)


def test_generic_objects_api(client: HubSpot, sandbox: Sandbox) -> None:
    page = client.crm.objects.basic_api.get_page("meetings", limit=2, properties=["hs_meeting_outcome"])
    assert page.results[0].properties["hs_meeting_outcome"] in BUILTIN_PROPERTIES["meetings"][-1].options
    one = client.crm.objects.basic_api.get_by_id("0-1", a_live_id(sandbox, "contacts"))
    assert one.properties["lastmodifieddate"]


def test_create_update_archive_a_contact(client: HubSpot, sandbox: Sandbox) -> None:
    api = client.crm.contacts.basic_api
    created = api.create(SimplePublicObjectInputForCreate(properties={"email": "neu@example.org", "firstname": "Neu"}))
    assert is_model(created, SimplePublicObject)
    assert created.properties["email"] == "neu@example.org"
    updated = api.update(created.id, SimplePublicObjectInput(properties={"jobtitle": "Leiter IT"}))
    assert updated.properties["jobtitle"] == "Leiter IT"
    assert api.archive(created.id) is None
    assert sandbox.portal.stores["contacts"].by_id[int(created.id)].archived_at == sandbox.portal.now


def test_create_a_task_associated_to_a_contact(client: HubSpot, sandbox: Sandbox) -> None:
    contact_id = a_live_id(sandbox, "contacts")
    owner = str(sandbox.portal.owners[0].id)
    task = client.crm.objects.tasks.basic_api.create(
        TaskCreate(
            properties={
                "hs_timestamp": "2025-06-03T09:00:00Z",
                "hs_task_subject": "hubsync: A1 – anrufen",
                "hs_task_body": "Preise 3×, Webinar besucht",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
                "hs_task_type": "CALL",
                "hubspot_owner_id": owner,
            },
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=contact_id),
                    types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=204)],
                )
            ],
        )
    )
    assert task.properties["hs_task_priority"] == "HIGH"
    assert int(task.id) in sandbox.portal.assoc.of("contacts", int(contact_id), "tasks")


def test_merge_contacts_endpoint(client: HubSpot, sandbox: Sandbox) -> None:
    live = sandbox.portal.stores["contacts"].live
    survivor, merged = str(live[-2]), str(live[-1])
    out = client.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=survivor, object_id_to_merge=merged))
    assert out.id == survivor
    assert merged in out.properties["hs_merged_object_ids"].split(";")


@pytest.mark.parametrize("object_type", schema.OBJECT_TYPES)
def test_batch_read(client: HubSpot, sandbox: Sandbox, object_type: str) -> None:
    ids = [str(i) for i in sandbox.portal.stores[object_type].live[:5]]
    out = crm_api(client, object_type).batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in ids], properties=["hubspot_owner_id"], properties_with_history=[]
        )
    )
    assert out.status == "COMPLETE"
    assert sorted(r.id for r in out.results) == sorted(ids)


def test_batch_read_with_history(client: HubSpot, sandbox: Sandbox) -> None:
    ids = [str(i) for i in sandbox.portal.stores["contacts"].live[:3]]
    out = client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in ids], properties=[], properties_with_history=["email"]
        )
    )
    assert all(r.properties_with_history["email"][0].value for r in out.results)


def test_batch_create_update_archive(client: HubSpot, sandbox: Sandbox) -> None:
    api = client.crm.companies.batch_api
    created = api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"name": f"Neu {i} GmbH", "numberofemployees": "50-100"}} for i in range(3)]
        )
    )
    assert is_model(created, BatchResponseSimplePublicObject)
    ids = [r.id for r in created.results]
    assert len(ids) == 3
    updated = api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"industry": "COMPUTER_SOFTWARE"}} for i in ids]
        )
    )
    assert {r.properties["industry"] for r in updated.results} == {"COMPUTER_SOFTWARE"}
    assert api.archive(BatchInputSimplePublicObjectId(inputs=[{"id": i} for i in ids])) is None
    assert all(sandbox.portal.stores["companies"].by_id[int(i)].archived_at for i in ids)


@pytest.mark.parametrize("object_type", schema.OBJECT_TYPES)
def test_search_changed_since(client: HubSpot, sandbox: Sandbox, object_type: str) -> None:
    modified = schema.modified_property(object_type)
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name=modified, operator="GTE", value="0")])],
        sorts=[{"propertyName": modified, "direction": "ASCENDING"}],
        properties=[modified],
        limit=10,
    )
    out = crm_api(client, object_type).search_api.do_search(public_object_search_request=request)
    assert is_model(out, CollectionResponseWithTotalSimplePublicObjectForwardPaging)
    assert out.total == len(sandbox.portal.stores[object_type].live)
    dates = [r.properties[modified] for r in out.results]
    assert dates == sorted(dates)


def test_search_operators_and_paging(client: HubSpot, sandbox: Sandbox) -> None:
    contacts = sorted(sandbox.portal.stores["contacts"].live)
    pivot = contacts[len(contacts) // 2]

    def run(filters: list[Filter], **extra: Any) -> Any:
        request = PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=filters)], **extra)
        return client.crm.contacts.search_api.do_search(public_object_search_request=request)

    above = run([Filter(property_name="hs_object_id", operator="GT", value=str(pivot))], limit=200)
    assert above.total == len([c for c in contacts if c > pivot])
    lte = run([Filter(property_name="hs_object_id", operator="LTE", value=str(pivot))])
    assert lte.total == len([c for c in contacts if c <= pivot])
    eq = run([Filter(property_name="hs_object_id", operator="EQ", value=str(pivot))])
    assert [r.id for r in eq.results] == [str(pivot)]
    lo, hi = contacts[10], contacts[19]
    between = run([Filter(property_name="hs_object_id", operator="BETWEEN", value=str(lo), high_value=str(hi))])
    assert between.total == 10
    desc = run(
        [Filter(property_name="hs_object_id", operator="LT", value=str(pivot))],
        sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
        limit=5,
    )
    assert [int(r.id) for r in desc.results] == sorted([c for c in contacts if c < pivot], reverse=True)[:5]
    second = run(
        [Filter(property_name="hs_object_id", operator="LT", value=str(pivot))],
        sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
        limit=5,
        after=desc.paging.next.after,
    )
    assert int(second.results[0].id) < int(desc.results[-1].id)
    iso_window = run(
        [
            Filter(property_name="lastmodifieddate", operator="GT", value="2020-01-01T00:00:00Z"),
            Filter(property_name="lastmodifieddate", operator="LT", value=str(sandbox.portal.now + 1)),
        ]
    )
    assert iso_window.total == len(contacts)


def test_properties_list_create_and_groups(client: HubSpot) -> None:
    props = client.crm.properties.core_api.get_all("contacts")
    assert is_model(props, CollectionResponsePropertyNoPaging)
    assert {"email", "lastmodifieddate", "hs_merged_object_ids"} <= {p.name for p in props.results}
    one = client.crm.properties.core_api.get_by_name("companies", "industry")
    assert is_model(one, ModelProperty)
    assert "COMPUTER_SOFTWARE" in [o.value for o in one.options]
    group = client.crm.properties.groups_api.create(
        "contacts", PropertyGroupCreate(name="hubsync", label="hubsync", display_order=-1)
    )
    assert is_model(group, PropertyGroup)
    groups = client.crm.properties.groups_api.get_all("contacts")
    assert is_model(groups, CollectionResponsePropertyGroupNoPaging)
    assert "hubsync" in [g.name for g in groups.results]
    created = client.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="hubsync_engagement_score",
            label="Engagement score",
            type="number",
            field_type="number",
            group_name="hubsync",
        ),
    )
    assert created.name == "hubsync_engagement_score"
    assert not created.hubspot_defined


def test_owners(client: HubSpot, sandbox: Sandbox) -> None:
    page = client.crm.owners.owners_api.get_page(limit=2)
    assert is_model(page, CollectionResponsePublicOwnerForwardPaging)
    rest = client.crm.owners.owners_api.get_page(limit=100, after=page.paging.next.after)
    assert len(page.results) + len(rest.results) == len(sandbox.portal.owners)
    one = client.crm.owners.owners_api.get_by_id(int(page.results[0].id))
    assert is_model(one, PublicOwner)
    assert one.email == page.results[0].email


def test_association_batch_read_and_labels(client: HubSpot, sandbox: Sandbox) -> None:
    portal = sandbox.portal
    with_company = [c for c in portal.stores["contacts"].live if portal.assoc.of("contacts", c, "companies")][:5]
    out = client.crm.associations.v4.batch_api.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": str(c)} for c in with_company]),
    )
    assert is_model(out, AssocBatch)
    assert len(out.results) == 5
    types = {t.type_id for r in out.results for to in r.to for t in to.association_types}
    assert types == {1, 279}
    labels = client.crm.associations.v4.schema.definitions_api.get_all("tasks", "contacts")
    assert is_model(labels, CollectionResponseAssociationSpecWithLabelNoPaging)
    assert [label.type_id for label in labels.results] == [204]
    per_object = client.crm.associations.v4.basic_api.get_page("contacts", str(with_company[0]), "companies")
    assert is_model(per_object, AssocPage)
    assert per_object.results


def test_association_batch_read_reports_ids_without_associations(client: HubSpot, sandbox: Sandbox) -> None:
    portal = sandbox.portal
    lonely = next(c for c in portal.stores["contacts"].live if not portal.assoc.of("contacts", c, "deals"))
    with_deal = next(c for c in portal.stores["contacts"].live if portal.assoc.of("contacts", c, "deals"))
    # 207 answers are returned as the SDK's "…WithErrors" model.
    out = client.crm.associations.v4.batch_api.get_page(
        "contacts",
        "deals",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": str(lonely)}, {"id": str(with_deal)}]),
    )
    assert out.num_errors == 1
    assert out.errors[0].context == {"fromObjectId": [str(lonely)]}
    assert [r._from.id for r in out.results] == [str(with_deal)]


def test_forms(client: HubSpot, sandbox: Sandbox) -> None:
    page = client.marketing.forms.forms_api.get_page(limit=5)
    assert is_model(page, CollectionResponseFormDefinitionBaseForwardPaging)
    rest = client.marketing.forms.forms_api.get_page(limit=50, after=page.paging.next.after)
    names = [f.name for f in page.results + rest.results]
    assert names == [f.name for f in sandbox.portal.forms]
    one = client.marketing.forms.forms_api.get_by_id(page.results[0].id)
    assert one.name == page.results[0].name


def test_form_submissions_legacy(client: HubSpot, sandbox: Sandbox) -> None:
    demo = sandbox.portal.form_by("Demo anfragen")
    assert demo is not None
    response = client.api_request(
        {"method": "GET", "path": f"/form-integrations/v1/submissions/forms/{demo.guid}", "qs": {"limit": 50}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["results"]
    first = body["results"][0]
    assert {"submittedAt", "values", "pageUrl"} <= set(first)
    assert {v["name"] for v in first["values"]} >= {"email"}
    times = [r["submittedAt"] for r in body["results"]]
    assert times == sorted(times, reverse=True)


def test_email_events_legacy(client: HubSpot, sandbox: Sandbox) -> None:
    qs = {"limit": 1000, "startTimestamp": 0, "endTimestamp": sandbox.portal.now}
    seen: list[dict[str, Any]] = []
    while True:
        body = client.api_request({"method": "GET", "path": "/email/public/v1/events", "qs": qs}).json()
        seen += body["events"]
        if not body["hasMore"]:
            break
        qs["offset"] = body["offset"]
    assert len(seen) == len(sandbox.portal.email_events)
    kinds = {e["type"] for e in seen}
    assert {"OPEN", "CLICK", "BOUNCE", "STATUSCHANGE"} <= kinds
    click = next(e for e in seen if e["type"] == "CLICK")
    assert click["url"].startswith("https://www.")
    assert {"recipient", "created", "emailCampaignId"} <= set(click)
    bounce_categories = {e["category"] for e in seen if e["type"] == "BOUNCE"}
    assert bounce_categories <= {"HARD_BOUNCE", "SOFT_BOUNCE"}
    assert "HARD_BOUNCE" in bounce_categories
    only_clicks = client.api_request(
        {"method": "GET", "path": "/email/public/v1/events", "qs": {"eventType": "CLICK", "limit": 5}}
    ).json()
    assert {e["type"] for e in only_clicks["events"]} == {"CLICK"}


def test_web_events_page_views(client: HubSpot, sandbox: Sandbox) -> None:
    portal = sandbox.portal
    contact = portal.resolve_contact(portal.page_views.col("contact")[0])
    types = client.events.events_api.get_types()
    assert is_model(types, VisibleExternalEventTypeNames)
    page = client.events.events_api.get_page(object_type="contact", event_type="e_visited_page", limit=10)
    assert is_model(page, CollectionResponseExternalUnifiedEvent)
    assert len(page.results) == 10
    assert page.results[0].properties["hs_url"].startswith(f"https://www.{portal.vendor}.example/")
    following = client.events.events_api.get_page(
        object_type="contact", event_type="e_visited_page", limit=10, after=page.paging.next.after
    )
    assert following.results[0].occurred_at >= page.results[-1].occurred_at
    now = datetime.fromtimestamp(portal.now / 1000, UTC)
    window = client.events.events_api.get_page(
        object_type="contact",
        event_type="e_visited_page",
        occurred_after=now - timedelta(days=30),
        occurred_before=now,
        object_id=contact,
        limit=100,
    )
    assert all(e.object_id == str(contact) for e in window.results)
    assert all(now - timedelta(days=30) < e.occurred_at < now for e in window.results)


def test_marketing_events_and_participations(client: HubSpot, sandbox: Sandbox) -> None:
    portal = sandbox.portal
    listed = client.marketing.events.basic_api.get_all(limit=100)
    assert is_model(listed, CollectionResponseMarketingEventPublicReadResponseV2ForwardPaging)
    assert listed.results[0].event_name.startswith("Webinar: ")
    event = portal.marketing_events[portal.participations.col("event")[0]]
    one = client.marketing.events.basic_api.get_by_object_id(str(event.id))
    assert is_model(one, MarketingEventPublicReadResponseV2)
    part = client.marketing.events.retrieve_participant_state_api
    by_event = part.get_participations_breakdown_by_marketing_event_id(event.id, limit=100)
    assert is_model(by_event, CollectionResponseWithTotalParticipationBreakdownForwardPaging)
    assert by_event.total >= 1
    states = {r.properties.attendance_state for r in by_event.results}
    assert states <= {"REGISTERED", "ATTENDED", "NO_SHOW", "CANCELLED"}
    external = part.get_participations_breakdown_by_external_event_id(EXTERNAL_ACCOUNT_ID, event.external_id)
    assert external.total == by_event.total
    contact_id = by_event.results[0].associations.contact.contact_id
    by_contact = part.get_participations_breakdown_by_contact_id(contact_id)
    assert all(r.associations.contact.contact_id == contact_id for r in by_contact.results)
    counters = part.get_participations_counters_by_marketing_event_id(event.id)
    assert is_model(counters, AttendanceCounters)
    assert counters.attended + counters.no_shows <= counters.registered
    same = part.get_participations_counters_by_event_external_id(EXTERNAL_ACCOUNT_ID, event.external_id)
    assert same.to_dict() == counters.to_dict()


# ---- HubSpot's other standard types and the metadata public connectors read ------------------------------------

OTHER_TYPE_APIS = {
    "tickets": lambda c: c.crm.tickets,
    "products": lambda c: c.crm.products,
    "line_items": lambda c: c.crm.line_items,
    "quotes": lambda c: c.crm.quotes,
    "communications": lambda c: c.crm.objects.communications,
    "postal_mail": lambda c: c.crm.objects.postal_mail,
    "leads": lambda c: c.crm.objects.leads,
    "feedback_submissions": lambda c: c.crm.objects.feedback_submissions,
    "goal_targets": lambda c: c.crm.objects.goals,
}


def test_every_standard_type_has_an_api() -> None:
    assert set(OTHER_TYPE_APIS) | {"deal_splits"} == set(schema.OTHER_TYPES)


@pytest.mark.parametrize("object_type", sorted(OTHER_TYPE_APIS))
def test_other_standard_types_exist_empty(client: HubSpot, object_type: str) -> None:
    """Properties, an empty list, an empty search: what a portal that never used the type answers."""
    api = OTHER_TYPE_APIS[object_type](client)
    props = client.crm.properties.core_api.get_all(object_type)
    assert is_model(props, CollectionResponsePropertyNoPaging)
    names = {p.name for p in props.results}
    assert {"hs_object_id", schema.modified_property(object_type), schema.created_property(object_type)} <= names
    page = api.basic_api.get_page(limit=100)
    assert page.results == []
    assert page.paging is None
    modified = schema.modified_property(object_type)
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name=modified, operator="GTE", value="0")])],
        sorts=[{"propertyName": modified, "direction": "ASCENDING"}],
        limit=100,
    )
    found = api.search_api.do_search(public_object_search_request=request)
    assert (found.total, found.results) == (0, [])


def test_other_standard_types_by_type_id_and_generic_api(client: HubSpot) -> None:
    by_id = client.crm.objects.basic_api.get_page("0-5", limit=10)
    assert by_id.results == []
    assert client.crm.properties.core_api.get_all("0-136").results


def test_unknown_object_type_is_a_400_naming_it(client: HubSpot) -> None:
    response = client.api_request({"method": "GET", "path": "/crm/v3/properties/spaceships"})
    assert response.status_code == 400
    assert "spaceships" in response.json()["message"]


def test_custom_object_schemas_none(client: HubSpot) -> None:
    schemas = client.crm.schemas.core_api.get_all()
    assert schemas.results == []
    assert client.api_request({"method": "GET", "path": "/crm/v3/schemas"}).json() == {"results": []}


@pytest.mark.parametrize("object_type", ["contact", "company", "deal", "ticket", "line_item", "goal_targets", "form"])
def test_legacy_v2_properties(client: HubSpot, sandbox: Sandbox, object_type: str) -> None:
    """`/properties/v2/{type}/properties`: a bare list of definitions in the legacy shape (no SDK call)."""
    response = client.api_request({"method": "GET", "path": f"/properties/v2/{object_type}/properties"})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert body
    assert all({"name", "type", "fieldType", "groupName", "readOnlyValue", "createdAt"} <= set(p) for p in body)
    resolved = schema.TYPE_ALIASES.get(object_type)
    if resolved is not None:
        assert [p["name"] for p in body] == list(sandbox.portal.catalogs[resolved].properties)


def test_owners_page_of_500(client: HubSpot, sandbox: Sandbox) -> None:
    page = client.crm.owners.owners_api.get_page(limit=500)
    assert is_model(page, CollectionResponsePublicOwnerForwardPaging)
    assert len(page.results) == sum(1 for o in sandbox.portal.owners if not o.archived)


def test_pipelines(client: HubSpot) -> None:
    deals = client.crm.pipelines.pipelines_api.get_all("deals")
    assert [s.id for s in deals.results[0].stages][-2:] == ["closedwon", "closedlost"]
    tickets = client.crm.pipelines.pipelines_api.get_all("tickets")
    assert tickets.results[0].stages
    legacy = client.api_request({"method": "GET", "path": "/crm-pipelines/v1/pipelines/deals"}).json()
    assert [s["stageId"] for s in legacy["results"][0]["stages"]] == [s.id for s in deals.results[0].stages]


def test_users_and_teams(client: HubSpot, sandbox: Sandbox) -> None:
    active = [o for o in sandbox.portal.owners if not o.archived]
    users = client.settings.users.users_api.get_page(limit=100)
    assert sorted(u.email for u in users.results) == sorted(o.email for o in active)
    teams = client.settings.users.teams_api.get_all()
    assert {t.name for t in teams.results} == {o.team for o in active}
    assert sorted(u for t in teams.results for u in t.user_ids) == sorted(str(o.user_id) for o in active)


def test_lists_and_workflows_none(client: HubSpot) -> None:
    lists = client.api_request({"method": "POST", "path": "/crm/v3/lists/search", "body": {"count": 100}}).json()
    assert (lists["lists"], lists["hasMore"]) == ([], False)
    workflows = client.api_request({"method": "GET", "path": "/automation/v3/workflows"}).json()
    assert workflows == {"workflows": []}


def test_legacy_engagements(client: HubSpot, sandbox: Sandbox) -> None:
    portal = sandbox.portal
    want = sorted(i for t in schema.ENGAGEMENT_TYPES for i in portal.stores[t].live)
    seen: list[int] = []
    qs: dict[str, Any] = {"limit": 250}
    while True:
        body = client.api_request({"method": "GET", "path": "/engagements/v1/engagements/paged", "qs": qs}).json()
        seen += [e["engagement"]["id"] for e in body["results"]]
        if not body["hasMore"]:
            break
        qs["offset"] = body["offset"]
    assert seen == want
    task = next(iter(portal.stores["tasks"].live))
    one = client.api_request(
        {"method": "GET", "path": "/engagements/v1/engagements/paged", "qs": {"limit": 1, "offset": task - 1}}
    ).json()["results"][0]
    assert one["engagement"]["type"] == "TASK"
    assert one["associations"]["contactIds"] == portal.assoc.of("tasks", task, "contacts")
    recent = client.api_request(
        {"method": "GET", "path": "/engagements/v1/engagements/recent/modified", "qs": {"count": 250, "since": 0}}
    ).json()
    assert recent["total"] == len(want)
    assert len(recent["results"]) == min(100, len(want))  # more than 100 per page is cut to 100, not refused
    updated = [e["engagement"]["lastUpdated"] for e in recent["results"]]
    assert updated == sorted(updated, reverse=True)


def test_legacy_campaigns_marketing_emails_and_subscriptions(client: HubSpot, sandbox: Sandbox) -> None:
    portal = sandbox.portal

    def get(path: str, **qs: Any) -> Any:
        return client.api_request({"method": "GET", "path": path, "qs": qs}).json()

    campaigns = get("/email/public/v1/campaigns", limit=1000)
    assert [c["id"] for c in campaigns["campaigns"]] == [c.id for c in portal.campaigns]
    first = get(f"/email/public/v1/campaigns/{portal.campaigns[0].id}")
    events = [i for i in range(len(portal.email_events)) if portal.email_events.col("campaign")[i] == first["id"]]
    opens = sum(1 for i in events if portal.email_events.col("type")[i] == EMAIL_EVENT_TYPES.index("OPEN"))
    assert first["counters"].get("open", 0) == opens
    emails = get("/marketing-emails/v1/emails/with-statistics", limit=300)
    assert emails["total"] == len(portal.campaigns)
    assert {e["campaign"] for e in emails["objects"]} == {str(c.id) for c in portal.campaigns}
    definitions = get("/email/public/v1/subscriptions")["subscriptionDefinitions"]
    timeline = get("/email/public/v1/subscriptions/timeline", limit=1000)
    unsubscribes = portal.email_events.col("type").count(EMAIL_EVENT_TYPES.index("STATUSCHANGE"))
    assert len(timeline["timeline"]) == unsubscribes
    assert {c["subscriptionId"] for t in timeline["timeline"] for c in t["changes"]} <= {d["id"] for d in definitions}


def test_archive_a_property_and_its_group(client: HubSpot) -> None:
    client.crm.properties.groups_api.create("companies", PropertyGroupCreate(name="acme", label="Acme"))
    client.crm.properties.core_api.create(
        "companies",
        PropertyCreate(name="acme_fit", label="Fit", type="number", field_type="number", group_name="acme"),
    )
    assert client.crm.properties.core_api.archive("companies", "acme_fit") is None
    assert client.crm.properties.groups_api.archive("companies", "acme") is None
    assert "acme" not in [g.name for g in client.crm.properties.groups_api.get_all("companies").results]


def test_zz_every_api_endpoint_was_exercised(sandbox: Sandbox) -> None:
    """Runs last in this module: every HubSpot route of the sandbox has answered at least one 2xx above."""
    served = sandbox.stats()["endpoints"]
    routes = [r.name for r in sandbox.server.router.routes if r.kind != "admin"]
    missing = [name for name in routes if not any(s.startswith("2") for s in served.get(name, {}))]
    assert missing == []
