"""HubSpot's answers: the reply type handlers return, and the JSON error bodies HubSpot sends.

Error shapes mirror what HubSpot sends (and what the SDK's `Error` / `StandardError` models read):
`{"status": "error", "message": …, "correlationId": …, "category": …}` plus `errors`, `context`, `links`
where HubSpot adds them; 429 bodies carry `errorType` and `policyName` instead of `category`.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

SCOPES_LINK = "https://developers.hubspot.com/scopes"


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=utf-8"


class ApiError(Exception):
    """Raised inside a handler to answer with an error reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def correlation_id() -> str:
    return str(uuid.uuid4())


def error(
    status: int,
    category: str,
    message: str,
    *,
    context: dict[str, list[str]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    sub_category: str | None = None,
    links: dict[str, str] | None = None,
) -> Reply:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": correlation_id()}
    if errors is not None:
        body["errors"] = errors
    if context is not None:
        body["context"] = context
    if links is not None:
        body["links"] = links
    body["category"] = category
    if sub_category is not None:
        body["subCategory"] = sub_category
    return Reply(status, body)


def validation(
    message: str, *, errors: list[dict[str, Any]] | None = None, sub_category: str | None = None
) -> ApiError:
    return ApiError(error(400, "VALIDATION_ERROR", message, errors=errors, sub_category=sub_category))


def not_found(message: str = "resource not found") -> ApiError:
    return ApiError(error(404, "OBJECT_NOT_FOUND", message))


def conflict(message: str, sub_category: str) -> ApiError:
    return ApiError(error(409, "OBJECT_ALREADY_EXISTS", message, sub_category=sub_category))


def unauthorized() -> Reply:
    return error(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
        "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )


def missing_scopes(any_of: tuple[str, ...]) -> Reply:
    wording = (
        "One or more of the following scopes are required."
        if len(any_of) > 1
        else ("All of the following scopes are required.")
    )
    return error(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes "
        "here: https://developers.hubspot.com/scopes.",
        errors=[{"message": wording, "context": {"requiredGranularScopes": list(any_of)}}],
        links={"scopes": SCOPES_LINK},
    )


def rate_limited(policy: str, message: str) -> Reply:
    return Reply(
        429,
        {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": policy,
        },
    )


def server_error(status: int) -> Reply:
    if status in (502, 504):
        # HubSpot's edge answers gateway errors with an HTML page, not JSON: clients must cope with both.
        title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
        html = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return Reply(status, html.encode(), content_type="text/html")
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return error(status, "INTERNAL_ERROR", "internal error")
    return error(status, "SERVICE_UNAVAILABLE", "Service Unavailable")


def payload(body: Any) -> bytes:
    """The bytes a reply's body is sent as: JSON as compact UTF-8, bytes as they are, None as nothing."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# The lists of results a page carries (CRM, v4 associations, events and forms: "results"; legacy email events).
_RESULT_LISTS = ("results", "events")


def bad_body(reply: Reply, kind: str) -> Reply:
    """`reply` (a served 2xx answer) with its body replaced as a body fault of `kind` (limits.BODY_FAULT_KINDS)
    says: what a proxy, a cut connection or a broken deployment may hand a client with a 200."""
    if kind == "empty":
        return Reply(reply.status, None, reply.headers)
    if kind == "not_json":
        whole = payload(reply.body)
        # Cut off mid-answer, as a dropped upstream connection leaves it: an object or a list without its end.
        return Reply(reply.status, whole[: len(whole) // 2] if len(whole) > 1 else b"{", reply.headers)
    if kind == "no_results" and isinstance(reply.body, dict):
        return Reply(reply.status, {k: v for k, v in reply.body.items() if k not in _RESULT_LISTS}, reply.headers)
    # "null", "array", "object" (and "no_results" of an answer that is no object: it has no list to drop).
    return Reply(reply.status, _BARE[kind], reply.headers)


_BARE: dict[str, bytes] = {"null": b"null", "array": b"[]", "object": b"{}", "no_results": b"{}"}


@functools.lru_cache(maxsize=1 << 18)
def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"
