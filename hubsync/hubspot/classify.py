"""The one place that decides what a failed HubSpot call means.

`classify` turns an SDK `ApiException` (every generated package has its own class, so they are recognised by shape:
an int `status`, a `body`, `headers`), a `requests` response or exception, a urllib3 error, or a builtin
`ConnectionError` / `TimeoutError` into the hubsync error tree. The retry policy then only has to ask "is it a
RetriableHubSpotError?".

Messages are written for the admin who reads them and never include response headers or the raw exception text:
the SDK's `ApiException.__str__` prints every header, and a proxy or the sandbox may echo `Authorization` back.
"""

from __future__ import annotations

import http.client
import json
import math
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import requests
import urllib3.exceptions

from hubsync.errors import (
    AuthenticationFailed,
    FatalHubSpotError,
    HubSpotError,
    MissingScopes,
    QuotaExhausted,
    RateLimited,
    RetriableHubSpotError,
)
from hubsync.secret import redact_tokens

SCOPES_WHERE: Final = "HubSpot → Settings → Integrations → Private Apps → hubsync → Scopes"
AUTH_MESSAGE: Final = (
    "the access token was rejected (401): check HUBSPOT_ACCESS_TOKEN; "
    "create a new token in the private app if it was rotated"
)
_MAX_DETAIL: Final = 300
# "One or more of the following scopes are required: crm.objects.deals.read, forms." (scope names contain dots).
_SCOPES_IN_MESSAGE = re.compile(r"scopes? (?:are|is) required:\s*(?P<names>[^\n]+)", re.IGNORECASE)


def classify(error: BaseException | requests.Response) -> HubSpotError | None:  # noqa: PLR0911 -- one return per kind of source reads best
    """The hubsync error for `error`, or None when it is not a HubSpot failure.

    None means: a successful response, or an exception that is a bug rather than a failed call (TypeError from a
    wrong SDK argument, say); the caller re-raises that unchanged instead of dressing it up as a HubSpot error.
    """
    if isinstance(error, HubSpotError):
        return error
    if isinstance(error, requests.Response):
        if error.ok:
            return None
        return from_status(error.status_code, error.text, error.headers, reason=error.reason)
    if isinstance(error, requests.exceptions.RequestException):
        return _from_requests_exception(error)
    if isinstance(error, urllib3.exceptions.HTTPError):
        return _from_urllib3(error)
    if _is_api_exception(error):
        return _from_api_exception(error)
    if isinstance(error, ConnectionError | TimeoutError | http.client.HTTPException):
        return RetriableHubSpotError(f"the connection to HubSpot failed ({type(error).__name__})")
    return None


def from_status(  # noqa: PLR0911 -- one return per status class reads best
    status: int,
    body: str | bytes | None,
    headers: Mapping[str, str] | None,
    *,
    reason: str | None = None,
) -> HubSpotError | None:
    """Classify an HTTP answer by status and HubSpot's JSON error body. 2xx/3xx is not an error (None)."""
    if status < HTTPStatus.BAD_REQUEST:
        return None
    payload = _json_object(body)
    category = _text(payload.get("category")) or _text(payload.get("errorType"))
    detail = _clean(_text(payload.get("message")) or reason or "")
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        policy = _text(payload.get("policyName"))
        if policy == "DAILY":
            return QuotaExhausted(
                "HubSpot's daily API quota for this account is used up (429 DAILY): stopping; the next run resumes "
                "after the daily reset (midnight in the account's time zone)",
                status=429,
                category=category or "RATE_LIMIT",
            )
        return RateLimited(
            f"HubSpot rate limit hit (429 {policy or 'unknown policy'})",
            policy=policy,
            retry_after=retry_after_seconds(headers),
        )
    # 5xx and Request Timeout pass with time.
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or status == HTTPStatus.REQUEST_TIMEOUT:
        return RetriableHubSpotError(
            f"HubSpot answered {status} {_clean(reason or '')}".rstrip() + "",
            status=status,
            category=category,
        )
    if status == HTTPStatus.UNAUTHORIZED:
        return AuthenticationFailed(AUTH_MESSAGE, status=401, category=category)
    if status == HTTPStatus.FORBIDDEN and category == "MISSING_SCOPES":
        scopes = missing_scopes(payload)
        named = ", ".join(scopes) if scopes else "a scope HubSpot did not name"
        # HubSpot lists alternatives ("one or more of the following"): any one of them is enough.
        which = "one of these scopes" if len(scopes) > 1 else "this scope"
        return MissingScopes(
            f"the private app lacks {which}: {named} (403 MISSING_SCOPES). Add it in {SCOPES_WHERE}, save, and "
            "run again",
            scopes=scopes,
        )
    label = f"{status} {category}" if category else str(status)
    return FatalHubSpotError(
        f"HubSpot rejected the request ({label}): {detail or 'no message'}", status=status, category=category
    )


def missing_scopes(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """Scope names from a MISSING_SCOPES body: `context` / `errors[].context` (`requiredGranularScopes` or
    `requiredScopes`), else the "…scopes are required: a, b" sentence of a message."""
    entries: list[Mapping[str, Any]] = [payload]
    errors = payload.get("errors")
    if isinstance(errors, list):
        entries.extend(entry for entry in errors if isinstance(entry, Mapping))
    names: list[object] = []
    for entry in entries:
        context = entry.get("context")
        if isinstance(context, Mapping):
            for key in ("requiredGranularScopes", "requiredScopes"):
                listed = context.get(key)
                names.extend(listed if isinstance(listed, list) else [])
    if not names:
        for entry in entries:
            message = entry.get("message")
            match = _SCOPES_IN_MESSAGE.search(message) if isinstance(message, str) else None
            names.extend(match.group("names").split(",") if match else [])
    found: list[str] = []
    for name in names:
        text = _clean(str(name).strip().rstrip(".,").strip())
        if text and text not in found:
            found.append(text)
    return tuple(found)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """`Retry-After` in seconds; None (absent: the backoff decides) for anything that is not a finite number of
    seconds, zero or more ("soon", "-5", "nan", "1e999"). The HTTP-date form would need the clock; it is None too."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                seconds = float(str(value).strip())
            except ValueError:
                return None
            return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


# -- by source ------------------------------------------------------------------------------------------------


def _is_api_exception(error: BaseException) -> bool:
    # Each SDK package (crm.contacts, crm.companies, marketing.events, …) defines its own ApiException with no
    # shared base outside the package; all of them carry these three attributes.
    return isinstance(getattr(error, "status", None), int) and hasattr(error, "body") and hasattr(error, "headers")


def _from_api_exception(error: BaseException) -> HubSpotError | None:
    status: int = getattr(error, "status", 0)
    reason = getattr(error, "reason", None)
    if status == 0:
        # The SDK raises status 0 when it could not build or send the request (an SSL failure, an unsupported
        # content type): a configuration problem, not something a retry fixes.
        return FatalHubSpotError(
            f"the request to HubSpot could not be sent: {_clean(str(reason or 'unknown reason'))}", status=None
        )
    headers = getattr(error, "headers", None)
    return from_status(
        status,
        getattr(error, "body", None),
        headers if isinstance(headers, Mapping) else None,
        reason=reason if isinstance(reason, str) else None,
    )


def _from_requests_exception(error: requests.exceptions.RequestException) -> HubSpotError:
    response = error.response
    if isinstance(response, requests.Response):
        classified = classify(response)
        if classified is not None:
            return classified
    if isinstance(error, requests.exceptions.SSLError):
        return FatalHubSpotError("the TLS connection to HubSpot failed (certificate or proxy problem)")
    retriable = (
        requests.exceptions.Timeout,
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )
    if isinstance(error, retriable):
        return RetriableHubSpotError(f"the connection to HubSpot failed ({type(error).__name__})")
    # InvalidURL, MissingSchema, TooManyRedirects, …: the base URL or the request itself is wrong.
    return FatalHubSpotError(f"the request to HubSpot could not be made ({type(error).__name__})")


def _from_urllib3(error: urllib3.exceptions.HTTPError) -> HubSpotError:
    cause: BaseException = error
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        cause = error.reason
    if isinstance(cause, urllib3.exceptions.SSLError | urllib3.exceptions.LocationValueError):
        return FatalHubSpotError(f"the request to HubSpot could not be made ({type(cause).__name__})")
    # Timeouts, refused or dropped connections, truncated bodies, proxy hiccups: transport trouble that passes.
    return RetriableHubSpotError(f"the connection to HubSpot failed ({type(cause).__name__})")


# -- helpers --------------------------------------------------------------------------------------------------


def _json_object(body: str | bytes | None) -> Mapping[str, Any]:
    if body is None:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _clean(text: str) -> str:
    text = redact_tokens(" ".join(text.split()), "[redacted]")
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
