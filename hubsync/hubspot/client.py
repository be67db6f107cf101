"""The only gateway to HubSpot: every request goes through `HubSpotClient`, which paces it, classifies its failure
once, retries what is worth retrying, and counts it.

Two transports, as the SDK has them:

* `call(fn, ...)` runs a generated SDK operation (urllib3). It calls the operation's `*_with_http_info` twin, which
  returns `(data, status, headers)`: the plain method forces `_return_http_data_only=True` and so hides the
  rate-limit headers the pacer needs.
* `request(method, path, ...)` reaches the legacy v1 endpoints that have no generated wrapper (email events, form
  submissions). The SDK's `api_request` builds the request (URL, query string, JSON body, Authorization) with its
  `Request` class and then sends it with a bare `requests.get/post` without any timeout, so a stalled connection
  would hang a sync forever. hubsync uses that same `Request` builder and sends the result through its own
  `requests.Session` with the configured timeout.

`HubSpot` is imported from its defining module `hubspot.hubspot`, not the package root: when mypy checks the whole
tree it maps `tests/unit/hubspot/` (no `__init__.py`) to a namespace package `hubspot` that shadows the SDK's root.

Retries belong to hubsync alone: urllib3's built-in retries are switched off (they would retry silently, without
backoff, outside the counters), and tenacity retries only RetriableHubSpotError.

Strict pages: a 2xx answer is used only when its body is what the endpoint sends (`answers.py`): its JSON must have
the caller's `expect` shape (for SDK models, checked in the SDK's hooked deserialization), and be JSON at all.
Anything else raises MalformedAnswer inside the attempt, so it is retried like a 5xx and, if it persists, fails the
call instead of passing for an empty page.

A 429 whose Retry-After is beyond `max_retry_after_seconds` is not slept on: it raises RetryAfterTooLong (a
StoppedForNow, like the daily quota), so the run stops cleanly and the next one continues.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, Self

import requests
import structlog
import urllib3
from hubspot.hubspot import HubSpot
from hubspot.utils.requests.http_request_builder import Request

from hubsync.errors import (
    HubSpotError,
    Interrupted,
    MalformedAnswer,
    QuotaExhausted,
    RateLimited,
    RetriableHubSpotError,
    RetryAfterTooLong,
)
from hubsync.hubspot.answers import BadBody, Shape, expecting, parse_json, strict_models
from hubsync.hubspot.classify import classify
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.hubspot.pacing import CallKind, Pacer, PacerLimits
from hubsync.hubspot.retry_policy import retrying

log = structlog.get_logger(__name__)

_NO_RESPONSE: Final = "no_response"
# Path segments that are ids (numbers, GUIDs): folded so the per-operation counters stay a short list.
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{16,})$")

Kind = Literal["standard", "search"] | CallKind


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of what the client sent: every attempt counts (retries included), as HubSpot counts them."""

    by_operation: Mapping[str, int]
    by_status: Mapping[str, int]
    daily_remaining: int

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())


class HubSpotClient:
    def __init__(
        self,
        settings: ClientSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
    ) -> None:
        """`stop`, when set (SIGTERM), makes the next request raise Interrupted instead of being sent, and cuts
        short any pacing or backoff wait: the page in hand is finished and saved by its caller, nothing new starts."""
        self._settings = settings
        self._stop = stop
        if stop is not None:
            interruptible = stop

            def sleep(seconds: float) -> None:
                interruptible.wait(seconds)

        base_url = settings.base_url.rstrip("/")
        # host: generated APIs (urllib3); base_url: api_request's Request builder (requests). retry: switch off
        # urllib3's own silent retries (3 by default, no backoff) so tenacity is the only retry layer; redirects
        # are still followed.
        self._sdk = HubSpot(
            access_token=settings.access_token.reveal(),
            host=base_url,
            base_url=base_url,
            retry=urllib3.Retry(total=None, connect=0, read=0, other=0, status=0, redirect=5),
        )
        self._session = requests.Session()
        self._pacer = Pacer(
            PacerLimits(
                requests_per_10s=settings.requests_per_10s,
                pace_fraction=settings.pace_fraction,
                search_per_second=settings.search_per_second,
                daily_quota=settings.daily_quota,
                daily_reserve=settings.daily_reserve,
            ),
            clock=clock,
            sleep=sleep,
        )
        self._lock = threading.Lock()
        self._apis: dict[str, Any] = {}
        self._by_operation: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        # Built once; tenacity keeps each call's state thread-locally, so threads can share it.
        self._retrying = retrying(settings.max_retries, sleep)

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self._settings.base_url!r}, calls={sum(self._by_operation.values())})"

    @property
    def settings(self) -> ClientSettings:
        """The frozen settings it runs with (the token stays a `Secret`): the rates it paces to, for planning."""
        return self._settings

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()
        with self._lock:
            apis = list(self._apis.values())
            self._apis.clear()
        for api in apis:
            api.api_client.close()

    # -- the two ways to reach HubSpot --------------------------------------------------------------------------

    def api(self, dotted: str) -> Any:
        """The SDK API object at `dotted` (e.g. "crm.contacts.basic_api"), created once and reused.

        The SDK's discovery properties build a new ApiClient (and urllib3 pool) on every access; caching them
        keeps connections alive across pages.
        """
        with self._lock:
            api = self._apis.get(dotted)
            if api is None:
                api = self._sdk
                for part in dotted.split("."):
                    api = getattr(api, part)
                strict_models(api.api_client)
                self._apis[dotted] = api
            return api

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        kind: Kind = "standard",
        operation: str | None = None,
        retry: bool = True,
        raw_json: bool = False,
        expect: Shape | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a generated SDK operation (e.g. `client.api("crm.contacts.basic_api").get_page`) with pacing,
        classification and retries; returns what the SDK operation returns (its model object).

        `retry=False` makes exactly one attempt: for a create that is not idempotent (a task), where a timeout may
        hide a request HubSpot did carry out, the caller reconciles before trying again instead.

        `raw_json=True` returns the answer's parsed JSON (wire keys, as the model's `to_dict(serialize=True)` has
        them) instead of the model: the SDK still builds and sends the request, but skips its model
        deserialization, which parses every timestamp with dateutil and costs more than everything else of a bulk
        read (a third of a full sync's time, measured). `expect` is the shape the answer's JSON must have
        (`answers.py`); an answer without it raises MalformedAnswer, which is retried."""
        call_kind = CallKind(kind)
        with_info = _with_http_info(fn)
        name = operation or _operation_name(fn)
        if with_info is not None:
            kwargs = {"_request_timeout": self._settings.timeout_seconds, **kwargs, "_return_http_data_only": False}
            if raw_json:
                kwargs["_preload_content"] = False

        def attempt(name: str) -> Any:
            self._check_stop()
            self._pacer.acquire(call_kind)
            try:
                if with_info is None:
                    # Not a generated operation: no status or headers to learn from.
                    data, status, headers = fn(*args, **kwargs), "ok", None
                elif raw_json:
                    # Unloaded, the SDK returns the urllib3 response alone (errors are still raised as ApiException).
                    response = with_info(*args, **kwargs)
                    try:
                        body = response.data
                    finally:
                        response.release_conn()
                    status, headers = response.status, response.headers
                    data = parse_json(body, status, headers, expect)
                else:
                    with expecting(expect):
                        data, status, headers = with_info(*args, **kwargs)
            except BadBody as bad:
                raise self._malformed(name, bad) from None
            except Exception as exc:
                error = self._failed(name, exc, getattr(exc, "headers", None))
                if error is None:
                    raise
                # An SDK ApiException prints every response header in its str(): keep it out of the traceback.
                raise error from (None if hasattr(exc, "headers") else exc)
            self._count(name, status)
            self._pacer.observe(headers)
            return data

        return self._retry(attempt, name) if retry else attempt(name)

    def request(
        self,
        method: str,
        path: str,
        qs: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        kind: Kind = "standard",
        operation: str | None = None,
        expect: Shape | None = None,
    ) -> Any:
        """Call a legacy endpoint (`path` from the API root, e.g. "/email/public/v1/events"); returns parsed JSON,
        which must have the shape `expect` when it is given (else MalformedAnswer, retried)."""
        call_kind = CallKind(kind)
        name = operation or _path_operation(method, path)
        options: dict[str, Any] = {"method": method.upper(), "path": path}
        if qs:
            options["qs"] = dict(qs)
        if body is not None:
            options["body"] = body

        def attempt(name: str) -> Any:
            self._check_stop()
            self._pacer.acquire(call_kind)
            # The SDK's builder adds the Authorization header and encodes the query string and JSON body.
            prepared = Request(self._sdk.config, dict(options))
            try:
                response = self._session.request(
                    prepared.get_method(),
                    prepared.get_url(),
                    timeout=self._settings.timeout_seconds,
                    **prepared.get_options_for_sending(),
                )
            except requests.RequestException as exc:
                error = self._failed(name, exc, None)
                if error is None:
                    raise
                raise error from exc
            error = classify(response)
            if error is not None:
                self._count(name, response.status_code)
                raise self._noted(name, error, response.headers)
            try:
                data = parse_json(response.content, response.status_code, response.headers, expect)
            except BadBody as bad:
                raise self._malformed(name, bad) from None
            self._count(name, response.status_code)
            self._pacer.observe(response.headers)
            return data

        return self._retry(attempt, name)

    def _retry(self, attempt: Callable[[str], Any], name: str) -> Any:
        try:
            return self._retrying(attempt, name)
        except RetriableHubSpotError as err:
            # The last attempt's error is what the admin reads: say that hubsync did retry, and stopped.
            attempts = self._retrying.statistics.get("attempt_number", self._settings.max_retries + 1)
            err.args = (f"{err.args[0]} (gave up after {attempts} attempts)", *err.args[1:])
            raise

    def _check_stop(self) -> None:
        if self._stop is not None and self._stop.is_set():
            raise Interrupted("stopped on request; the work so far is saved and the next run continues from it")

    # -- what the client knows ----------------------------------------------------------------------------------

    @property
    def daily_remaining(self) -> int:
        """Daily requests left: the last `X-HubSpot-RateLimit-Daily-Remaining` minus what was sent since, or the
        configured quota minus hubsync's own count over the last 24 hours when HubSpot sent no such header."""
        return self._pacer.daily_remaining

    def stats(self) -> ClientStats:
        with self._lock:
            return ClientStats(
                by_operation=MappingProxyType(dict(self._by_operation)),
                by_status=MappingProxyType(dict(self._by_status)),
                daily_remaining=self._pacer.daily_remaining,
            )

    # -- internals ----------------------------------------------------------------------------------------------

    def _count(self, name: str, status: int | str) -> None:
        with self._lock:
            self._by_operation[name] += 1
            self._by_status[str(status)] += 1

    def _failed(self, name: str, exc: BaseException, headers: object) -> HubSpotError | None:
        error = classify(exc)
        if error is None:
            return None
        self._count(name, error.status if error.status is not None else _NO_RESPONSE)
        return self._noted(name, error, headers)

    def _noted(self, name: str, error: HubSpotError, headers: object) -> HubSpotError:
        """Learn from a failed answer (its headers, the quota) and log it; the error to raise, which for a 429 that
        asks for a longer wait than the client may sleep is RetryAfterTooLong (not retried: the run stops)."""
        if isinstance(headers, Mapping):
            # 429 answers carry the rate-limit headers too: they tell the pacer how full the window is.
            self._pacer.observe(headers)
        if isinstance(error, RateLimited):
            cap = self._settings.max_retry_after_seconds
            if error.retry_after is not None and error.retry_after > cap:
                log.warning(
                    "client.retry_after_capped",
                    operation=name,
                    policy=error.policy,
                    retry_after=error.retry_after,
                    max_retry_after_seconds=cap,
                )
                return RetryAfterTooLong(
                    f"HubSpot asked hubsync to wait {error.retry_after:g} s (429 {error.policy or 'unknown policy'}), "
                    f"longer than [portal] max_retry_after_seconds = {cap:g}: stopping; the next run continues",
                    retry_after=error.retry_after,
                    policy=error.policy,
                )
            log.warning("client.rate_limited", operation=name, policy=error.policy, retry_after=error.retry_after)
        elif isinstance(error, QuotaExhausted):
            self._pacer.mark_daily_exhausted()
            log.error("client.quota_exhausted", operation=name, status=error.status)
        return error

    def _malformed(self, name: str, bad: BadBody) -> MalformedAnswer:
        """A 2xx answer that is not the endpoint's page: counted and learnt from like any answer, and retried."""
        self._count(name, bad.status)
        if isinstance(bad.headers, Mapping):
            self._pacer.observe(bad.headers)
        log.warning("client.malformed_answer", operation=name, status=bad.status, problem=bad.problem)
        return MalformedAnswer(
            f"HubSpot's answer to {name!r} ({bad.status}) is not what that endpoint sends: {bad.problem}",
            status=bad.status,
        )


def _with_http_info(fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """The `*_with_http_info` twin of a generated SDK operation (it returns status and headers), if it has one."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "")
    if owner is None:
        return None
    if name.endswith("_with_http_info"):
        return fn
    twin = getattr(owner, f"{name}_with_http_info", None)
    return twin if callable(twin) else None


def _operation_name(fn: Callable[..., Any]) -> str:
    """`crm.contacts.basic_api.get_page` for a bound generated operation, the function name otherwise."""
    name = getattr(fn, "__name__", type(fn).__name__).removesuffix("_with_http_info")
    owner = getattr(fn, "__self__", None)
    if owner is None:
        return name
    module = type(owner).__module__.removeprefix("hubspot.").replace(".api.", ".")
    return f"{module}.{name}"


def _path_operation(method: str, path: str) -> str:
    segments = ["{id}" if _ID_SEGMENT.match(part) else part for part in path.split("?", maxsplit=1)[0].split("/")]
    return f"{method.upper()} {'/'.join(segments)}"
