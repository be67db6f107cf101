"""Behaviour public HubSpot connectors rely on (docs/hubspot.md, "Fidelity notes"): search's top-level `filters`,
association reads between every pair of types HubSpot defines, and search lag showing a record's previous version.
Through the official SDK where it has the call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.associations.v4.models import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.contacts.models import Filter, FilterGroup, PublicObjectSearchRequest

from hubsync.sandbox import generate_portal, schema, snapshot, start_sandbox
from hubsync.sandbox.responses import iso

if TYPE_CHECKING:
    from hubsync.sandbox import Sandbox


def raw_search(client: HubSpot, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """The SDK's search request has no top-level `filters`: sent as HubSpot takes it, through the SDK's raw call."""
    response = client.api_request({"method": "POST", "path": f"/crm/v3/objects/{object_type}/search", "body": body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_top_level_filters_are_one_and_group(client: HubSpot, sandbox: Sandbox) -> None:
    contacts = sandbox.portal.stores["contacts"]
    dates = sorted(contacts.by_id[i].updated for i in contacts.live)
    pivot = dates[len(dates) // 2]
    condition = {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(pivot)}
    top = raw_search(client, "contacts", {"filters": [condition], "limit": 1})
    grouped = client.crm.contacts.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(filters=[Filter(property_name="lastmodifieddate", operator="GTE", value=str(pivot))])
            ],
            limit=1,
        )
    )
    assert top["total"] == grouped.total == sum(1 for d in dates if d >= pivot)
    assert top["total"] < len(dates)
    window = raw_search(
        client,
        "contacts",
        {"filters": [condition, {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(pivot)}]},
    )
    assert window["total"] == dates.count(pivot)  # ANDed: only the records modified exactly at the pivot


def test_top_level_filters_count_against_the_limits(client: HubSpot) -> None:
    too_many = [{"propertyName": "hs_object_id", "operator": "GT", "value": str(i)} for i in range(7)]
    response = client.api_request(
        {"method": "POST", "path": "/crm/v3/objects/contacts/search", "body": {"filters": too_many}}
    )
    assert response.status_code == 400
    assert response.json()["subCategory"] == "TOO_MANY_FILTERS"


def test_association_table_is_symmetric() -> None:
    assert all((b, a) in schema.ASSOCIATION_TYPES for a, b in schema.ASSOCIATION_TYPES)


@pytest.mark.parametrize(
    ("from_type", "to_type"),
    [("contacts", "contacts"), ("calls", "companies"), ("deals", "line_items"), ("tickets", "contacts")],
)
def test_association_batch_read_of_any_defined_pair(
    client: HubSpot, sandbox: Sandbox, from_type: str, to_type: str
) -> None:
    """Ids without associations come back as HubSpot's "no associations" errors (207), never as a 400."""
    ids = [str(i) for i in sandbox.portal.stores[from_type].live[:3]] or ["1"]
    out = client.crm.associations.v4.batch_api.get_page(
        from_type, to_type, BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": i} for i in ids])
    )
    held = [i for i in ids if sandbox.portal.assoc.of(from_type, int(i), to_type)]
    assert sorted(r._from.id for r in out.results) == sorted(held)
    assert (out.num_errors or 0) == len(ids) - len(held)


def test_pair_hubspot_does_not_define_is_a_400(client: HubSpot) -> None:
    with pytest.raises(AssociationsApiException) as raised:
        client.crm.associations.v4.batch_api.get_page(
            "products", "contacts", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "1"}])
        )
    assert raised.value.status == 400


def test_associations_between_contacts_are_read_both_ways() -> None:
    with start_sandbox(contacts=30, seed=4, rate_limits=False) as sb:
        client = HubSpot(access_token=sb.token, host=sb.url, base_url=sb.url)
        a, b = sb.portal.stores["contacts"].live[:2]
        sb.portal.associate("contacts", a, "contacts", b)
        out = client.crm.associations.v4.batch_api.get_page(
            "contacts", "contacts", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": str(a)}])
        )
        linked_to = [(t.to_object_id, [x.type_id for x in t.association_types]) for t in out.results[0].to]
        assert linked_to == [(str(b), [449])]
        listed = client.crm.contacts.basic_api.get_page(limit=2, associations=["contacts"])
        linked = {r.id: [x.id for x in r.associations["contacts"].results] for r in listed.results if r.associations}
        assert linked == {str(a): [str(b)], str(b): [str(a)]}
        one = client.crm.contacts.basic_api.get_by_id(str(b), associations=["contacts"])
        assert [x.type for x in one.associations["contacts"].results] == ["contact_to_contact_unlabeled"]


def test_search_lag_shows_the_previous_version() -> None:
    with start_sandbox(contacts=40, seed=2, index_delay_seconds=30, rate_limits=False) as sb:
        client = HubSpot(access_token=sb.token, host=sb.url, base_url=sb.url)
        portal = sb.portal
        portal.advance(60)  # everything generated is indexed
        contact = portal.stores["contacts"].live[0]
        before = portal.stores["contacts"].by_id[contact].props.get("jobtitle")
        was_modified = portal.stores["contacts"].by_id[contact].updated
        portal.update(schema.CONTACTS, contact, {"jobtitle": "Chief Lag Officer"})
        portal.advance(10)
        portal.update(schema.CONTACTS, contact, {"jobtitle": "Chief Lag Officer II"})

        def found() -> tuple[int, dict[str, Any]]:
            request = PublicObjectSearchRequest(
                filter_groups=[
                    FilterGroup(filters=[Filter(property_name="hs_object_id", operator="EQ", value=str(contact))])
                ],
                properties=["jobtitle", "lastmodifieddate"],
            )
            out = client.crm.contacts.search_api.do_search(public_object_search_request=request)
            return out.total, (out.results[0].properties if out.results else {})

        total, props = found()
        assert total == 1  # still found, as it was before the changes within the delay
        assert props["jobtitle"] == before
        assert props["lastmodifieddate"] == iso(was_modified)
        portal.advance(21)  # the first change is indexed, the second not yet
        assert found()[1]["jobtitle"] == "Chief Lag Officer"
        portal.advance(10)
        assert found()[1]["jobtitle"] == "Chief Lag Officer II"


def test_a_record_created_within_the_delay_is_not_found_yet() -> None:
    with start_sandbox(contacts=20, seed=2, index_delay_seconds=30, rate_limits=False) as sb:
        created = sb.portal.create("contacts", {"email": "neu@example.org"}).id
        body = {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": str(created)}]}
        client = HubSpot(access_token=sb.token, host=sb.url, base_url=sb.url)
        assert raw_search(client, "contacts", body)["total"] == 0
        sb.portal.advance(30)
        assert raw_search(client, "contacts", body)["total"] == 1


def test_records_and_links_of_the_other_types_survive_a_snapshot() -> None:
    portal = generate_portal(20, 3)
    plain = snapshot.dumps(portal)
    assert b'"tickets"' not in plain  # a generated portal's snapshot reads as before: the other types hold nothing
    ticket = portal.create(schema.TICKETS, {"subject": "Login kaputt", "hs_pipeline_stage": "1"})
    a, b = portal.stores[schema.CONTACTS].live[:2]
    portal.associate(schema.TICKETS, ticket.id, schema.CONTACTS, a)
    portal.associate(schema.CONTACTS, a, schema.CONTACTS, b)
    data = snapshot.dumps(portal)
    loaded = snapshot.loads(data)
    assert loaded.stores[schema.TICKETS].by_id[ticket.id].props["subject"] == "Login kaputt"
    assert loaded.assoc.of(schema.CONTACTS, a, schema.TICKETS) == [ticket.id]
    assert loaded.assoc.of(schema.CONTACTS, b, schema.CONTACTS) == [a]
    assert snapshot.dumps(loaded) == data


def test_entering_a_lifecycle_stage_through_the_api_stamps_its_date(client: HubSpot, sandbox: Sandbox) -> None:
    from hubspot.crm.contacts.models import SimplePublicObjectInput  # noqa: PLC0415  (this test's only use)

    contacts = sandbox.portal.stores["contacts"]
    contact_id = next(
        i for i in sorted(contacts.live) if not contacts.by_id[i].props.get("hs_lifecyclestage_opportunity_date")
    )
    stamp = "hs_lifecyclestage_opportunity_date"
    api = client.crm.contacts.basic_api
    api.update(
        str(contact_id),
        simple_public_object_input=SimplePublicObjectInput(properties={"lifecyclestage": "opportunity"}),
    )
    first = api.get_by_id(str(contact_id), properties=[stamp, "lifecyclestage"]).properties
    assert first["lifecyclestage"] == "opportunity"
    assert first[stamp] == iso(contacts.by_id[contact_id].updated)
    # Entered once: writing the same stage again, or leaving and coming back, keeps the first date.
    sandbox.portal.now += 60_000
    api.update(
        str(contact_id), simple_public_object_input=SimplePublicObjectInput(properties={"lifecyclestage": "customer"})
    )
    api.update(
        str(contact_id),
        simple_public_object_input=SimplePublicObjectInput(properties={"lifecyclestage": "opportunity"}),
    )
    again = api.get_by_id(str(contact_id), properties=[stamp, "hs_lifecyclestage_customer_date"]).properties
    assert again[stamp] == first[stamp]
    assert again["hs_lifecyclestage_customer_date"] == iso(sandbox.portal.now)
