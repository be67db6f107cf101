"""Mutating a running portal, from Python and through `/__sandbox__/`, and reading its counters; seeded faults."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from hubsync.sandbox import FaultSettings, schema, start_sandbox
from hubsync.sandbox.responses import iso

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hubsync.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=80, seed=5, rate_limits=False) as sb:
        yield sb


def api(sb: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, sb.url + path, headers={"Authorization": f"Bearer {sb.token}"}, timeout=10, **kwargs
    )


def admin(sb: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.request(method, f"{sb.url}/__sandbox__{path}", timeout=10, **kwargs)
    assert response.ok, response.text
    return response


def contact_json(sb: Sandbox, contact_id: int) -> dict[str, Any]:
    response = api(sb, "GET", f"/crm/v3/objects/contacts/{contact_id}?properties=jobtitle,hs_merged_object_ids")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_clock_moves_only_when_advanced_and_stamps_new_records(sandbox: Sandbox) -> None:
    start = sandbox.portal.now
    time.sleep(0.05)
    assert sandbox.portal.now == start
    answer = admin(sandbox, "POST", "/clock", json={"advanceSeconds": 3600}).json()
    assert answer["now"] == start + 3_600_000
    created = admin(sandbox, "POST", "/objects/contacts", json={"properties": {"email": "neu@firma.example"}}).json()
    record = contact_json(sandbox, int(created["id"]))
    assert record["createdAt"] == iso(start + 3_600_000)
    assert record["properties"]["lastmodifieddate"] == iso(start + 3_600_000)


def test_edit_touches_the_modified_date(sandbox: Sandbox) -> None:
    contact = sandbox.portal.stores["contacts"].live[0]
    sandbox.portal.advance(60)
    admin(sandbox, "PATCH", f"/objects/contacts/{contact}", json={"properties": {"jobtitle": "Geschäftsführer"}})
    record = contact_json(sandbox, contact)
    assert record["properties"]["jobtitle"] == "Geschäftsführer"
    assert record["updatedAt"] == iso(sandbox.portal.now)


def test_archive_keeps_the_modified_date_and_sets_archived_at(sandbox: Sandbox) -> None:
    contact = sandbox.portal.stores["contacts"].live[1]
    before = contact_json(sandbox, contact)["updatedAt"]
    sandbox.portal.advance(60)
    admin(sandbox, "DELETE", f"/objects/contacts/{contact}")
    assert api(sandbox, "GET", f"/crm/v3/objects/contacts/{contact}").status_code == 404
    archived = api(sandbox, "GET", f"/crm/v3/objects/contacts/{contact}?archived=true").json()
    assert archived["archived"] is True
    assert archived["archivedAt"] == iso(sandbox.portal.now)
    assert archived["updatedAt"] == before


def test_merge_leads_old_ids_and_their_activity_to_the_survivor(sandbox: Sandbox) -> None:
    portal = sandbox.portal
    survivor, merged = portal.stores["contacts"].live[2], portal.stores["contacts"].live[3]
    portal.add_page_view(merged, f"https://www.{portal.vendor}.example/preise")
    merged_email = portal.stores["contacts"].by_id[merged].props["email"]
    answer = admin(sandbox, "POST", "/merge", json={"survivorId": survivor, "mergedId": merged}).json()
    assert str(merged) in answer["hs_merged_object_ids"].split(";")
    by_old_id = contact_json(sandbox, merged)
    assert by_old_id["id"] == str(survivor)
    assert str(merged) in by_old_id["properties"]["hs_merged_object_ids"].split(";")
    assert by_old_id["updatedAt"] == iso(portal.now)
    views = api(sandbox, "GET", f"/events/v3/events?objectType=contact&objectId={survivor}&limit=1000").json()
    assert any(v["properties"]["hs_url"].endswith("/preise") for v in views["results"])
    assert all(int(i) != merged for i in portal.stores["contacts"].live)
    listed = api(sandbox, "GET", "/crm/v3/objects/contacts?limit=100").json()["results"]
    assert str(merged) not in [r["id"] for r in listed]
    assert merged_email  # the merged contact's own email events stay keyed by recipient, as HubSpot's do


def test_association_change_leaves_both_modified_dates_alone(sandbox: Sandbox) -> None:
    portal = sandbox.portal
    contact = next(c for c in portal.stores["contacts"].live if portal.assoc.of("contacts", c, "companies"))
    old_company = portal.assoc.of("contacts", contact, "companies")[0]
    new_company = next(c for c in portal.stores["companies"].live if c != old_company)
    before = (
        contact_json(sandbox, contact)["updatedAt"],
        api(sandbox, "GET", f"/crm/v3/objects/companies/{new_company}").json()["updatedAt"],
    )
    portal.advance(600)
    admin(
        sandbox,
        "POST",
        "/associations",
        json={"fromType": "contacts", "fromId": contact, "toType": "companies", "toId": old_company, "remove": True},
    )
    admin(
        sandbox,
        "POST",
        "/associations",
        json={"fromType": "contacts", "fromId": contact, "toType": "companies", "toId": new_company, "primary": True},
    )
    read = api(
        sandbox, "POST", "/crm/v4/associations/contacts/companies/batch/read", json={"inputs": [{"id": str(contact)}]}
    ).json()
    assert [t["toObjectId"] for t in read["results"][0]["to"]] == [new_company]
    assert {a["typeId"] for a in read["results"][0]["to"][0]["associationTypes"]} == {1, 279}
    after = (
        contact_json(sandbox, contact)["updatedAt"],
        api(sandbox, "GET", f"/crm/v3/objects/companies/{new_company}").json()["updatedAt"],
    )
    assert after == before


def test_bulk_update_gives_many_records_one_modified_date(sandbox: Sandbox) -> None:
    portal = sandbox.portal
    portal.advance(86_400)
    answer = admin(
        sandbox,
        "POST",
        "/bulk-update",
        json={"objectType": "contacts", "count": 50, "properties": {"lifecyclestage": "lead"}},
    ).json()
    assert answer["updated"] == 50
    stamps = {portal.stores["contacts"].by_id[c].updated for c in portal.stores["contacts"].live[:50]}
    assert stamps == {portal.now}
    search = api(
        sandbox,
        "POST",
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(portal.now)}]}
            ]
        },
    ).json()
    assert search["total"] == 50


def test_added_activity_is_served_by_each_stream(sandbox: Sandbox) -> None:
    portal = sandbox.portal
    contact = portal.stores["contacts"].live[5]
    email = portal.stores["contacts"].by_id[contact].props["email"]
    portal.advance(120)
    now = portal.now
    site = f"https://www.{portal.vendor}.example"
    admin(sandbox, "POST", "/activity", json={"kind": "page_view", "contactId": contact, "url": f"{site}/pricing"})
    admin(
        sandbox,
        "POST",
        "/activity",
        json={"kind": "email_event", "recipient": email, "type": "CLICK", "url": f"{site}/blog/x"},
    )
    admin(
        sandbox,
        "POST",
        "/activity",
        json={"kind": "form_submission", "contactId": contact, "form": "Demo anfragen", "pageUrl": f"{site}/demo"},
    )
    event = portal.marketing_events[-1]
    admin(
        sandbox,
        "POST",
        "/activity",
        json={"kind": "marketing_event", "contactId": contact, "event": str(event.id), "state": "REGISTERED"},
    )
    views = api(sandbox, "GET", f"/events/v3/events?objectType=contact&objectId={contact}&sort=-occurredAt").json()
    assert views["results"][0]["properties"]["hs_url"] == f"{site}/pricing"
    assert views["results"][0]["occurredAt"] == iso(now)
    clicks = api(sandbox, "GET", f"/email/public/v1/events?startTimestamp={now}&eventType=CLICK").json()
    assert [(e["recipient"], e["url"], e["created"]) for e in clicks["events"]] == [(email, f"{site}/blog/x", now)]
    demo = portal.form_by("Demo anfragen")
    assert demo is not None
    submissions = api(sandbox, "GET", f"/form-integrations/v1/submissions/forms/{demo.guid}").json()
    assert submissions["results"][0]["submittedAt"] == now
    breakdown = api(sandbox, "GET", f"/marketing/v3/marketing-events/participations/contacts/{email}/breakdown").json()
    assert any(r["properties"]["attendanceState"] == "REGISTERED" for r in breakdown["results"])


def test_stats_count_requests_per_endpoint_and_status(sandbox: Sandbox) -> None:
    sandbox.reset_stats()
    api(sandbox, "GET", "/crm/v3/objects/contacts")
    api(sandbox, "GET", "/crm/v3/objects/companies")
    api(sandbox, "GET", "/crm/v3/objects/contacts/1")
    api(sandbox, "GET", "/crm/v3/objects/contacts?limit=500")
    over_http = admin(sandbox, "GET", "/stats").json()
    assert over_http == sandbox.stats()
    assert over_http["endpoints"]["GET /crm/v3/objects/{objectType}"] == {"200": 2, "400": 1}
    assert over_http["endpoints"]["GET /crm/v3/objects/{objectType}/{objectId}"] == {"404": 1}
    assert over_http["total"] == 4
    assert over_http["byStatus"] == {"200": 2, "400": 1, "404": 1}


def test_scoped_tokens_from_the_admin_endpoint(sandbox: Sandbox) -> None:
    token = admin(sandbox, "POST", "/tokens", json={"scopes": ["forms"]}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{sandbox.url}/marketing/v3/forms", headers=headers, timeout=10).status_code == 200
    assert requests.get(f"{sandbox.url}/crm/v3/owners", headers=headers, timeout=10).status_code == 403


# ---- faults -------------------------------------------------------------------------------------------------


def statuses(sb: Sandbox, count: int) -> list[int]:
    out = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {sb.token}"
        for _ in range(count):
            try:
                out.append(session.get(f"{sb.url}/crm/v3/owners", timeout=5).status_code)
            except requests.ConnectionError:
                out.append(0)
    return out


def test_faults_are_off_by_default(sandbox: Sandbox) -> None:
    assert set(statuses(sandbox, 30)) == {200}


def test_faults_replay_from_their_seed() -> None:
    faults = FaultSettings(rate=0.3, seed=42, kinds=("500", "502", "503", "504", "429", "drop"), burst=3)
    runs = []
    for _ in range(2):
        with start_sandbox(contacts=20, seed=1, rate_limits=False, faults=faults) as sb:
            runs.append(statuses(sb, 60))
    assert runs[0] == runs[1]
    assert {200, 500, 502, 503, 504, 429, 0} <= set(runs[0])
    assert 0.15 < runs[0].count(200) / 60 < 0.85


def test_each_fault_kind_answers_as_hubspot_would(sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/crm/v3/owners"
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("503",)))
    unavailable = requests.get(url, headers=headers, timeout=5)
    assert unavailable.status_code == 503
    assert unavailable.json()["status"] == "error"
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("502",)))
    gateway = requests.get(url, headers=headers, timeout=5)
    assert gateway.status_code == 502
    assert gateway.headers["Content-Type"] == "text/html"
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("drop",)))
    with pytest.raises(requests.ConnectionError):
        requests.get(url, headers=headers, timeout=5)
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("slow",), slow_seconds=0.3))
    started = time.perf_counter()
    assert requests.get(url, headers=headers, timeout=5).status_code == 200
    assert time.perf_counter() - started >= 0.3
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("429",), burst=3))
    burst = statuses(sandbox, 3)
    assert burst == [429, 429, 429]
    sandbox.set_faults(FaultSettings())
    assert statuses(sandbox, 3) == [200, 200, 200]


def test_admin_settings_switch_faults_delay_and_limits(sandbox: Sandbox) -> None:
    admin(sandbox, "POST", "/settings", json={"faultRate": 1.0, "faultKinds": ["500"], "indexDelaySeconds": 5})
    assert statuses(sandbox, 2) == [500, 500]
    assert sandbox.portal.index_delay_ms == 5000
    admin(sandbox, "POST", "/settings", json={"faultRate": 0, "rateLimits": True, "perTenSeconds": 1})
    assert statuses(sandbox, 2) == [200, 429]
    assert schema.CONTACTS in sandbox.portal.stores
