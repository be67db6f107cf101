"""classify(): real SDK exceptions (built as the SDK's REST layer builds them), real requests responses and
exceptions, real urllib3 errors."""

from __future__ import annotations

import json
from typing import Any

import hubspot.crm.companies.exceptions as companies_exc
import hubspot.crm.contacts.exceptions as contacts_exc
import hubspot.events.exceptions as events_exc
import hubspot.marketing.events.exceptions as marketing_events_exc
import pytest
import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection

from hubsync.errors import (
    AuthenticationFailed,
    FatalHubSpotError,
    HubSpotError,
    MissingScopes,
    QuotaExhausted,
    RateLimited,
    RetriableHubSpotError,
)
from hubsync.hubspot.classify import AUTH_MESSAGE, SCOPES_WHERE, classify

from .hubspot_fakes import TOKEN, FakeHTTPResponse

RATE_LIMIT_BODY = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "correlationId": "c0ffee00-0000-4000-8000-000000000000",
    "policyName": "TEN_SECONDLY_ROLLING",
}
MISSING_SCOPES_BODY = {
    "status": "error",
    "message": "This app hasn't been granted all required scopes to make this call.",
    "correlationId": "c0ffee00-0000-4000-8000-000000000001",
    "errors": [
        {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.deals.read"]},
        }
    ],
    "links": {"scopes": "https://developers.hubspot.com/scopes"},
    "category": "MISSING_SCOPES",
}
ECHOED_AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

EXCEPTION_MODULES = [contacts_exc, companies_exc, events_exc, marketing_events_exc]


def sdk_error(module: Any, status: int, body: Any = b"", headers: dict[str, str] | None = None) -> BaseException:
    # The REST layer picks the subclass by status, then ApiClient decodes the body to str before re-raising.
    cls = {
        401: module.UnauthorizedException,
        403: module.ForbiddenException,
        404: module.NotFoundException,
    }.get(status, module.ServiceException if status >= 500 else module.ApiException)
    error: Any = cls(http_resp=FakeHTTPResponse(status, body, headers))
    error.body = error.body.decode("utf-8")
    return error  # type: ignore[no-any-return]  # the SDK is untyped: this is an ApiException


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    resp.headers = CaseInsensitiveDict(headers or {})
    resp.reason = "Test"
    return resp


@pytest.mark.parametrize("module", EXCEPTION_MODULES, ids=lambda m: m.__name__)
def test_429_from_any_sdk_package_is_rate_limited_with_policy_and_retry_after(module: Any) -> None:
    error = classify(sdk_error(module, 429, RATE_LIMIT_BODY, {"Retry-After": "3"}))
    assert isinstance(error, RateLimited)
    assert isinstance(error, RetriableHubSpotError)
    assert error.policy == "TEN_SECONDLY_ROLLING"
    assert error.retry_after == 3.0
    assert error.status == 429


def test_429_secondly_without_retry_after() -> None:
    error = classify(sdk_error(contacts_exc, 429, {**RATE_LIMIT_BODY, "policyName": "SECONDLY"}))
    assert isinstance(error, RateLimited)
    assert error.policy == "SECONDLY"
    assert error.retry_after is None


def test_429_daily_is_quota_exhausted_not_retriable() -> None:
    error = classify(sdk_error(contacts_exc, 429, {**RATE_LIMIT_BODY, "policyName": "DAILY"}))
    assert isinstance(error, QuotaExhausted)
    assert not isinstance(error, RetriableHubSpotError)
    assert "daily" in str(error).lower()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retriable(status: int) -> None:
    error = classify(sdk_error(companies_exc, status, "<html>bad gateway</html>"))
    assert type(error) is RetriableHubSpotError
    assert error.status == status


def test_401_is_authentication_failed_with_the_admin_message_and_no_token() -> None:
    body = {
        "status": "error",
        "message": f"Authentication credentials not found: Bearer {TOKEN}",
        "category": "INVALID_AUTHENTICATION",
    }
    raw = sdk_error(contacts_exc, 401, body, ECHOED_AUTH)
    assert TOKEN in str(raw)  # the SDK's own str() shows headers and body: exactly what must not leak
    error = classify(raw)
    assert isinstance(error, AuthenticationFailed)
    assert str(error) == AUTH_MESSAGE
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert error.exit_code == 5


def test_403_missing_scopes_names_the_scope_and_where_to_add_it() -> None:
    error = classify(sdk_error(contacts_exc, 403, MISSING_SCOPES_BODY))
    assert isinstance(error, MissingScopes)
    assert error.scopes == ("crm.objects.deals.read",)
    assert "crm.objects.deals.read" in str(error)
    assert SCOPES_WHERE in str(error)


def test_403_missing_scopes_with_several_alternatives_and_legacy_key() -> None:
    body = {
        **MISSING_SCOPES_BODY,
        "errors": [
            {"message": "One or more of the following scopes are required.", "context": {"requiredScopes": ["forms"]}},
            {"context": {"requiredGranularScopes": ["forms", "crm.objects.contacts.read"]}},
        ],
    }
    error = classify(response(403, body))
    assert isinstance(error, MissingScopes)
    assert error.scopes == ("forms", "crm.objects.contacts.read")
    assert "one of these scopes" in str(error)


def test_403_missing_scopes_named_only_in_the_message() -> None:
    body = {
        "status": "error",
        "message": "One or more of the following scopes are required: crm.objects.owners.read, content.",
        "category": "MISSING_SCOPES",
    }
    error = classify(sdk_error(contacts_exc, 403, body))
    assert isinstance(error, MissingScopes)
    assert error.scopes == ("crm.objects.owners.read", "content")


def test_403_missing_scopes_without_any_name_still_says_where() -> None:
    error = classify(sdk_error(contacts_exc, 403, {"category": "MISSING_SCOPES", "message": "nope"}))
    assert isinstance(error, MissingScopes)
    assert error.scopes == ()
    assert SCOPES_WHERE in str(error)


def test_other_403_is_fatal() -> None:
    error = classify(sdk_error(contacts_exc, 403, {"category": "FORBIDDEN", "message": "portal is locked"}))
    assert type(error) is FatalHubSpotError
    assert error.status == 403
    assert "portal is locked" in str(error)


def test_400_is_fatal_with_status_category_and_message() -> None:
    body = {"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"}
    error = classify(sdk_error(contacts_exc, 400, body))
    assert type(error) is FatalHubSpotError
    assert (error.status, error.category) == (400, "VALIDATION_ERROR")
    assert "400 VALIDATION_ERROR" in str(error)
    assert "Property values were not valid" in str(error)


def test_409_keeps_its_status_for_callers_that_expect_conflicts() -> None:
    error = classify(
        sdk_error(contacts_exc, 409, {"message": "Property already exists", "category": "OBJECT_ALREADY_EXISTS"})
    )
    assert type(error) is FatalHubSpotError
    assert error.status == 409


def test_404_and_non_json_body() -> None:
    error = classify(sdk_error(contacts_exc, 404, "not json at all"))
    assert type(error) is FatalHubSpotError
    assert error.status == 404


def test_credentials_in_a_body_message_are_redacted() -> None:
    body = {"message": f"bad request for pat-eu1-abc-def and Bearer {TOKEN}", "category": "VALIDATION_ERROR"}
    error = classify(response(400, body, ECHOED_AUTH))
    assert error is not None
    assert TOKEN not in str(error)
    assert "pat-eu1-abc-def" not in str(error)
    assert "[redacted]" in str(error)


def test_status_zero_sdk_exception_is_fatal() -> None:
    error = classify(contacts_exc.ApiException(status=0, reason="SSLError\ncertificate verify failed"))
    assert type(error) is FatalHubSpotError
    assert "certificate verify failed" in str(error)


def test_requests_responses() -> None:
    assert classify(response(200, {"results": []})) is None
    limited = classify(response(429, RATE_LIMIT_BODY, {"retry-after": "1.5"}))
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 1.5
    assert isinstance(classify(response(401, b"")), AuthenticationFailed)
    assert type(classify(response(502, b"<html/>"))) is RetriableHubSpotError


@pytest.mark.parametrize(
    "raised",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection reset"),
        requests.exceptions.ChunkedEncodingError("truncated"),
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
        urllib3.exceptions.ReadTimeoutError(urllib3.HTTPConnectionPool("127.0.0.1"), "/crm", "Read timed out."),
        urllib3.exceptions.NewConnectionError(HTTPConnection("127.0.0.1"), "Connection refused"),
        urllib3.exceptions.MaxRetryError(
            urllib3.HTTPConnectionPool("127.0.0.1"),
            "/crm",
            urllib3.exceptions.NewConnectionError(HTTPConnection("127.0.0.1"), "refused"),
        ),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transport_failures_are_retriable(raised: BaseException) -> None:
    error = classify(raised)
    assert type(error) is RetriableHubSpotError
    assert error.status is None


@pytest.mark.parametrize(
    "raised",
    [
        requests.exceptions.SSLError("certificate verify failed"),
        requests.exceptions.MissingSchema("no scheme"),
        urllib3.exceptions.MaxRetryError(
            urllib3.HTTPConnectionPool("127.0.0.1"), "/crm", urllib3.exceptions.SSLError("bad cert")
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_configuration_failures_are_fatal(raised: BaseException) -> None:
    assert type(classify(raised)) is FatalHubSpotError


def test_requests_http_error_is_classified_by_its_response() -> None:
    raised = requests.exceptions.HTTPError("500", response=response(500, b""))
    assert type(classify(raised)) is RetriableHubSpotError


def test_bugs_are_not_dressed_up_as_hubspot_errors() -> None:
    assert classify(TypeError("get_page() got an unexpected keyword argument 'limitt'")) is None
    assert classify(ValueError("Invalid value for `attendance_state`")) is None
    assert classify(KeyError("x")) is None


def test_hubsync_errors_pass_through() -> None:
    original = HubSpotError("already classified", status=418)
    assert classify(original) is original
