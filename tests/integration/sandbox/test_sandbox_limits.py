"""HubSpot's limits and errors, as the sandbox answers them: status, headers and body shape."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException
from hubspot.crm.contacts.models import BatchInputSimplePublicObjectBatchInput

from hubsync.sandbox import Portal, schema, start_sandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hubsync.sandbox import Sandbox

RATE_HEADERS = (
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=120, seed=3, rate_limits=False) as sb:
        yield sb


def call(sb: Sandbox, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or sb.token}"}
    return requests.request(method, sb.url + path, headers=headers, timeout=10, **kwargs)


def search(sb: Sandbox, body: dict[str, Any], token: str | None = None) -> requests.Response:
    return call(sb, "POST", "/crm/v3/objects/contacts/search", token, json=body)


def assert_error(response: requests.Response, status: int, category: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert body["message"]
    assert body["correlationId"]
    return body


# ---- sizes --------------------------------------------------------------------------------------------------


def test_list_limit_above_maximum_is_400(sandbox: Sandbox) -> None:
    assert call(sandbox, "GET", "/crm/v3/objects/contacts?limit=100").status_code == 200
    assert_error(call(sandbox, "GET", "/crm/v3/objects/contacts?limit=101"), 400, "VALIDATION_ERROR")
    with_history = "/crm/v3/objects/contacts?limit=51&propertiesWithHistory=email"
    assert_error(call(sandbox, "GET", with_history), 400, "VALIDATION_ERROR")
    assert call(sandbox, "GET", "/crm/v3/owners?limit=500").status_code == 200
    assert_error(call(sandbox, "GET", "/crm/v3/owners?limit=501"), 400, "VALIDATION_ERROR")
    legacy = "/email/public/v1/events?limit=1001"
    assert_error(call(sandbox, "GET", legacy), 400, "VALIDATION_ERROR")
    form = sandbox.portal.forms[0].guid
    assert_error(
        call(sandbox, "GET", f"/form-integrations/v1/submissions/forms/{form}?limit=51"), 400, "VALIDATION_ERROR"
    )


def test_list_limit_above_maximum_raises_through_the_sdk(sandbox: Sandbox) -> None:
    client = HubSpot(access_token=sandbox.token, host=sandbox.url, base_url=sandbox.url)
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.get_page(limit=101)
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["category"] == "VALIDATION_ERROR"


def test_search_limit_and_filter_counts(sandbox: Sandbox) -> None:
    assert search(sandbox, {"limit": 200}).status_code == 200
    assert_error(search(sandbox, {"limit": 201}), 400, "VALIDATION_ERROR")
    one = {"propertyName": "hs_object_id", "operator": "GT", "value": "0"}
    assert search(sandbox, {"filterGroups": [{"filters": [one] * 6}] * 3}).status_code == 200
    assert_error(search(sandbox, {"filterGroups": [{"filters": [one] * 7}]}), 400, "VALIDATION_ERROR")
    assert_error(search(sandbox, {"filterGroups": [{"filters": [one]}] * 6}), 400, "VALIDATION_ERROR")
    assert_error(search(sandbox, {"filterGroups": [{"filters": [one] * 5}] * 4}), 400, "VALIDATION_ERROR")


def test_more_than_100_batch_inputs_is_400(sandbox: Sandbox) -> None:
    ids = [{"id": str(i)} for i in sandbox.portal.stores["contacts"].live[:101]]
    body = {"inputs": ids, "properties": []}
    assert call(sandbox, "POST", "/crm/v3/objects/contacts/batch/read", json={**body, "inputs": ids[:100]}).ok
    assert_error(call(sandbox, "POST", "/crm/v3/objects/contacts/batch/read", json=body), 400, "VALIDATION_ERROR")
    updates = {"inputs": [{"id": i["id"], "properties": {"jobtitle": "CEO"}} for i in ids]}
    assert_error(call(sandbox, "POST", "/crm/v3/objects/contacts/batch/update", json=updates), 400, "VALIDATION_ERROR")
    many = {"inputs": [{"id": str(i)} for i in range(1001)]}
    assert_error(
        call(sandbox, "POST", "/crm/v4/associations/contacts/companies/batch/read", json=many), 400, "VALIDATION_ERROR"
    )


def test_search_stops_at_10000_results_even_when_12000_share_one_modified_date() -> None:
    portal = Portal(now=1_750_000_000_000)
    for i in range(12_000):
        portal.create("contacts", {"email": f"c{i}@firma.example"}, at=1_700_000_000_000)
    same = 1_740_000_000_000
    assert (
        portal.bulk_update("contacts", list(portal.stores["contacts"].live), {"lifecyclestage": "lead"}, at=same)
        == 12_000
    )
    with start_sandbox(portal=portal, rate_limits=False) as sb:
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(same)}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "limit": 200,
        }
        seen = 0
        while True:
            response = search(sb, body)
            if response.status_code != 200:
                break
            page = response.json()
            assert page["total"] == 12_000
            seen += len(page["results"])
            body["after"] = page["paging"]["next"]["after"]
        assert seen == 10_000
        assert body["after"] == "10000"
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert "10000" in error["message"]


# ---- rate limits --------------------------------------------------------------------------------------------


def test_ten_second_budget_headers_and_429() -> None:
    clock = FakeClock()
    with start_sandbox(contacts=30, seed=1, per_ten_seconds=5) as sb:
        sb.gate.clock = clock
        remaining = []
        for _ in range(5):
            ok = call(sb, "GET", "/crm/v3/objects/contacts?limit=1")
            assert ok.status_code == 200
            assert all(h in ok.headers for h in RATE_HEADERS)
            assert ok.headers["X-HubSpot-RateLimit-Max"] == "5"
            assert ok.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
            assert ok.headers["X-HubSpot-RateLimit-Daily"] == "1000000"
            remaining.append(int(ok.headers["X-HubSpot-RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        limited = call(sb, "GET", "/crm/v3/objects/contacts?limit=1")
        assert limited.status_code == 429
        body = limited.json()
        assert body == {
            "status": "error",
            "message": body["message"],
            "errorType": "RATE_LIMIT",
            "correlationId": body["correlationId"],
            "policyName": "TEN_SECONDLY_ROLLING",
        }
        assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        clock.now += 10.0
        assert call(sb, "GET", "/crm/v3/objects/contacts?limit=1").status_code == 200
        assert sb.stats()["endpoints"]["GET /crm/v3/objects/{objectType}"] == {"200": 6, "429": 1}


def test_budget_follows_the_tier() -> None:
    with start_sandbox(contacts=20, seed=1, tier="starter") as sb:
        response = call(sb, "GET", "/crm/v3/owners")
        assert response.headers["X-HubSpot-RateLimit-Max"] == "100"
        assert response.headers["X-HubSpot-RateLimit-Daily"] == "250000"
        assert_error(call(sb, "GET", "/events/v3/events?eventType=e_visited_page"), 403, "FORBIDDEN")
    with start_sandbox(contacts=20, seed=1, tier="api_limit_increase") as sb:
        assert call(sb, "GET", "/crm/v3/owners").headers["X-HubSpot-RateLimit-Max"] == "250"


def test_daily_quota_answers_429_daily_until_the_portal_day_changes() -> None:
    with start_sandbox(contacts=20, seed=1, per_day=3) as sb:
        assert [call(sb, "GET", "/crm/v3/owners").status_code for _ in range(3)] == [200, 200, 200]
        exhausted = call(sb, "GET", "/crm/v3/owners")
        assert exhausted.status_code == 429
        assert exhausted.json()["policyName"] == "DAILY"
        assert exhausted.json()["errorType"] == "RATE_LIMIT"
        assert exhausted.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
        sb.portal.advance(86_400)
        assert call(sb, "GET", "/crm/v3/owners").status_code == 200


def test_search_allows_five_per_second_and_carries_no_rate_headers() -> None:
    clock = FakeClock()
    with start_sandbox(contacts=20, seed=1) as sb:
        sb.gate.clock = clock
        answers = [search(sb, {"limit": 1}) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert not any(h.startswith("X-HubSpot-RateLimit") for h in answers[0].headers)
        assert answers[5].json()["policyName"] == "SECONDLY"
        # Search is outside the ten-second budget: other calls still go through.
        assert call(sb, "GET", "/crm/v3/owners").status_code == 200
        clock.now += 1.0
        assert search(sb, {"limit": 1}).status_code == 200


def test_rate_limits_switched_off() -> None:
    with start_sandbox(contacts=20, seed=1, per_ten_seconds=2, rate_limits=False) as sb:
        assert {call(sb, "GET", "/crm/v3/owners").status_code for _ in range(10)} == {200}
        assert {search(sb, {"limit": 1}).status_code for _ in range(10)} == {200}


# ---- authentication and scopes ------------------------------------------------------------------------------


def test_bad_token_is_401(sandbox: Sandbox) -> None:
    body = assert_error(
        call(sandbox, "GET", "/crm/v3/objects/contacts", token="pat-na1-revoked"), 401, "INVALID_AUTHENTICATION"
    )
    assert set(body) == {"status", "message", "correlationId", "category"}
    client = HubSpot(access_token="pat-na1-revoked", host=sandbox.url, base_url=sandbox.url)
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.get_page()
    assert raised.value.status == 401
    assert client.api_request({"method": "GET", "path": "/email/public/v1/events"}).status_code == 401


def test_missing_scope_is_403_naming_it(sandbox: Sandbox) -> None:
    token = sandbox.add_token(("crm.objects.contacts.read",))
    assert call(sandbox, "GET", "/crm/v3/objects/contacts", token=token).status_code == 200
    body = assert_error(call(sandbox, "GET", "/crm/v3/owners", token=token), 403, "MISSING_SCOPES")
    assert body["errors"] == [
        {
            "message": "All of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.owners.read"]},
        }
    ]
    assert body["links"] == {"scopes": "https://developers.hubspot.com/scopes"}
    write = assert_error(
        call(
            sandbox,
            "PATCH",
            f"/crm/v3/objects/contacts/{sandbox.portal.stores['contacts'].live[0]}",
            token=token,
            json={"properties": {"jobtitle": "CEO"}},
        ),
        403,
        "MISSING_SCOPES",
    )
    assert write["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.contacts.write"]
    legacy = assert_error(call(sandbox, "GET", "/email/public/v1/events", token=token), 403, "MISSING_SCOPES")
    assert legacy["errors"][0]["context"]["requiredGranularScopes"] == ["content"]


# ---- partial failures, conflicts, index delay ---------------------------------------------------------------


def test_batch_update_answers_207_with_per_record_errors(sandbox: Sandbox) -> None:
    contacts = sandbox.portal.stores["contacts"].live
    companies = sandbox.portal.stores["companies"].live
    client = HubSpot(access_token=sandbox.token, host=sandbox.url, base_url=sandbox.url)
    out = client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": str(contacts[0]), "properties": {"jobtitle": "Head of Marketing"}},
                {"id": "999999999", "properties": {"jobtitle": "CEO"}},
                {"id": str(contacts[1]), "properties": {"no_such_property": "x"}},
                {"id": str(contacts[2]), "properties": {"lifecyclestage": "hot_lead"}},
            ]
        )
    )
    assert type(out).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert out.status == "COMPLETE"
    assert [r.id for r in out.results] == [str(contacts[0])]
    assert out.num_errors == 3
    by_code = {e.errors[0].code if e.errors else e.category: e for e in out.errors}
    assert set(by_code) == {"PROPERTY_DOESNT_EXIST", "INVALID_OPTION", "OBJECT_NOT_FOUND"}
    assert by_code["OBJECT_NOT_FOUND"].context == {"ids": ["999999999"]}
    assert by_code["PROPERTY_DOESNT_EXIST"].category == "VALIDATION_ERROR"
    assert 'Property \\"no_such_property\\" does not exist' in by_code["PROPERTY_DOESNT_EXIST"].message
    assert by_code["INVALID_OPTION"].context["ids"] == [str(contacts[2])]
    number = call(
        sandbox,
        "POST",
        "/crm/v3/objects/companies/batch/update",
        json={"inputs": [{"id": str(companies[0]), "properties": {"annualrevenue": "viel"}}]},
    )
    assert number.status_code == 207
    error = number.json()["errors"][0]
    assert error["errors"][0]["code"] == "INVALID_FLOAT"
    assert set(error) >= {"status", "category", "message", "context", "errors", "links"}


def test_single_update_with_a_bad_value_is_400(sandbox: Sandbox) -> None:
    contact = sandbox.portal.stores["contacts"].live[3]
    bad = call(
        sandbox, "PATCH", f"/crm/v3/objects/contacts/{contact}", json={"properties": {"hs_lead_status": "MAYBE"}}
    )
    assert_error(bad, 400, "VALIDATION_ERROR")
    assert_error(call(sandbox, "GET", "/crm/v3/objects/contacts/999999999"), 404, "OBJECT_NOT_FOUND")


def test_creating_an_existing_property_or_group_is_409(sandbox: Sandbox) -> None:
    prop = {
        "name": "email",
        "label": "E-Mail",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
    }
    body = assert_error(call(sandbox, "POST", "/crm/v3/properties/contacts", json=prop), 409, "OBJECT_ALREADY_EXISTS")
    assert "email" in body["message"]
    group = {"name": "contactinformation", "label": "Kontakt"}
    assert_error(call(sandbox, "POST", "/crm/v3/properties/contacts/groups", json=group), 409, "OBJECT_ALREADY_EXISTS")


def test_search_sees_changes_only_after_the_index_delay() -> None:
    with start_sandbox(contacts=40, seed=2, index_delay_seconds=30, rate_limits=False) as sb:
        portal = sb.portal
        contact = portal.stores["contacts"].live[0]
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": "jobtitle", "operator": "EQ", "value": "Chief Scoring Officer"}]}
            ]
        }
        portal.update(schema.CONTACTS, contact, {"jobtitle": "Chief Scoring Officer"})
        assert search(sb, body).json()["total"] == 0
        # The record itself is already readable.
        assert (
            call(sb, "GET", f"/crm/v3/objects/contacts/{contact}?properties=jobtitle").json()["properties"]["jobtitle"]
            == "Chief Scoring Officer"
        )
        portal.advance(29)
        assert search(sb, body).json()["total"] == 0
        portal.advance(1)
        assert [r["id"] for r in search(sb, body).json()["results"]] == [str(contact)]
