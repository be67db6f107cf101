"""What the webhook tests share: a receiver (`jobs/realtime.Realtime`) on a real database, and, for processing, a
sandbox portal synced once whose webhooks are subscribed to that receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import requests
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.clock import Clock, system_clock
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.realtime import Realtime
from hubsync.jobs.setup import setup
from hubsync.jobs.work_lock import WorkLock
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.webhooks import Subscription, sign
from hubsync.secret import Secret
from hubsync.settings import PushConfig, Settings, load_settings
from hubsync.store.db import open_database
from hubsync.store.tables import contact_t, task_t, webhook_event_t
from hubsync.webhooks.metrics import Metrics
from tests.support.config import UNPACED_CONFIG, WHOLE_HISTORY, config_with
from tests.support.sandbox import fast_client, portal_now

SECRET: Final = "wh-secret-0f1e2d3c4b5a"
WEBHOOKS_ON: Final = {"enabled = false": "enabled = true", "port = 8390": "port = 0"}
# What a portal's private app subscribes to (README, "Real time"): never hubsync's own properties, whose every write
# would come back as an event.
SUBSCRIBED: Final = frozenset(
    {
        "recent_conversion_date",
        "recent_conversion_event_name",
        "email",
        "jobtitle",
        "lifecyclestage",
        "hubspot_owner_id",
        "associatedcompanyid",
        "name",
        "domain",
        "industry",
        "numberofemployees",
    }
)


def signed_headers(url: str, body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers HubSpot sends `body` to `url` with, signed with `secret` at `timestamp` (ms, default now)."""
    stamp = str(timestamp if timestamp is not None else int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": stamp,
        "X-HubSpot-Signature-v3": sign(secret, method="POST", url=url, body=body, timestamp=stamp),
    }


def post_signed(url: str, body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> requests.Response:
    return requests.post(
        url, data=body, headers=signed_headers(url, body, secret=secret, timestamp=timestamp), timeout=10
    )


def webhook_settings(tmp: Path, env: dict[str, str]) -> Settings:
    config = config_with(tmp, {**WEBHOOKS_ON, **UNPACED_CONFIG, **WHOLE_HISTORY})
    return load_settings({**env, "HUBSYNC_WEBHOOK_SECRET": SECRET}, str(config))


@dataclass
class Receiver:
    engine: Engine
    settings: Settings
    realtime: Realtime
    metrics: Metrics
    active: threading.Event
    fatal: list[Exception]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.realtime.port}"

    @property
    def url(self) -> str:
        return self.base + self.settings.config.webhooks.path

    def headers(self, body: bytes) -> dict[str, str]:
        return signed_headers(self.url, body)

    def post(self, body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> requests.Response:
        return post_signed(self.url, body, secret=secret, timestamp=timestamp)

    def stored(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(webhook_event_t)).scalar_one())

    def waiting(self) -> int:
        t = webhook_event_t
        with self.engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(t).where(t.c.processed_at.is_(None))
            return int(conn.execute(query).scalar_one())


@contextmanager
def receiver(
    settings: Settings,
    engine: Engine,
    client: HubSpotClient,
    *,
    clock: Clock = system_clock,
    active: bool = True,
    work_lock: WorkLock | None = None,
) -> Iterator[Receiver]:
    """A started receiver without its worker thread: tests call `realtime.process_pending()` themselves. Its
    batches take `work_lock` (a lock of their own by default)."""
    metrics, flag = Metrics(), threading.Event()
    fatal: list[Exception] = []
    if active:
        flag.set()
    realtime = Realtime(
        settings,
        engine,
        client=lambda: client,
        clock=clock,
        metrics=metrics,
        active=flag,
        work=work_lock or WorkLock(),
        halt=threading.Event(),
        before_work=lambda _client: None,
        fatal=(),
        on_fatal=fatal.append,
    )
    realtime.start_receiver()
    try:
        yield Receiver(engine, settings, realtime, metrics, flag, fatal)
    finally:
        realtime.stop()


def idle_client() -> HubSpotClient:
    """A client for a receiver that never calls HubSpot (its counters are read for /metrics)."""
    return HubSpotClient(ClientSettings(access_token=Secret("pat-test"), base_url="http://127.0.0.1:9"))


@dataclass
class World:
    sb: Sandbox
    client: HubSpotClient
    rx: Receiver

    def deliver(self) -> None:
        """Wait until the sandbox has delivered every event it queued (each answered 2xx, hence stored)."""
        wait_until(self.sb.webhooks.idle, what="the sandbox to deliver its webhooks")

    def without_task(self, count: int) -> list[int]:
        """Live contacts with an email and no task (open or done) in the sandbox: a demo request makes them one."""
        portal = self.sb.portal
        with self.rx.engine.connect() as conn:
            tasked = set(conn.execute(sa.select(task_t.c.contact_id)).scalars())
            known = set(conn.execute(sa.select(contact_t.c.id).where(contact_t.c.archived_at.is_(None))).scalars())
        found = [
            c
            for c in portal.stores["contacts"].live
            if c in known
            and c not in tasked
            and portal.stores["contacts"].by_id[c].props.get("email")
            and not self.tasks_on(c)
        ]
        assert len(found) >= count, "the generated portal has too few contacts without a task"
        return found[:count]

    def tasks_on(self, contact_id: int) -> int:
        """hubsync's tasks on a contact in the sandbox portal."""
        portal = self.sb.portal
        with portal.lock:
            linked = portal.assoc.of("contacts", contact_id, "tasks")
            return sum(1 for t in linked if portal.stores["tasks"].get(t) is not None)


@contextmanager
def synced_world(
    database_url: str, tmp: Path, *, contacts: int = 120, work_lock: WorkLock | None = None
) -> Iterator[World]:
    """A sandbox portal synced once into `database_url`, its webhooks subscribed to a receiver (whose batches take
    `work_lock`, when given: the lock of a cycle the test runs)."""
    with start_sandbox(contacts=contacts, seed=11, rate_limits=False) as sb:
        client = fast_client(sb)
        setup(client, PushConfig())
        env = {"HUBSPOT_ACCESS_TOKEN": sb.token, "HUBSYNC_API_BASE_URL": sb.url, "HUBSYNC_DATABASE_URL": database_url}
        settings = webhook_settings(tmp, env)
        engine = open_database(database_url)
        clock = lambda: portal_now(sb.portal)  # noqa: E731  (the portal's time, which the test moves)
        try:
            run_cycle(settings, engine, client, clock=clock)
            with receiver(settings, engine, client, clock=clock, work_lock=work_lock) as rx:
                sb.webhooks.subscribe(Subscription(rx.url, SECRET, properties=SUBSCRIBED))
                yield World(sb, client, rx)
        finally:
            sb.webhooks.subscribe(None)
            client.close()
            engine.dispose()


def wait_until(done: Callable[[], bool], *, what: str, timeout: float = 60.0) -> None:
    """A liveness bound for something that happens in another thread, not a performance figure."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def with_secret(settings: Settings, secret: str) -> Settings:
    return replace(settings, webhook_secret=Secret(secret))
