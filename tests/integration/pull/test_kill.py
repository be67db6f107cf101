"""Acceptance 3: SIGKILL at 20 seeded random moments during a full sync of a 10,000-contact portal, re-running each
time, ends in the same database as an uninterrupted sync: nothing lost, nothing duplicated."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from hubsync.sandbox.server import start_sandbox
from hubsync.store.db import open_database
from hubsync.store.state import load_cursor

from .cli_runner import REPO, command, env, run, write_config
from .portal_state import differences, stored
from .pull_support import UNPACED

KILLS = 20


@pytest.mark.slow
def test_sigkill_and_rerun_equals_uninterrupted_sync(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml")
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    killed = f"sqlite:///{tmp_path / 'killed.db'}"
    rng = random.Random(20)  # noqa: S311 -- seeded kill moments, not cryptography
    with start_sandbox(
        contacts=10_000, seed=13, rate_limits=False, per_ten_seconds=UNPACED, activities_per_contact=8
    ) as sb:
        began = time.monotonic()
        done = run(env(sb.url, sb.token, reference, config), "sync", "--no-push", timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        duration = time.monotonic() - began
        kills = 0
        for _ in range(KILLS):
            # Spread the kills over the full sync: a re-run spends about a second starting Python, then goes on
            # for up to another 1.5 x its share of the uninterrupted sync's time.
            delay = rng.uniform(1.0, 1.0 + 1.5 * duration / KILLS)
            proc = subprocess.Popen(  # noqa: S603 -- our own CLI with fixed arguments
                command("sync", "--no-push"),
                cwd=REPO,
                env=env(sb.url, sb.token, killed, config),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
        # Every kill landed inside the full sync: its last stream had not finished when the last kill came.
        engine = open_database(killed)
        with engine.connect() as conn:
            unfinished = "synced_to" not in (load_cursor(conn, "web_events") or {})
        engine.dispose()
        assert unfinished
        final = run(env(sb.url, sb.token, killed, config), "sync", "--no-push", timeout=600)
        assert final.returncode == 0, final.stderr[-2000:]
    assert kills == KILLS
    engines = [open_database(reference), open_database(killed)]
    try:
        want, have = (stored(engine) for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
    assert len(want["contacts"]) > 10_000
    diff = differences(want, have)
    assert diff == {}, repr(diff)
