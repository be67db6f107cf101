"""The HTTP server, and `start_sandbox`, the way tests, the demo and benchmarks start a portal.

    with start_sandbox(contacts=2000, seed=7) as sb:
        client = HubSpot(access_token=sb.token, host=sb.url, base_url=sb.url)
        sb.portal.advance(3600)        # mutate through the Python handle …
        sb.stats()                     # … or read the per-endpoint counters

It listens on 127.0.0.1 only, with HTTP/1.1 keep-alive, one thread per connection and one lock around the portal.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from hubsync.sandbox import admin_api, responses, schema, snapshot
from hubsync.sandbox.crm.routes import routes as crm_routes
from hubsync.sandbox.generator import generate_portal
from hubsync.sandbox.limits import FaultSettings, Gate, LimitSettings
from hubsync.sandbox.marketing.routes import routes as marketing_routes
from hubsync.sandbox.portal import Portal
from hubsync.sandbox.records import PortalError
from hubsync.sandbox.routing import Request, Route, Router
from hubsync.sandbox.webhooks import WebhookSender
from hubsync.sandbox.webhooks import routes as webhook_routes

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


class Stats:
    """Requests per endpoint (method and path template) and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, int]] = Counter()

    def count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._counts[(endpoint, status)] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            items = sorted(self._counts.items())
        endpoints: dict[str, dict[str, int]] = {}
        for (endpoint, status), n in items:
            endpoints.setdefault(endpoint, {})[str(status)] = n
        by_status: Counter[str] = Counter()
        for (_, status), n in items:
            by_status[str(status)] += n
        return {"total": sum(n for _, n in items), "byStatus": dict(sorted(by_status.items())), "endpoints": endpoints}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, portal: Portal, gate: Gate) -> None:
        self.portal = portal
        self.gate = gate
        self.counters = Stats()
        self.webhooks = WebhookSender(portal)
        self.router = Router(crm_routes() + marketing_routes() + admin_api.routes(self) + webhook_routes(self.webhooks))
        super().__init__((HOST, port), _Handler)

    # admin_api.Context
    def stats(self) -> dict[str, Any]:
        return self.counters.as_dict()

    def reset_stats(self) -> None:
        self.counters.reset()

    def snapshot_bytes(self) -> bytes:
        with self.portal.lock:
            return snapshot.dumps(self.portal)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubsync-sandbox"
    disable_nagle_algorithm = True
    # A buffered writer sends headers and body in one segment (flushed after each request): two small writes
    # would meet the client's delayed ACK and cost ~40 ms per request.
    wbufsize = 1 << 16
    sys_version = ""
    server: SandboxServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the stdlib's parameter name
        log.debug("sandbox.request %s", format % args)

    def _handle(self) -> None:
        srv = self.server
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        found = srv.router.find(self.command, split.path)
        if found is None:
            self._send(
                responses.error(404, "OBJECT_NOT_FOUND", f"No sandbox endpoint {self.command} {split.path}"),
                f"{self.command} (unknown)",
            )
            return
        route, params = found
        extra: dict[str, str] = {}
        bad_body: str | None = None
        if route.scopes is not None:
            verdict = srv.gate.admit(
                self.headers.get("Authorization"),
                route.scopes(params),
                search=route.kind == "search",
                portal_now=srv.portal.now,
                endpoint=route.name,
            )
            if verdict.drop:
                srv.counters.count(route.name, 0)
                self.close_connection = True
                return
            if verdict.delay:
                time.sleep(verdict.delay)
            extra, bad_body = verdict.headers, verdict.bad_body
            if verdict.reply is not None:
                verdict.reply.headers.update(extra)
                self._send(verdict.reply, route.name)
                return
        reply = self._dispatch(route, params, split.query, raw)
        if srv.gate.answer_lost(route.name, reply.status):
            srv.counters.count(route.name, 0)
            self.close_connection = True
            return
        if bad_body is not None and reply.status // 100 == 2 and reply.body is not None:  # noqa: PLR2004  # 2xx
            reply = responses.bad_body(reply, bad_body)
        reply.headers.update(extra)
        self._send(reply, route.name)

    def _dispatch(self, route: Route, params: dict[str, str], query: str, raw: bytes) -> responses.Reply:
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            return responses.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        req = Request(self.command, urlsplit(self.path).path, parse_qs(query, keep_blank_values=True), body, params)
        try:
            return route.handler(self.server.portal, req)
        except responses.ApiError as exc:
            return exc.reply
        except PortalError as exc:
            return responses.error(400, "VALIDATION_ERROR", str(exc))
        except Exception:
            log.exception("sandbox.handler_failed route=%s", route.name)
            return responses.error(500, "INTERNAL_ERROR", "internal error")

    def _send(self, reply: responses.Reply, endpoint: str) -> None:
        if not endpoint.split(" ", 1)[-1].startswith("/__sandbox__"):
            # Counters describe the HubSpot API a client used; the sandbox's own endpoints are not part of it.
            self.server.counters.count(endpoint, reply.status)
        payload = responses.payload(reply.body)
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Sandbox", "hubsync sandbox portal (not HubSpot)")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@dataclass
class Sandbox:
    """A running sandbox portal: its URL, a token with every scope, the portal and the server's gate."""

    server: SandboxServer
    thread: threading.Thread
    token: str
    url: str = field(init=False)

    def __post_init__(self) -> None:
        host, port = self.server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @property
    def portal(self) -> Portal:
        return self.server.portal

    @property
    def gate(self) -> Gate:
        return self.server.gate

    @property
    def webhooks(self) -> WebhookSender:
        return self.server.webhooks

    def add_token(self, scopes: tuple[str, ...] = schema.ALL_SCOPES) -> str:
        return self.gate.add_token(scopes)

    def stats(self) -> dict[str, Any]:
        return self.server.stats()

    def reset_stats(self) -> None:
        self.server.reset_stats()

    def set_faults(self, faults: FaultSettings) -> None:
        self.gate.set_faults(faults)

    def lose_answers(self, endpoint: str, count: int = 1) -> None:
        self.gate.lose_answers(endpoint, count)

    def close(self) -> None:
        self.server.webhooks.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(
    portal: Portal,
    *,
    port: int = 0,
    limits: LimitSettings | None = None,
    faults: FaultSettings | None = None,
    token: str | None = None,
) -> Sandbox:
    """Serve `portal` in a background thread until `Sandbox.close()`."""
    gate = Gate(limits or LimitSettings(tier=portal.tier), faults)
    main_token = gate.add_token(schema.ALL_SCOPES, token)
    server = SandboxServer(port, portal, gate)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox", daemon=True)
    thread.start()
    return Sandbox(server, thread, main_token)


@contextmanager
def start_sandbox(
    contacts: int = 200,
    seed: int = 7,
    *,
    portal: Portal | None = None,
    snapshot_file: Path | None = None,
    activities_per_contact: float = 20.0,
    tier: str | None = None,
    rate_limits: bool = True,
    per_ten_seconds: int | None = None,
    per_day: int | None = None,
    faults: FaultSettings | None = None,
    index_delay_seconds: float = 0.0,
    port: int = 0,
) -> Iterator[Sandbox]:
    """A generated portal (or `portal`, or one loaded from `snapshot_file`) served on a free port.

    `tier` (free, starter, professional, enterprise, api_limit_increase) sets the rate budgets and whether the
    events API answers; it defaults to the portal's own (enterprise for generated portals).
    """
    if portal is None:
        if snapshot_file is not None:
            portal = snapshot.load(snapshot_file)
        else:
            portal = generate_portal(contacts, seed, activities_per_contact=activities_per_contact)
    if tier is not None:
        portal.tier = tier
    portal.index_delay_ms = round(index_delay_seconds * 1000)
    limits = LimitSettings(tier=portal.tier, enabled=rate_limits, per_ten_seconds=per_ten_seconds, per_day=per_day)
    sb = serve(portal, port=port, limits=limits, faults=faults)
    try:
        yield sb
    finally:
        sb.close()
