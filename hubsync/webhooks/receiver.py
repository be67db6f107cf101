"""The receiver: a Starlette app with HubSpot's webhook endpoint, `/healthz` and `/metrics`.

`POST {path}`, in this order (each refusal is logged without the body):

* 413 when the body is larger than `max_body_bytes` (by its Content-Length, or while it is read);
* 401 when the v3 signature is missing, wrong, or its timestamp is outside the window (`signature.py`);
* 400 when the body is not a batch of events (`events.py`);
* 204 once every event is stored (`store`, which deduplicates by `eventId`); only then, so an answered event is
  never lost. 503 when the database refuses: HubSpot delivers the request again later.

The worker is woken after a store (`on_stored`): processing never delays the answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubsync.errors import StoreError
from hubsync.records import WebhookEvent
from hubsync.secret import Secret
from hubsync.webhooks.events import MalformedBatch, parse_batch
from hubsync.webhooks.metrics import CONTENT_TYPE, Metrics
from hubsync.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, Verdict, check

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReceiverOptions:
    path: str
    secret: Secret
    window_seconds: int
    max_body_bytes: int
    # The target URL as entered in HubSpot, when the proxy in front changes the host or path.
    public_url: str | None = None


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    report: Mapping[str, object]


class _TooLarge(Exception):
    pass


def receiver_app(
    options: ReceiverOptions,
    *,
    store: Callable[[list[WebhookEvent]], int],
    health: Callable[[], Health],
    metrics: Metrics,
    on_stored: Callable[[], None] = lambda: None,
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
) -> Starlette:
    """`store` stores events and returns how many were new; `health` judges the service; `now_ms` is the clock
    the signature's timestamp is checked against (the system's: HubSpot stamps requests with real time)."""

    async def receive(request: Request) -> Response:
        try:
            body = await _body(request, options.max_body_bytes)
        except _TooLarge:
            return _refused(metrics, 413, "too_large", request)
        verdict = check(
            options.secret,
            method=request.method,
            uri=request_uri(request, options.public_url),
            body=body,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
            now_ms=now_ms(),
            window_ms=options.window_seconds * 1000,
        )
        if verdict is not Verdict.OK:
            return _refused(metrics, 401, verdict.value, request)
        try:
            events = parse_batch(body)
        except MalformedBatch as err:
            return _refused(metrics, 400, "malformed", request, problem=str(err))
        try:
            new = await run_in_threadpool(store, events)
        except StoreError as err:
            log.error("webhooks.store_failed", events=len(events), error=str(err))  # noqa: TRY400  (one line is enough)
            metrics.webhook_requests.labels(status="503").inc()
            return Response(status_code=503)
        metrics.webhook_requests.labels(status="204").inc()
        metrics.webhook_events.labels(result="new").inc(new)
        metrics.webhook_events.labels(result="again").inc(len(events) - new)
        log.info("webhooks.received", events=len(events), new=new)
        if new:
            on_stored()
        return Response(status_code=204)

    async def healthz(_request: Request) -> Response:
        judged = await run_in_threadpool(health)
        return JSONResponse(dict(judged.report), status_code=200 if judged.ok else 503)

    async def scrape(_request: Request) -> Response:
        return Response(await run_in_threadpool(metrics.render), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route(options.path, receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", scrape, methods=["GET"]),
        ]
    )


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def request_uri(request: Request, public_url: str | None) -> str:
    """The URI HubSpot called, as it signed it: the configured public URL, or scheme and host as received (uvicorn
    takes the scheme from a trusted proxy's X-Forwarded-Proto) with the path exactly as sent."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    suffix = f"?{query}" if query else ""
    if public_url:
        return public_url + suffix
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    host = request.headers.get("host") or urlsplit(str(request.base_url)).netloc
    return f"{request.url.scheme}://{host}{raw.decode('latin-1')}{suffix}"


def _refused(metrics: Metrics, status: int, reason: str, request: Request, **fields: object) -> Response:
    metrics.webhook_requests.labels(status=str(status)).inc()
    client = request.client.host if request.client else None
    # Never the body: it may hold personal data, and a forged request deserves no echo.
    log.warning("webhooks.refused", status=status, reason=reason, remote=client, **fields)
    return Response(json.dumps({"status": status, "reason": reason}), status_code=status, media_type="application/json")
