"""The sandbox's switches for strict-page and odd-value tests: body faults (a 2xx whose body is not the page), faults
aimed at one endpoint, a chosen Retry-After on 429 faults, and records with ids HubSpot would never give."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import requests
from typer.testing import CliRunner

from hubsync.sandbox import FaultSettings, start_sandbox
from hubsync.sandbox.cli import sandbox_app
from hubsync.sandbox.limits import BODY_FAULT_KINDS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hubsync.sandbox import Sandbox

FORMS = "/marketing/v3/forms"
OWNERS = "/crm/v3/owners"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=40, seed=5, rate_limits=False) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _no_faults_after(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.set_faults(FaultSettings())


def get(sb: Sandbox, path: str) -> requests.Response:
    return requests.get(sb.url + path, headers={"Authorization": f"Bearer {sb.token}"}, timeout=10)


def test_each_body_fault_serves_a_200_that_is_not_the_page(sandbox: Sandbox) -> None:
    whole = get(sandbox, OWNERS)
    assert whole.status_code == 200
    bodies: dict[str, bytes] = {}
    for kind in BODY_FAULT_KINDS:
        sandbox.set_faults(FaultSettings(rate=1.0, kinds=(kind,)))
        answer = get(sandbox, OWNERS)
        assert answer.status_code == 200, kind
        bodies[kind] = answer.content
    assert bodies["empty"] == b""
    assert bodies["null"] == b"null"
    assert bodies["array"] == b"[]"
    assert bodies["object"] == b"{}"
    # Cut off mid-answer: the start of the real page, and not JSON.
    assert bodies["not_json"]
    assert whole.content.startswith(bodies["not_json"])
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(bodies["not_json"])
    # The real answer without its list of results: the paging (or whatever else it had) stays.
    no_results = json.loads(bodies["no_results"])
    assert "results" not in no_results
    assert set(no_results) == set(whole.json()) - {"results"}


def test_a_body_fault_replaces_only_a_served_2xx(sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("null",)))
    missing = get(sandbox, "/crm/v3/objects/contacts/999999999")
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    stats = sandbox.stats()["endpoints"]
    assert stats["GET /crm/v3/objects/{objectType}/{objectId}"]["404"] >= 1


def test_faults_aimed_at_one_endpoint_leave_the_others_alone(sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("not_json",), endpoints=("GET /marketing/v3/forms",)))
    for _ in range(3):
        assert get(sandbox, OWNERS).json()["results"]
        assert get(sandbox, "/crm/v3/objects/contacts?limit=2").json()["results"]
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            get(sandbox, FORMS).json()
    # A path prefix works as well as the endpoint's name; a 429 burst stays on the aimed endpoint too.
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("429",), burst=3, endpoints=("/crm/v3/owners",)))
    assert [get(sandbox, OWNERS).status_code for _ in range(2)] == [429, 429]
    assert get(sandbox, FORMS).status_code == 200
    assert get(sandbox, OWNERS).status_code == 429


def test_a_429_fault_carries_the_retry_after_it_was_given(sandbox: Sandbox) -> None:
    for value in ("3600", "1e999", "soon"):
        sandbox.set_faults(FaultSettings(rate=1.0, kinds=("429",), burst=1, retry_after=value))
        answer = get(sandbox, OWNERS)
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == value
    sandbox.set_faults(FaultSettings(rate=1.0, kinds=("429",), burst=1))
    assert "Retry-After" not in get(sandbox, OWNERS).headers


def test_unknown_fault_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultSettings(rate=0.5, kinds=("500", "teapot"))


def test_the_admin_api_sets_every_fault_switch(sandbox: Sandbox) -> None:
    settings: dict[str, Any] = {
        "faultRate": 1.0,
        "faultKinds": ["429"],
        "faultEndpoints": ["GET /crm/v3/owners"],
        "retryAfter": "3600",
        "burst": 1,
    }
    assert requests.post(f"{sandbox.url}/__sandbox__/settings", json=settings, timeout=10).ok
    limited = get(sandbox, OWNERS)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3600")
    assert get(sandbox, FORMS).status_code == 200
    settings = {"faultRate": 1.0, "faultKinds": ["array"], "faultEndpoints": [FORMS]}
    assert requests.post(f"{sandbox.url}/__sandbox__/settings", json=settings, timeout=10).ok
    assert get(sandbox, FORMS).content == b"[]"
    refused = requests.post(
        f"{sandbox.url}/__sandbox__/settings", json={"faultRate": 1.0, "faultKinds": ["teapot"]}, timeout=10
    )
    assert refused.status_code == 400
    assert "unknown fault kind" in refused.json()["message"]


def test_the_cli_takes_body_faults_endpoints_and_a_retry_after() -> None:
    result = CliRunner().invoke(sandbox_app, ["serve", "--fault-kinds", "500,teapot", "--contacts", "10"])
    assert result.exit_code == 2
    assert "unknown fault kind" in result.output
    help_text = CliRunner().invoke(sandbox_app, ["serve", "--help"]).output
    for option in ("--fault-endpoints", "--fault-retry-after", "not_json"):
        assert option in help_text


def test_a_record_can_have_an_id_hubspot_would_never_give(sandbox: Sandbox) -> None:
    huge = 2**64 + 5
    created = requests.post(
        f"{sandbox.url}/__sandbox__/objects/contacts",
        json={"id": huge, "properties": {"email": "huge@odd.example", "firstname": "Ana\u0000Maria"}},
        timeout=10,
    )
    assert created.status_code == 201
    assert created.json()["id"] == str(huge)
    read = get(sandbox, f"/crm/v3/objects/contacts/{huge}?properties=firstname")
    assert read.json()["properties"]["firstname"] == "Ana\u0000Maria"
    again = requests.post(
        f"{sandbox.url}/__sandbox__/objects/contacts", json={"id": huge, "properties": {}}, timeout=10
    )
    assert again.status_code == 400
