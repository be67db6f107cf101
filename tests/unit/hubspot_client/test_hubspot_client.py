"""HubSpotClient: pacing → classification → retry, counting, and never showing the token.

`responses` is used only for the requests-based legacy path. The generated-SDK path runs against a fake API with
the SDK's method pair, and once end to end through the real SDK and urllib3 against a throwaway local HTTP server.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import hubspot.crm.contacts.exceptions as contacts_exc
import pytest
import requests
import responses
import urllib3
from structlog.testing import capture_logs

from hubsync.errors import (
    AuthenticationFailed,
    ConfigError,
    Interrupted,
    MalformedAnswer,
    MissingScopes,
    QuotaExhausted,
    RateLimited,
    RetriableHubSpotError,
    RetryAfterTooLong,
    StoppedForNow,
)
from hubsync.hubspot.answers import email_events_page
from hubsync.hubspot.classify import AUTH_MESSAGE, SCOPES_WHERE
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings, client_settings
from hubsync.secret import Secret
from hubsync.settings import load_settings
from tests.support.paths import DEFAULT_CONFIG

from .hubspot_fakes import TOKEN, FakeClock, FakeGeneratedApi, FakeHTTPResponse

BASE = "https://hubspot.test"
EVENTS = f"{BASE}/email/public/v1/events"
RATE_BODY = {"status": "error", "message": "limit", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}


def settings(**overrides: Any) -> ClientSettings:
    values: dict[str, Any] = {"access_token": Secret(TOKEN), "base_url": BASE, "max_retries": 3, **overrides}
    return ClientSettings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> Iterator[HubSpotClient]:
    with HubSpotClient(settings(), clock=clock, sleep=clock.sleep) as made:
        yield made


# -- the token stays hidden --------------------------------------------------------------------------------------


def test_token_is_not_in_any_repr(client: HubSpotClient) -> None:
    assert TOKEN not in repr(settings())
    assert TOKEN not in str(settings())
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(Secret(TOKEN))
    assert Secret(TOKEN).reveal() == TOKEN


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="pace_fraction"):
        settings(pace_fraction=0)
    with pytest.raises(ConfigError, match="access_token"):
        settings(access_token=Secret("  "))


def test_401_whose_headers_echo_the_token_leaks_it_nowhere(client: HubSpotClient) -> None:
    echoed = {"Authorization": f"Bearer {TOKEN}", "X-Echo": TOKEN}
    body = {"status": "error", "message": f"bad token {TOKEN}", "category": "INVALID_AUTHENTICATION"}
    api = FakeGeneratedApi([contacts_exc.UnauthorizedException(http_resp=FakeHTTPResponse(401, body, echoed))])
    with capture_logs() as logs, pytest.raises(AuthenticationFailed) as caught:
        client.call(api.get_page, limit=10)
    error = caught.value
    assert str(error) == AUTH_MESSAGE
    rendered = "".join(traceback.format_exception(error))
    assert TOKEN not in rendered
    assert TOKEN not in repr(error)
    assert TOKEN not in repr(logs)
    assert error.__cause__ is None
    assert len(api.calls) == 1  # not retried


# -- the generated-SDK path (fake API with the SDK's shape) ------------------------------------------------------


def test_call_uses_the_with_http_info_twin_and_learns_from_headers(client: HubSpotClient) -> None:
    headers = {"X-HubSpot-RateLimit-Daily": "500000", "X-HubSpot-RateLimit-Daily-Remaining": "41234"}
    api = FakeGeneratedApi([({"results": [1]}, 200, headers)])
    assert client.call(api.get_page, limit=100, after="7") == {"results": [1]}
    sent = api.calls[0]
    assert sent["_return_http_data_only"] is False
    assert sent["_request_timeout"] == 30.0
    assert (sent["limit"], sent["after"]) == (100, "7")
    assert client.daily_remaining == 41234
    stats = client.stats()
    assert dict(stats.by_operation) == {f"{FakeGeneratedApi.__module__}.get_page": 1}
    assert dict(stats.by_status) == {"200": 1}


def test_call_retries_a_429_for_at_least_retry_after(client: HubSpotClient, clock: FakeClock) -> None:
    limited = contacts_exc.ApiException(http_resp=FakeHTTPResponse(429, RATE_BODY, {"Retry-After": "7"}))
    api = FakeGeneratedApi([limited, ("page", 200, {})])
    with capture_logs() as logs:
        assert client.call(api.get_page, operation="crm.contacts.basic_api.get_page") == "page"
    assert len(api.calls) == 2
    assert max(clock.sleeps) >= 7.0
    retry = next(entry for entry in logs if entry["event"] == "client.retry")
    assert retry["attempt"] == 1
    assert retry["status"] == 429
    assert retry["wait"] >= 7.0
    assert retry["operation"] == "crm.contacts.basic_api.get_page"
    assert any(entry["event"] == "client.rate_limited" and entry["policy"] == "TEN_SECONDLY_ROLLING" for entry in logs)
    assert dict(client.stats().by_status) == {"429": 1, "200": 1}


def test_call_retries_transport_errors_with_backoff_then_gives_up(client: HubSpotClient, clock: FakeClock) -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1")
    api = FakeGeneratedApi([urllib3.exceptions.ReadTimeoutError(pool, "/crm", "Read timed out.") for _ in range(4)])
    with pytest.raises(RetriableHubSpotError):
        client.call(api.get_page)
    assert len(api.calls) == 4  # max_retries=3 → 4 attempts
    backoff = [s for s in clock.sleeps if s > 0]
    assert len(backoff) == 3
    assert backoff[2] > backoff[0]  # exponential
    assert dict(client.stats().by_status) == {"no_response": 4}


def test_call_does_not_retry_missing_scopes(client: HubSpotClient) -> None:
    body = {
        "category": "MISSING_SCOPES",
        "errors": [{"context": {"requiredGranularScopes": ["crm.objects.owners.read"]}}],
    }
    api = FakeGeneratedApi([contacts_exc.ForbiddenException(http_resp=FakeHTTPResponse(403, body)), ("x", 200, {})])
    with pytest.raises(MissingScopes, match=r"crm\.objects\.owners\.read"):
        client.call(api.get_page)
    assert len(api.calls) == 1


def test_bugs_pass_through_unchanged_and_are_not_retried(client: HubSpotClient) -> None:
    api = FakeGeneratedApi([TypeError("unexpected keyword argument 'limitt'"), ("x", 200, {})])
    with pytest.raises(TypeError, match="limitt"):
        client.call(api.get_page, limitt=3)
    assert len(api.calls) == 1


def test_search_calls_use_the_search_limiter(client: HubSpotClient, clock: FakeClock) -> None:
    api = FakeGeneratedApi([("hit", 200, {}) for _ in range(6)])
    for _ in range(6):
        client.call(api.get_page, kind="search")
    assert clock.sleeps == [pytest.approx(1.1)]


# -- the requests path (legacy endpoints), with `responses` ------------------------------------------------------


@responses.activate
def test_request_sends_token_query_and_timeout_and_parses_json(client: HubSpotClient) -> None:
    responses.get(EVENTS, json={"events": [], "hasMore": False}, headers={"X-HubSpot-RateLimit-Daily-Remaining": "999"})
    result = client.request("GET", "/email/public/v1/events", qs={"limit": 1000, "eventType": "OPEN"})
    assert result == {"events": [], "hasMore": False}
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.url == f"{EVENTS}?limit=1000&eventType=OPEN"
    assert client.daily_remaining == 999
    assert dict(client.stats().by_operation) == {"GET /email/public/v1/events": 1}


@responses.activate
def test_request_retries_429_after_retry_after_then_succeeds(client: HubSpotClient, clock: FakeClock) -> None:
    responses.get(EVENTS, json=RATE_BODY, status=429, headers={"Retry-After": "2"})
    responses.get(EVENTS, json={"events": [{"id": "e1"}], "hasMore": False})
    result = client.request("GET", "/email/public/v1/events")
    assert result["events"] == [{"id": "e1"}]
    assert len(responses.calls) == 2
    assert next(s for s in clock.sleeps if s > 0) >= 2.0
    assert dict(client.stats().by_status) == {"429": 1, "200": 1}


@responses.activate
def test_request_401_is_not_retried(client: HubSpotClient) -> None:
    responses.get(
        EVENTS,
        json={
            "status": "error",
            "message": "Authentication credentials not found",
            "category": "INVALID_AUTHENTICATION",
        },
        status=401,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with pytest.raises(AuthenticationFailed) as caught:
        client.request("GET", "/email/public/v1/events")
    assert len(responses.calls) == 1
    assert TOKEN not in "".join(traceback.format_exception(caught.value))


@responses.activate
def test_request_403_missing_scopes_names_the_scope(client: HubSpotClient) -> None:
    responses.get(
        EVENTS,
        json={
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call.",
            "errors": [
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": ["content"]},
                }
            ],
            "category": "MISSING_SCOPES",
        },
        status=403,
    )
    with pytest.raises(MissingScopes) as caught:
        client.request("GET", "/email/public/v1/events")
    assert caught.value.scopes == ("content",)
    assert "content" in str(caught.value)
    assert SCOPES_WHERE in str(caught.value)
    assert len(responses.calls) == 1


@responses.activate
def test_request_daily_429_is_quota_exhausted_and_stops_later_calls(client: HubSpotClient) -> None:
    responses.get(EVENTS, json={**RATE_BODY, "policyName": "DAILY"}, status=429, headers={"Retry-After": "1"})
    with pytest.raises(QuotaExhausted):
        client.request("GET", "/email/public/v1/events")
    assert len(responses.calls) == 1
    with pytest.raises(QuotaExhausted):
        client.request("GET", "/email/public/v1/events")
    assert len(responses.calls) == 1  # the second one never left


@responses.activate
def test_request_gives_up_on_persistent_5xx_after_max_attempts(client: HubSpotClient) -> None:
    responses.get(EVENTS, body="upstream error", status=502)
    with pytest.raises(RetriableHubSpotError) as caught:
        client.request("GET", "/email/public/v1/events")
    assert caught.value.status == 502
    assert len(responses.calls) == 4


@responses.activate
def test_request_retries_dropped_connections_and_non_json(client: HubSpotClient) -> None:
    responses.get(EVENTS, body=requests.exceptions.ConnectionError("Connection reset by peer"))
    responses.get(EVENTS, body="<html>proxy</html>", status=200)
    responses.get(EVENTS, json={"events": []})
    assert client.request("GET", "/email/public/v1/events") == {"events": []}
    assert len(responses.calls) == 3


@responses.activate
def test_request_posts_json_and_folds_ids_in_operation_names(client: HubSpotClient) -> None:
    url = f"{BASE}/form-integrations/v1/submissions/forms/0d4e2f7a-1b2c-4d5e-8f90-123456789abc"
    responses.get(url, json={"results": []})
    client.request("GET", "/form-integrations/v1/submissions/forms/0d4e2f7a-1b2c-4d5e-8f90-123456789abc")
    responses.post(f"{BASE}/crm/v3/objects/tasks", json={"id": "1"}, status=201)
    assert client.request("POST", "/crm/v3/objects/tasks", body={"properties": {"hs_task_subject": "Call"}}) == {
        "id": "1"
    }
    assert json.loads(responses.calls[1].request.body or b"") == {"properties": {"hs_task_subject": "Call"}}
    assert set(client.stats().by_operation) == {
        "GET /form-integrations/v1/submissions/forms/{id}",
        "POST /crm/v3/objects/tasks",
    }


def test_quota_reserve_stops_before_sending(clock: FakeClock) -> None:
    client = HubSpotClient(settings(daily_quota=10, daily_reserve=0.5), clock=clock, sleep=clock.sleep)
    api = FakeGeneratedApi([("x", 200, {}) for _ in range(6)])
    for _ in range(5):
        client.call(api.get_page)
    with pytest.raises(QuotaExhausted):
        client.call(api.get_page)
    assert len(api.calls) == 5


# -- end to end through the real SDK and urllib3 ----------------------------------------------------------------


class _Portal(BaseHTTPRequestHandler):
    """Answers GET /crm/v3/objects/contacts from a script of (status, body, headers)."""

    script: ClassVar[list[tuple[int, dict[str, Any], dict[str, str]]]] = []
    seen_auth: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen_auth.append(self.headers.get("Authorization", ""))
        status, body, headers = type(self).script.pop(0)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_sdk_call_returns_model_and_headers_reach_the_pacer(portal: str, clock: FakeClock) -> None:
    contact = {
        "id": "101",
        "properties": {"email": "ada@example.com"},
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-02-01T00:00:00.123Z",
        "archived": False,
    }
    _Portal.seen_auth = []
    _Portal.script = [
        (429, RATE_BODY, {"Retry-After": "1", "X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Remaining": "0"}),
        (
            200,
            {"results": [contact]},
            {"X-HubSpot-RateLimit-Daily": "1000000", "X-HubSpot-RateLimit-Daily-Remaining": "777"},
        ),
    ]
    with HubSpotClient(settings(base_url=portal), clock=clock, sleep=clock.sleep) as client:
        page = client.call(client.api("crm.contacts.basic_api").get_page, limit=1)
        assert page.results[0].id == "101"
        assert page.results[0].properties["email"] == "ada@example.com"
        assert client.daily_remaining == 777
        assert dict(client.stats().by_operation) == {"crm.contacts.basic_api.get_page": 2}
        assert client.api("crm.contacts.basic_api") is client.api("crm.contacts.basic_api")
    assert _Portal.seen_auth == [f"Bearer {TOKEN}"] * 2


def test_real_sdk_connection_refused_is_retried_then_retriable(clock: FakeClock) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more
    with HubSpotClient(
        settings(base_url=f"http://127.0.0.1:{port}", max_retries=1), clock=clock, sleep=clock.sleep
    ) as client:
        with pytest.raises(RetriableHubSpotError):
            client.call(client.api("crm.contacts.basic_api").get_page)
        assert dict(client.stats().by_status) == {"no_response": 2}


# -- stopping on a signal ----------------------------------------------------------------------------------------


def test_a_set_stop_event_sends_nothing_and_raises_interrupted() -> None:
    stop = threading.Event()
    stop.set()
    api = FakeGeneratedApi([({"results": [1]}, 200, {})])
    with HubSpotClient(settings(), stop=stop) as client, pytest.raises(Interrupted):
        client.call(api.get_page)
    assert api.calls == []


def test_stop_cuts_a_backoff_short_and_no_further_attempt_is_made() -> None:
    stop = threading.Event()
    refused = ConnectionRefusedError("dropped")
    api = FakeGeneratedApi([refused, ({"results": [1]}, 200, {})])
    # Set the stop while the client backs off after the first failure: the wait ends at once and the retry
    # is never sent.
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    with HubSpotClient(settings(), stop=stop) as client, pytest.raises(Interrupted):
        client.call(api.get_page)
    timer.join()
    assert len(api.calls) == 1


def test_the_final_error_says_that_hubsync_retried_and_gave_up(clock: FakeClock) -> None:
    api = FakeGeneratedApi([ConnectionRefusedError("dropped")] * 4)
    with (
        HubSpotClient(settings(), clock=clock, sleep=clock.sleep) as client,
        pytest.raises(RetriableHubSpotError) as err,
    ):
        client.call(api.get_page)
    assert len(api.calls) == 4
    assert str(err.value) == "the connection to HubSpot failed (ConnectionRefusedError) (gave up after 4 attempts)"


# -- what HubSpot may answer that the client must not take at its word ------------------------------------------
# A Retry-After beyond the configured cap (not slept on: RetryAfterTooLong, a clean stop), one that is no number
# (absent: the backoff decides), and a 2xx body that is not the endpoint's page (MalformedAnswer, retried).


def limited(retry_after: str) -> contacts_exc.ApiException:
    return contacts_exc.ApiException(http_resp=FakeHTTPResponse(429, RATE_BODY, {"Retry-After": retry_after}))


def test_the_cap_comes_from_the_config_and_defaults_to_60_seconds() -> None:
    loaded = load_settings({"HUBSPOT_ACCESS_TOKEN": TOKEN}, str(DEFAULT_CONFIG))
    assert loaded.config.portal.max_retry_after_seconds == 60
    assert client_settings(loaded).max_retry_after_seconds == 60
    with pytest.raises(ConfigError, match="max_retry_after_seconds"):
        settings(max_retry_after_seconds=-1)


def test_a_retry_after_beyond_the_cap_stops_after_one_attempt_without_sleeping(
    client: HubSpotClient, clock: FakeClock
) -> None:
    api = FakeGeneratedApi([limited("3600"), ("never", 200, {})])
    with capture_logs() as logs, pytest.raises(RetryAfterTooLong) as raised:
        client.call(api.get_page, operation="list contacts")
    assert len(api.calls) == 1
    assert clock.sleeps == []
    assert isinstance(raised.value, StoppedForNow)
    assert not isinstance(raised.value, RetriableHubSpotError)
    assert raised.value.exit_code == 7
    assert raised.value.retry_after == 3600
    assert "3600 s" in str(raised.value)
    assert "max_retry_after_seconds = 60" in str(raised.value)
    assert "the next run continues" in str(raised.value)
    capped = next(entry for entry in logs if entry["event"] == "client.retry_after_capped")
    assert (capped["retry_after"], capped["max_retry_after_seconds"]) == (3600, 60)


def test_a_retry_after_within_the_cap_is_waited_for(client: HubSpotClient, clock: FakeClock) -> None:
    api = FakeGeneratedApi([limited("45"), ("page", 200, {})])
    assert client.call(api.get_page) == "page"
    assert max(clock.sleeps) >= 45


@pytest.mark.parametrize("value", ["1e999", "inf", "nan", "-5", "soon"])
def test_a_retry_after_that_is_no_number_of_seconds_is_absent(
    client: HubSpotClient, clock: FakeClock, value: str
) -> None:
    api = FakeGeneratedApi([limited(value), ("page", 200, {})])
    assert client.call(api.get_page) == "page"
    assert len(clock.sleeps) == 1
    # The backoff's first wait (1 s plus up to 1 s of jitter), never an infinite or negative one.
    assert 1 <= clock.sleeps[0] <= 2


@responses.activate
def test_the_cap_holds_for_legacy_requests_too(client: HubSpotClient, clock: FakeClock) -> None:
    responses.get(EVENTS, json=RATE_BODY, status=429, headers={"Retry-After": "61"})
    with pytest.raises(RetryAfterTooLong):
        client.request("GET", "/email/public/v1/events")
    assert len(responses.calls) == 1
    assert clock.sleeps == []
    assert dict(client.stats().by_status) == {"429": 1}


@responses.activate
def test_a_rate_limit_that_persists_is_still_a_retriable_error(client: HubSpotClient) -> None:
    responses.get(EVENTS, json=RATE_BODY, status=429, headers={"Retry-After": "1e999"})
    # A 429 is a queue, not a failure: three times the attempts of a failing call (4 here), waits of one rate window.
    with pytest.raises(RateLimited, match="gave up after 12 attempts"):
        client.request("GET", "/email/public/v1/events")
    assert len(responses.calls) == 12


@responses.activate
def test_after_a_429_without_retry_after_hubsync_waits_at_most_one_rate_window(clock: FakeClock) -> None:
    responses.get(EVENTS, json=RATE_BODY, status=429)
    with HubSpotClient(settings(max_retries=5), clock=clock, sleep=clock.sleep) as client, pytest.raises(RateLimited):
        client.request("GET", "/email/public/v1/events")
    backoffs = [s for s in clock.sleeps if s >= 0.5]  # the pacer's own short waits left out
    assert len(responses.calls) == 18
    assert max(backoffs) <= 10.0
    assert sum(backoffs) > 100  # it kept trying for minutes, not seconds


@responses.activate
def test_a_burst_of_429s_does_not_use_up_the_retries_of_failures(clock: FakeClock) -> None:
    for _ in range(5):
        responses.get(EVENTS, json=RATE_BODY, status=429)
    for _ in range(3):
        responses.get(EVENTS, status=503, body="unavailable")
    responses.get(EVENTS, json={"events": [], "hasMore": False})
    with HubSpotClient(settings(), clock=clock, sleep=clock.sleep) as client:  # max_retries=3: four failures end it
        assert client.request("GET", "/email/public/v1/events") == {"events": [], "hasMore": False}
    assert len(responses.calls) == 9


@responses.activate
def test_a_call_that_keeps_failing_backs_off_to_a_minute_and_stops_after_its_retries(clock: FakeClock) -> None:
    responses.get(EVENTS, status=503, body="unavailable")
    client = HubSpotClient(settings(max_retries=5), clock=clock, sleep=clock.sleep)
    with client, pytest.raises(RetriableHubSpotError, match="gave up after 6 attempts"):
        client.request("GET", "/email/public/v1/events")
    assert len(responses.calls) == 6
    assert max(clock.sleeps) > 10.0


@responses.activate
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "an empty body"),
        (b'{"events": [{"id": ', "a body that is not JSON"),
        (b"null", "JSON null"),
        (b"[]", "a JSON list, not an object"),
        (b"{}", 'no "events" list'),
    ],
)
def test_a_2xx_body_that_is_not_the_page_is_retried_then_named(
    client: HubSpotClient, body: bytes, problem: str
) -> None:
    responses.get(EVENTS, body=body, status=200, content_type="application/json")
    with capture_logs() as logs, pytest.raises(MalformedAnswer) as raised:
        client.request("GET", "/email/public/v1/events", operation="email events", expect=email_events_page)
    assert len(responses.calls) == 4
    message = str(raised.value)
    assert message == (
        f"HubSpot's answer to 'email events' (200) is not what that endpoint sends: {problem} "
        "(gave up after 4 attempts)"
    )
    assert raised.value.exit_code == 4
    assert [entry["problem"] for entry in logs if entry["event"] == "client.malformed_answer"] == [problem] * 4
    assert dict(client.stats().by_status) == {"200": 4}


@responses.activate
def test_a_bad_body_once_is_retried_and_the_good_page_is_used(client: HubSpotClient) -> None:
    responses.get(EVENTS, body=b"null", status=200, content_type="application/json")
    responses.get(EVENTS, json={"events": [{"id": "e1"}], "hasMore": False})
    answer = client.request("GET", "/email/public/v1/events", expect=email_events_page)
    assert answer["events"] == [{"id": "e1"}]
    assert len(responses.calls) == 2
