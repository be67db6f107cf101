"""Issue 16, acceptance 2: `hubsync run` with webhooks, as subprocesses on SQLite and PostgreSQL.

* Killed (SIGKILL) after it answered 2xx and before it processed: a standby (another holder has the lease) receives
  and stores, and dies; the next `hubsync run` takes the lease and processes what the dead one stored, once (one
  task), and a delivery of the same events again changes nothing.
* SIGTERM while HubSpot is delivering: requests in flight are answered and their events stored, the service exits 0,
  its lease released; the next start processes everything stored.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.clock import system_clock
from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.lease import LEASE_NAME
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.webhooks import Subscription
from hubsync.settings import PushConfig, load_settings
from hubsync.store import lease
from hubsync.store.db import open_database
from hubsync.store.tables import lease_t, run_t, webhook_event_t
from tests.integration.webhooks.world import SECRET, SUBSCRIBED, WEBHOOKS_ON, post_signed
from tests.support.cli import cli_env, log_events, start_hubsync
from tests.support.config import UNPACED_CONFIG, WHOLE_HISTORY, config_with
from tests.support.sandbox import fast_client, portal_now

DEADLINE_S = 120.0
# Holds the lease for the first process, so that it is a standby: it receives and stores, never processes.
ELSEWHERE = "elsewhere:1:0.test"


class Running:
    """One `hubsync run` subprocess with webhooks on; its JSON log (stderr) in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as err:
            self.proc = start_hubsync(env, "run", "--cycle-seconds", "3600", stdout=subprocess.DEVNULL, stderr=err)

    def logged(self, name: str) -> dict[str, Any] | None:
        return next(iter(log_events(self.log, name)), None)

    def url(self) -> str:
        _wait("the receiver listening", lambda: self.logged("webhooks.listening") is not None, self)
        listening = self.logged("webhooks.listening") or {}
        return f"http://127.0.0.1:{listening['port']}{listening['path']}"

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _wait(what: str, done: Callable[[], bool], running: Running | None = None) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        if running is not None and running.proc.poll() is not None:
            pytest.fail(f"hubsync run exited ({running.proc.returncode}) waiting for {what}:\n{running.tail()}")
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE_S:.0f} s"
        time.sleep(0.05)


def _events(engine: Engine) -> dict[int, Any]:
    """Stored events: event id → when processed (None: waiting)."""
    t = webhook_event_t
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(t.c.event_id, t.c.processed_at)).all())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=100, seed=23, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def env(sandbox: Sandbox, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The service's environment, on a portal set up and synced once (in this process: quicker than two commands)."""
    config = config_with(tmp_path, {**WEBHOOKS_ON, **UNPACED_CONFIG, **WHOLE_HISTORY})
    env = {
        **cli_env(database_url, sandbox=sandbox, config=config, sandbox_clock=True),
        "HUBSYNC_WEBHOOK_SECRET": SECRET,
    }
    client = fast_client(sandbox)
    engine = open_database(database_url)
    try:
        setup(client, PushConfig())
        run_cycle(load_settings(env, str(config)), engine, client, clock=lambda: portal_now(sandbox.portal))
    finally:
        client.close()
        engine.dispose()
    # Deliveries a stopped service missed are retried soon: the next one takes them within the test.
    sandbox.webhooks.backoff = 0.1
    return env


def _tasks_on(sb: Sandbox, contact_id: int) -> int:
    with sb.portal.lock:
        return sum(1 for t in sb.portal.assoc.of("contacts", contact_id, "tasks") if sb.portal.stores["tasks"].get(t))


@pytest.mark.slow
def test_events_answered_then_killed_are_processed_after_restart_once(
    sandbox: Sandbox, env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    engine = open_database(database_url)
    standby = active = None
    try:
        assert lease.acquire(engine, LEASE_NAME, ELSEWHERE, now=system_clock(), ttl=timedelta(hours=1))
        standby = Running(env, tmp_path / "standby.log")
        sandbox.webhooks.subscribe(Subscription(standby.url(), SECRET, properties=SUBSCRIBED))
        contact = next(c for c in sandbox.portal.stores["contacts"].live if not _tasks_on(sandbox, c))
        sandbox.portal.add_form_submission(contact, "Demo anfragen", page_url="https://leadwerk.example/demo")
        _wait("the events delivered", sandbox.webhooks.idle, standby)
        assert sandbox.webhooks.stats().get("status_204", 0) >= 1
        stored = _events(engine)
        assert stored, "answered 2xx, so stored"
        assert all(at is None for at in stored.values()), "a standby processes nothing"
        standby.proc.send_signal(signal.SIGKILL)
        standby.proc.wait(timeout=30)

        lease.release(engine, LEASE_NAME, ELSEWHERE)
        active = Running(env, tmp_path / "active.log")
        url = active.url()
        _wait("the stored events processed", lambda: all(at is not None for at in _events(engine).values()), active)
        processed = _events(engine)
        assert set(processed) == set(stored)
        assert _tasks_on(sandbox, contact) == 1

        # HubSpot delivers the same events again: answered, stored once, not processed again.
        sandbox.webhooks.subscribe(Subscription(url, SECRET, properties=SUBSCRIBED))
        with engine.connect() as conn:
            payloads = list(conn.execute(sa.select(webhook_event_t.c.payload)).scalars())
        answer = post_signed(url, json.dumps([dict(p) for p in payloads]).encode())
        assert answer.status_code == 204
        assert _events(engine) == processed
        assert _tasks_on(sandbox, contact) == 1

        active.proc.send_signal(signal.SIGTERM)
        assert active.proc.wait(timeout=60) == 0, active.tail()
    finally:
        sandbox.webhooks.subscribe(None)
        for running in (standby, active):
            if running is not None:
                running.kill()
        engine.dispose()


@pytest.mark.slow
def test_sigterm_while_webhooks_arrive_answers_what_is_in_flight_and_exits_0(
    sandbox: Sandbox, env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    engine = open_database(database_url)
    first = second = None
    stop_changes = threading.Event()
    try:
        first = Running(env, tmp_path / "first.log")
        sandbox.webhooks.subscribe(Subscription(first.url(), SECRET, properties=SUBSCRIBED))
        contacts = sandbox.portal.stores["contacts"].live[:50]

        def change() -> None:
            n = 0
            while not stop_changes.is_set() and n < 3_000:
                sandbox.portal.update("contacts", contacts[n % len(contacts)], {"jobtitle": f"Leitung Einkauf {n}"})
                n += 1
                time.sleep(0.001)

        changes = threading.Thread(target=change, daemon=True)
        changes.start()
        _wait("a few hundred events delivered", lambda: sandbox.webhooks.stats().get("delivered", 0) >= 300, first)
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=60) == 0, first.tail()
        stop_changes.set()
        changes.join()
        delivered = sandbox.webhooks.stats().get("delivered", 0)
        assert first.logged("webhooks.stopped") is not None
        assert first.logged("run.stopped") is not None
        with engine.connect() as conn:
            assert conn.execute(sa.select(lease_t)).all() == []
            assert "running" not in set(conn.execute(sa.select(run_t.c.outcome)).scalars())
        # Every event answered 2xx is stored (the sandbox delivers what it could not again, to the next process).
        assert len(_events(engine)) >= delivered

        second = Running(env, tmp_path / "second.log")
        sandbox.webhooks.subscribe(Subscription(second.url(), SECRET, properties=SUBSCRIBED))
        _wait("the rest delivered", sandbox.webhooks.idle, second)
        _wait("every stored event processed", lambda: all(at is not None for at in _events(engine).values()), second)
        assert len(_events(engine)) == sandbox.webhooks.stats()["events"]
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(timeout=60) == 0, second.tail()
    finally:
        stop_changes.set()
        sandbox.webhooks.subscribe(None)
        for running in (first, second):
            if running is not None:
                running.kill()
        engine.dispose()
