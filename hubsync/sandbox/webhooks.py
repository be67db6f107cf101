"""Webhooks from the sandbox portal, sent the way HubSpot sends them to a private app's target URL.

A subscription names the target URL, the app's client secret and what to send: object types (contact and company
by default) and, for property changes, the properties (HubSpot subscribes one property at a time; `None` here is
every property). The portal tells the sender of each change as it happens (`Portal.listeners`); the change is
queued and delivery threads post the queue in batches of up to 100 events (a JSON array), signed with HubSpot's v3
signature (`X-HubSpot-Signature-v3` over method, URI, body and `X-HubSpot-Request-Timestamp`). A request answered
with anything but 2xx, or not within `timeout`, is sent again after a back-off that doubles, with `attemptNumber`
counting up, until `max_attempts`. HubSpot spreads its retries over about a day; the sandbox compresses that.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import requests

from hubsync.sandbox import responses, schema
from hubsync.sandbox.responses import Reply
from hubsync.sandbox.routing import Request, Route

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubsync.sandbox.portal import Portal, PortalChange

BATCH_MAX: Final = 100
DEFAULT_OBJECT_TYPES: Final = ("contact", "company")
# The escapes HubSpot decodes in the target URL before signing it.
_SIGNED_ESCAPES: Final = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    secret: str
    object_types: tuple[str, ...] = DEFAULT_OBJECT_TYPES
    # Property changes of these properties only; None: of every property.
    properties: frozenset[str] | None = None
    app_id: int = 1_000_001
    subscription_id: int = 5_000_001

    def wants(self, change: PortalChange) -> bool:
        if schema.SINGULAR.get(change.object_type, change.object_type) not in self.object_types:
            return False
        if change.kind == "propertyChange" and self.properties is not None:
            return change.details.get("propertyName") in self.properties
        return True


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    events: list[dict[str, Any]] = field(compare=False)
    attempt: int = field(default=0, compare=False)


def sign(secret: str, *, method: str, url: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature of a request (the receiver's side is `hubsync/webhooks/signature.py`)."""
    uri = _SIGNED_ESCAPES.sub(lambda m: bytes.fromhex(m.group(1)).decode(), url)
    digest = hmac.new(secret.encode(), method.encode() + uri.encode() + body + timestamp.encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


class WebhookSender:
    def __init__(
        self,
        portal: Portal,
        *,
        threads: int = 4,
        timeout: float = 5.0,
        backoff: float = 0.5,
        max_attempts: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.portal = portal
        self.subscription: Subscription | None = None
        self.timeout, self.backoff, self.max_attempts = timeout, backoff, max_attempts
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[dict[str, Any]] = deque()
        self._retries: list[_Delivery] = []
        self._order = itertools.count()
        # Unique across sandbox restarts, as HubSpot's are: a receiver deduplicates by them.
        self._event_ids = itertools.count(time.time_ns() // 1_000)
        self._in_flight = 0
        self._closed = False
        self.counts: Counter[str] = Counter()
        self._thread_count = threads
        self._threads: list[threading.Thread] = []
        portal.listeners.append(self.notice)

    def subscribe(self, subscription: Subscription | None) -> None:
        """One target URL per app, as in HubSpot: a new subscription replaces the old; None ends it. The delivery
        threads start with the first subscription (a sandbox nobody subscribes to runs none)."""
        with self._cond:
            self.subscription = subscription
            if subscription is not None and not self._threads:
                self._threads = [
                    threading.Thread(target=self._deliver, name=f"sandbox-webhooks-{i}", daemon=True)
                    for i in range(self._thread_count)
                ]
                for thread in self._threads:
                    thread.start()
            self._cond.notify_all()

    def notice(self, change: PortalChange) -> None:
        """Called by the portal, under its lock: queue the event and return at once."""
        sub = self.subscription
        if sub is None or not sub.wants(change):
            return
        kind = schema.SINGULAR.get(change.object_type, change.object_type)
        event: dict[str, Any] = {
            "eventId": next(self._event_ids),
            "subscriptionId": sub.subscription_id,
            "portalId": self.portal.portal_id,
            "appId": sub.app_id,
            "occurredAt": change.at,
            "subscriptionType": f"{kind}.{change.kind}",
            "attemptNumber": 0,
            "changeSource": "CRM",
        }
        if change.kind != "associationChange":
            event["objectId"] = change.object_id
        event.update(change.details)
        with self._cond:
            self._queue.append(event)
            self.counts["events"] += 1
            self._cond.notify()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            sub = self.subscription
            return {
                "subscription": None if sub is None else {"url": sub.url, "objectTypes": list(sub.object_types)},
                "queued": len(self._queue),
                "retrying": len(self._retries),
                "inFlight": self._in_flight,
                **dict(self.counts),
            }

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._retries and self._in_flight == 0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1)

    # -- delivery -------------------------------------------------------------------------------------------------

    def _deliver(self) -> None:
        session = requests.Session()
        try:
            while (delivery := self._next()) is not None:
                ok = self._post(session, delivery)
                with self._cond:
                    self._in_flight -= 1
                    if ok:
                        self.counts["delivered"] += len(delivery.events)
                    elif delivery.attempt + 1 >= self.max_attempts:
                        self.counts["given_up"] += len(delivery.events)
                    else:
                        wait = self.backoff * 2**delivery.attempt
                        retry = _Delivery(
                            self._clock() + wait, next(self._order), delivery.events, delivery.attempt + 1
                        )
                        heapq.heappush(self._retries, retry)
                        self.counts["retried"] += 1
                    self._cond.notify_all()
        finally:
            session.close()

    def _next(self) -> _Delivery | None:
        with self._cond:
            while not self._closed:
                now = self._clock()
                if self._retries and self._retries[0].due <= now:
                    self._in_flight += 1
                    return heapq.heappop(self._retries)
                if self._queue and self.subscription is not None:
                    events = [self._queue.popleft() for _ in range(min(BATCH_MAX, len(self._queue)))]
                    self._in_flight += 1
                    return _Delivery(now, next(self._order), events)
                wait = self._retries[0].due - now if self._retries else None
                self._cond.wait(wait)
            return None

    def _post(self, session: requests.Session, delivery: _Delivery) -> bool:
        sub = self.subscription
        if sub is None:
            return False
        body = json.dumps([{**e, "attemptNumber": delivery.attempt} for e in delivery.events]).encode()
        timestamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": sign(sub.secret, method="POST", url=sub.url, body=body, timestamp=timestamp),
            "X-HubSpot-Signature-Version": "v3",
        }
        try:
            status = session.post(sub.url, data=body, headers=headers, timeout=self.timeout).status_code
        except requests.RequestException:
            status = 0  # no answer (refused, timed out)
        with self._cond:
            self.counts[f"status_{status}"] += 1
        return status // 100 == 2  # noqa: PLR2004  (2xx)


def routes(sender: WebhookSender) -> list[Route]:
    """`/__sandbox__/webhooks`: GET the sender's counts, POST a subscription, DELETE it."""

    def show(_portal: Portal, _req: Request) -> Reply:
        return Reply(200, sender.stats())

    def subscribe(_portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        url, secret = body.get("url"), body.get("secret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not isinstance(secret, str):
            raise responses.validation("url (http or https) and secret are required")
        types = body.get("objectTypes") or list(DEFAULT_OBJECT_TYPES)
        props = body.get("properties")
        sender.subscribe(
            Subscription(
                url,
                secret,
                tuple(str(t) for t in types),
                None if props is None else frozenset(str(p) for p in props),
            )
        )
        return Reply(200, sender.stats())

    def unsubscribe(_portal: Portal, _req: Request) -> Reply:
        sender.subscribe(None)
        return Reply(204)

    path = "/__sandbox__/webhooks"
    return [
        Route("GET", path, show, None, kind="admin"),
        Route("POST", path, subscribe, None, kind="admin"),
        Route("DELETE", path, unsubscribe, None, kind="admin"),
    ]
