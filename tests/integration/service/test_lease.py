"""Issue 7, acceptance 2: two `hubsync run` processes on one database; exactly one syncs, the other takes over
once the active one is killed and its lease has run out.

The lease measures liveness with the system clock, so this test runs on the real wall clock (no HUBSYNC_CLOCK).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import lease_t, run_t
from tests.support.cli import cli_env, run_hubsync, start_hubsync
from tests.support.config import UNPACED_CONFIG, config_with

LEASE_S = 10  # the smallest lease the config allows
CYCLE_S = 2
# The service renews (and a standby tries to take) the lease every third of its lifetime.
BEAT_S = LEASE_S / 3
# Slack for a loaded machine: process scheduling, a database write, the scheduler's tick.
SLACK_S = 10.0
DEADLINE_S = 120.0


class Service:
    """One `hubsync run` subprocess; its JSON log (stderr) in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as err, log.with_suffix(".out").open("wb") as out:
            self.proc = start_hubsync(env, "run", "--cycle-seconds", str(CYCLE_S), stdout=out, stderr=err)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                out.append(event)
        return out

    def logged(self, name: str) -> bool:
        return any(e.get("event") == name for e in self.events())

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _pid(holder: str | None) -> int | None:
    # A holder names its process as host:pid:nonce.
    return int(holder.rsplit(":", 2)[1]) if holder else None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _runs(engine: Engine) -> Sequence[Row[Any]]:
    with engine.connect() as conn:
        return conn.execute(sa.select(run_t).order_by(run_t.c.id)).all()


def _wait(what: str, done: Callable[[], bool], services: Sequence[Service]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        for s in services:
            if s.proc.poll() is not None:
                pytest.fail(f"hubsync run (pid {s.pid}) exited ({s.proc.returncode}) waiting for {what}:\n{s.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {DEADLINE_S:.0f} s:\n" + "\n---\n".join(s.tail() for s in services))
        time.sleep(0.2)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=200, seed=31, rate_limits=False) as sb:
        yield sb


@pytest.mark.slow
def test_one_of_two_services_syncs_and_the_other_takes_over_when_it_dies(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(
        database_url,
        sandbox=sandbox,
        config=config_with(tmp_path, {"lease_seconds = 120": f"lease_seconds = {LEASE_S}", **UNPACED_CONFIG}),
    )
    # As in a deployment: `hubsync setup` once, and the schema exists before the services start.
    setup = run_hubsync(env, "setup", log_json=False, timeout=None)
    assert setup.returncode == 0, setup.stderr[-2000:]
    engine = open_database(database_url)
    services = [Service(env, tmp_path / "a.log"), Service(env, tmp_path / "b.log")]
    try:
        _wait("three finished cycles", lambda: sum(r.outcome == "ok" for r in _runs(engine)) >= 3, services)
        holders = {r.holder for r in _runs(engine)}
        assert len(holders) == 1, f"runs by more than one process: {holders}"
        by_pid = {s.pid: s for s in services}
        active = by_pid[_pid(next(iter(holders))) or 0]
        standby = next(s for s in services if s is not active)
        _wait("the standby skipping a cycle", lambda: standby.logged("run.standby_skipped"), services)
        assert not active.logged("run.standby_skipped")
        assert not standby.logged("cycle.started")

        with engine.connect() as conn:
            lease = conn.execute(sa.select(lease_t)).one()
        assert _pid(lease.holder) == active.pid
        active.proc.send_signal(signal.SIGKILL)
        active.proc.wait(timeout=30)
        killed_at = datetime.now(UTC)

        def taken_over() -> bool:
            return any(_pid(r.holder) == standby.pid for r in _runs(engine))

        _wait("a cycle by the standby", taken_over, [standby])
        first = next(r for r in _runs(engine) if _pid(r.holder) == standby.pid)
        started = _utc(first.started_at)
        # Not before the dead holder's lease ran out (it was renewed at most once more after we read it) …
        assert started >= _utc(lease.expires_at)
        # … and soon after: the lease runs out, the next heartbeat takes it, the next cycle tick runs.
        assert started <= killed_at + timedelta(seconds=LEASE_S + BEAT_S + CYCLE_S + SLACK_S)
        assert standby.logged("run.active")

        _wait(
            "a finished cycle by the new holder",
            lambda: any(_pid(r.holder) == standby.pid and r.outcome == "ok" for r in _runs(engine)),
            [standby],
        )
        standby.proc.send_signal(signal.SIGTERM)
        assert standby.proc.wait(timeout=30) == 0, standby.tail()
        assert standby.logged("run.stopped")
        with engine.connect() as conn:
            assert conn.execute(sa.select(lease_t)).all() == []  # released on SIGTERM
        # After the takeover only the new holder ran; the dead one's last cycle may have been cut short.
        after = [r for r in _runs(engine) if r.id >= first.id]
        assert {_pid(r.holder) for r in after} == {standby.pid}
    finally:
        for s in services:
            s.stop()
        engine.dispose()
