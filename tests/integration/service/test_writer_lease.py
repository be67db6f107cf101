"""Issue 12, one writer: `hubsync sync`, `push`, `backfill` and `score` (when it stores) take the lease `hubsync run`
holds. While another live process holds it they wait `[schedule] lease_wait_seconds`, then exit 10 naming the
holder; they renew it while they run and release it at the end; whoever takes it marks the runs a dead holder left
"running" as failed.

The lease measures liveness with the system clock, so these tests run on the real wall clock.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.clock import system_clock
from hubsync.errors import Interrupted, LeaseBusy
from hubsync.jobs.lease import LEASE_NAME, holder_id, holder_is_dead, writer_lease
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.limits import FaultSettings
from hubsync.settings import PushConfig, ScheduleConfig
from hubsync.store import lease
from hubsync.store.db import open_database, transaction
from hubsync.store.runs import start_run
from hubsync.store.tables import contact_t, lease_t, run_t
from tests.support.cli import cli_env, run_hubsync, start_hubsync
from tests.support.config import UNPACED_CONFIG, config_with
from tests.support.sandbox import fast_client

LEASE_S = 10  # the smallest lease the config allows
WAIT_S = 2
DEADLINE_S = 120.0


def _config(tmp_path: Path, *, wait_seconds: int) -> Path:
    return config_with(
        tmp_path,
        {
            "lease_seconds = 120": f"lease_seconds = {LEASE_S}",
            "lease_wait_seconds = 30": f"lease_wait_seconds = {wait_seconds}",
            **UNPACED_CONFIG,
        },
    )


def _wait_for(what: str, done: Any, proc: Any, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        assert proc.poll() is None, f"exited ({proc.returncode}) waiting for {what}:\n{tail}"
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE_S:.0f} s:\n{tail}"
        time.sleep(0.1)


def _runs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(run_t).order_by(run_t.c.id)).all())


def _leases(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(lease_t)).all())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=200, seed=31, rate_limits=False) as sb:
        setup(fast_client(sb), PushConfig())
        yield sb


@pytest.mark.slow
def test_writers_wait_for_the_service_then_give_up_and_sync_runs_once_it_stops(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(database_url, sandbox=sandbox, config=_config(tmp_path, wait_seconds=WAIT_S))
    engine = open_database(database_url)
    log = tmp_path / "run.log"
    try:
        with log.open("wb") as err, (tmp_path / "run.out").open("wb") as out:
            service = start_hubsync(env, "run", "--cycle-seconds", "2", stdout=out, stderr=err)
        try:
            _wait_for("the service to hold the lease", lambda: _leases(engine), service, log)

            writers = (("sync",), ("push",), ("backfill", "--since", "2026-01-01", "--no-progress"), ("score",))
            for command in writers:
                started = time.monotonic()
                result = run_hubsync(env, *command, log_json=False, timeout=60)
                waited = time.monotonic() - started
                assert result.returncode == 10, (command, result.stdout, result.stderr[-3000:])
                assert waited >= WAIT_S
                lines = [line for line in result.stderr.splitlines() if line.startswith("hubsync:")]
                assert len(lines) == 1, result.stderr
                assert "Traceback" not in result.stderr
                assert lines[0].startswith("hubsync: another hubsync process (host ")
                assert f", pid {service.pid}) holds the sync lease until" in lines[0]
                assert f"`hubsync {command[0]}` waited {WAIT_S} s" in lines[0]
            assert {_pid(r.holder) for r in _runs(engine)} == {service.pid}, "only the service ran"

            # A dry run writes nothing and needs no lease.
            preview = run_hubsync(env, "push", "--dry-run", log_json=False, timeout=60)
            assert preview.returncode == 0, preview.stderr[-3000:]
            # Nor does a score that stores nothing.
            past = run_hubsync(env, "score", "--as-of", "2026-01-01", log_json=False, timeout=60)
            assert past.returncode == 0, past.stderr[-3000:]

            service.send_signal(signal.SIGTERM)
            assert service.wait(timeout=30) == 0
        finally:
            if service.poll() is None:
                service.kill()
                service.wait()

        assert _leases(engine) == []
        done = run_hubsync(env, "sync", log_json=False, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        last = _runs(engine)[-1]
        assert (last.kind, last.outcome) == ("sync", "ok")
        # The sync recorded who ran it, so that a later holder can tell its run from a live one's.
        assert last.holder is not None
        assert _pid(last.holder) != service.pid
        assert _leases(engine) == []
    finally:
        engine.dispose()


def _pid(holder: str | None) -> int | None:
    return int(holder.rsplit(":", 2)[1]) if holder else None


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_stopped_sync_leaves_the_lease_and_its_run_to_the_next_sync(
    database_url: str, tmp_path: Path, stop_with: signal.Signals
) -> None:
    # Every answer slowed down, so that the first sync is still pulling when the signal comes.
    slow = FaultSettings(rate=1.0, kinds=("slow",), slow_seconds=0.2)
    with start_sandbox(contacts=300, seed=11, rate_limits=False, faults=slow) as sb:
        setup(fast_client(sb), PushConfig())
        env = cli_env(database_url, sandbox=sb, config=_config(tmp_path, wait_seconds=3 * LEASE_S))
        engine = open_database(database_url)
        log = tmp_path / "sync.log"
        try:
            with log.open("wb") as err, (tmp_path / "sync.out").open("wb") as out:
                first = start_hubsync(env, "sync", stdout=out, stderr=err)
            try:

                def pulling() -> bool:
                    with engine.connect() as conn:
                        return bool(conn.execute(sa.select(sa.func.count()).select_from(contact_t)).scalar_one())

                _wait_for("contacts stored", pulling, first, log)
                first.send_signal(stop_with)
                first.wait(timeout=30)
            finally:
                if first.poll() is None:
                    first.kill()
                    first.wait()
            [killed] = _runs(engine)
            assert _pid(killed.holder) == first.pid
            if stop_with == signal.SIGTERM:
                assert first.returncode == 0
                assert killed.outcome == "stopped"
                assert _leases(engine) == []  # released on the way out
            else:
                assert killed.outcome == "running"
                assert [_pid(row.holder) for row in _leases(engine)] == [first.pid]

            sb.set_faults(FaultSettings())
            second = run_hubsync(env, "sync", timeout=300)
            assert second.returncode == 0, second.stderr[-3000:]
            before, after = _runs(engine)
            assert after.outcome == "ok"
            events = _events_of(second.stderr)
            # Neither waited: a lease released on SIGTERM is free; a killed holder on this host is provably dead.
            assert not [e for e in events if e.get("event") == "lease.waiting"]
            if stop_with == signal.SIGKILL:
                replaced = [e for e in events if e.get("event") == "lease.dead_holder_replaced"]
                assert [_pid(e["dead_holder"]) for e in replaced] == [first.pid]
                # … and the run it left "running" is recorded as failed.
                assert (before.outcome, before.finished_at is not None) == ("failed", True)
                assert "killed or crashed" in before.error
            else:
                assert before.outcome == "stopped"
        finally:
            engine.dispose()


def _events_of(stderr: str) -> list[dict[str, Any]]:
    """The JSON log events among the lines of a command's standard error."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


# -- the lease helper itself ---------------------------------------------------------------------------------

SCHEDULE = ScheduleConfig(lease_seconds=LEASE_S, lease_wait_seconds=0)
TTL = timedelta(seconds=LEASE_S)


@pytest.mark.slow
def test_the_lease_is_renewed_while_the_command_runs_and_released_after(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with writer_lease(engine, SCHEDULE, command="sync", clock=system_clock, stop=threading.Event()) as held:
            # Past the lease's lifetime: only renewals keep another process out.
            time.sleep(LEASE_S + 1.5)
            taken = lease.acquire(engine, LEASE_NAME, "another", now=system_clock(), ttl=TTL)
            assert not taken
            assert lease.current_holder(engine, LEASE_NAME, now=system_clock()) == held.holder
        assert _leases(engine) == []
    finally:
        engine.dispose()


def _a_sync_whose_lease_is_taken_over(engine: Engine) -> None:
    stop = threading.Event()
    with writer_lease(engine, SCHEDULE, command="sync", clock=system_clock, stop=stop) as held:
        # Another process takes the lease over (as if this one had missed its renewals).
        lease.release(engine, LEASE_NAME, held.holder)
        assert lease.acquire(engine, LEASE_NAME, "thief:7:abcdef", now=system_clock(), ttl=TTL)
        # The next renewal notices and asks the command to stop; the command stops after the work in hand, as a
        # HubSpot call does once `stop` is set.
        assert stop.wait(LEASE_S), "the lost lease was not noticed"
        raise Interrupted("stopped on request")


@pytest.mark.slow
def test_a_command_whose_lease_is_taken_over_stops_with_exit_10(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with pytest.raises(LeaseBusy, match=r"another hubsync process \(host thief, pid 7\) took the sync lease over"):
            _a_sync_whose_lease_is_taken_over(engine)
        # The thief's lease is left alone.
        assert [row.holder for row in _leases(engine)] == ["thief:7:abcdef"]
    finally:
        engine.dispose()


def test_a_holder_on_another_host_is_waited_for_until_its_lease_runs_out(database_url: str) -> None:
    engine = open_database(database_url)
    elsewhere = "elsewhere:4242:1.abcdef"
    try:
        # Its process cannot be looked at from here: only its lease running out says it is gone.
        assert lease.acquire(engine, LEASE_NAME, elsewhere, now=system_clock(), ttl=timedelta(seconds=2))
        with transaction(engine) as conn:
            left = start_run(conn, "sync", now=system_clock(), holder=elsewhere)
        waiting = ScheduleConfig(lease_seconds=LEASE_S, lease_wait_seconds=30)
        started = time.monotonic()
        with writer_lease(engine, waiting, command="sync", clock=system_clock, stop=threading.Event()) as held:
            assert time.monotonic() - started >= 1.0
            assert held.abandoned_runs == 1
        [run] = _runs(engine)
        assert (run.id, run.outcome) == (left, "failed")
    finally:
        engine.dispose()


def test_only_a_holder_on_this_host_whose_process_is_gone_is_dead() -> None:
    mine = holder_id()
    host, _, nonce = mine.rsplit(":", 2)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # exited and reaped: no process has its pid now
    assert holder_is_dead(f"{host}:{gone.pid}:{nonce}")
    assert not holder_is_dead(mine)  # this very process
    assert not holder_is_dead(f"{host}:1:{nonce}")  # alive (init)
    assert not holder_is_dead(f"elsewhere:{gone.pid}:{nonce}")  # another host: cannot tell
    namespace, token = nonce.split(".")
    assert not holder_is_dead(f"{host}:{gone.pid}:{int(namespace) + 1}.{token}")  # another container
    assert not holder_is_dead(f"{host}:{gone.pid}:{token}")  # an id without a namespace


def test_waiting_for_the_lease_ends_on_a_stop_request(database_url: str) -> None:
    engine = open_database(database_url)
    stop = threading.Event()
    try:
        assert lease.acquire(engine, LEASE_NAME, "service:1:aaaaaa", now=system_clock(), ttl=TTL)
        waiting = ScheduleConfig(lease_seconds=LEASE_S, lease_wait_seconds=60)
        threading.Timer(0.5, stop.set).start()
        started = time.monotonic()
        with (
            pytest.raises(Interrupted, match="while waiting for the sync lease"),
            writer_lease(engine, waiting, command="sync", clock=system_clock, stop=stop),
        ):
            pytest.fail("the lease was taken from a live holder")
        assert time.monotonic() - started < 10
        assert [row.holder for row in _leases(engine)] == ["service:1:aaaaaa"]
    finally:
        engine.dispose()
