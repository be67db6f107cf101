"""Strict pages: a 2xx answer is used only when its body is what the endpoint sends. Pure, apart from the SDK hook.

A body that is not the endpoint's page (cut off, empty, `null`, a list, an object without its results) must never
pass for an empty page: that would move a cursor past data nobody read. The client reads raw JSON with
`parse_json(..., expect=shape)` and lets the SDK's deserialization check its models (`strict_models`); both raise
`BadBody` inside the retried attempt, which the client turns into MalformedAnswer (retried like a 5xx).

A shape checks the frame of a page (an object, its list of results, each result an object, the paging token), not
the records in it: a record with odd values is a `Skip` of the mapping, counted, and the page goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# What is wrong with an answer (parsed JSON), or None when it is what the endpoint sends.
Shape = Callable[[object], str | None]


class BadBody(Exception):
    """A 2xx body that is not the endpoint's answer, found where the body is read (which does not know the
    operation). Not part of the error tree: the client turns it into MalformedAnswer."""

    def __init__(self, problem: str, status: int, headers: object) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status = status
        self.headers = headers


# -- shapes -----------------------------------------------------------------------------------------------------


def not_null(answer: object) -> str | None:
    """Any JSON but `null` (the SDK's models check the rest)."""
    return "JSON null" if answer is None else None


def created_object(answer: object) -> str | None:
    """A record as a create answers it: an object with its new `id`."""
    if not isinstance(answer, Mapping):
        return _not_an_object(answer)
    return None if answer.get("id") not in (None, "") else 'no "id"'


def results_page(answer: object) -> str | None:
    """A page of the v3/v4 APIs, the events API and the legacy form submissions: `{"results": [{…}, …]}`, and where
    another page follows, `"paging": {"next": {"after": …}}`."""
    return _with_list(answer, "results", _paging)


def email_events_page(answer: object) -> str | None:
    """A page of the legacy email events API: `{"events": [{…}, …], "hasMore": bool, "offset": "…"}` (the offset
    is needed when more follow)."""
    return _with_list(answer, "events", _offset)


def _not_an_object(answer: object) -> str:
    if answer is None:
        return "JSON null"
    return f"a JSON {'list' if isinstance(answer, list) else type(answer).__name__}, not an object"


def _with_list(answer: object, key: str, rest: Callable[[Mapping[str, object]], str | None]) -> str | None:
    """An object whose `key` is a list of objects, and whatever `rest` asks of the object."""
    if not isinstance(answer, Mapping):
        return _not_an_object(answer)
    items = answer.get(key)
    if not isinstance(items, list):
        return f'no "{key}" list'
    if not all(isinstance(item, Mapping) for item in items):
        return f'"{key}" holds something that is not an object'
    return rest(answer)


def _paging(answer: Mapping[str, object]) -> str | None:
    paging = answer.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else paging
    if following is None:
        return None
    if not isinstance(following, Mapping) or following.get("after") in (None, ""):
        return '"paging" without a "next.after" token'
    return None


def _offset(answer: Mapping[str, object]) -> str | None:
    more = answer.get("hasMore")
    if not isinstance(more, bool):
        return 'no "hasMore" flag'
    if more and answer.get("offset") in (None, ""):
        return '"hasMore" without an "offset"'
    return None


# -- reading a body -----------------------------------------------------------------------------------------------


def parse_json(body: bytes | str, status: int, headers: object, expect: Shape | None) -> Any:
    """A 2xx body as JSON. Without `expect`, no body is None (a 204, a create that answers nothing); with it, the
    body must be JSON of that shape."""
    if not body:
        if expect is None:
            return None
        raise BadBody("an empty body", status, headers)
    try:
        data = json.loads(body)
    except ValueError:
        # A proxy's HTML page or a cut-off body: the next attempt usually gets the real answer.
        raise BadBody("a body that is not JSON", status, headers) from None
    problem = expect(data) if expect is not None else None
    if problem is not None:
        raise BadBody(problem, status, headers)
    return data


# The shape the SDK call in progress expects (set by `expecting`); a context variable, so every thread has its own.
_expected: ContextVar[Shape] = ContextVar("hubsync_expected_shape", default=not_null)


@contextmanager
def expecting(shape: Shape | None) -> Iterator[None]:
    """Within the block, SDK answers deserialized by a `strict_models` client must have `shape` (else not `null`)."""
    token = _expected.set(shape or not_null)
    try:
        yield
    finally:
        _expected.reset(token)


def strict_models(api_client: Any) -> None:
    """Make an SDK ApiClient's deserialization of 2xx answers strict. Left alone, the generated `deserialize` returns
    None for an empty body or `null`, the raw text for a body that is not JSON, and a model of Nones for `[]` or `{}`
    (the models do not check required fields); a model that does not fit raises ValueError, or an ApiException of
    status 0 for a bad date. The caller would see an empty page or a bug. Hooked on the instance, the JSON is checked
    against the shape the call expects (`expecting`), and each of those raises BadBody inside the call."""
    original = api_client.deserialize

    def deserialize(response: Any, response_type: Any) -> Any:
        if response_type in ("file", "bytes"):
            return original(response, response_type)
        getheaders = getattr(response, "getheaders", None)
        status, headers = getattr(response, "status", 0), getheaders() if callable(getheaders) else None
        parse_json(response.data, status, headers, _expected.get())
        try:
            return original(response, response_type)
        except Exception as exc:  # noqa: BLE001  # the request is done: whatever fails here is the answer's fault
            problem = f"it does not fit the SDK's {response_type} ({type(exc).__name__})"
            raise BadBody(problem, status, headers) from None

    api_client.deserialize = deserialize
