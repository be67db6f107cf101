"""Acceptance 3: SIGKILL at 20 seeded random moments during a full sync of a 10,000-contact portal, re-running each
time, ends in the same database as an uninterrupted sync: nothing lost, nothing duplicated."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubsync.sandbox.server import start_sandbox
from hubsync.store.cursors import load_cursor
from hubsync.store.db import open_database
from tests.support.cli import cli_env, run_hubsync, start_hubsync
from tests.support.config import UNPACED_CONFIG, WHOLE_HISTORY, config_with
from tests.support.paths import REPO

from .portal_state import differences, stored
from .pull_support import UNPACED

KILLS = 20


def _startup_seconds() -> float:
    """How long a `hubsync` process takes before its first request: Python, hubsync and the SDK imported."""
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", "import hubsync.cli, hubsync.jobs.pull, hubsync.jobs.cycle"], check=True, cwd=REPO
    )
    return time.monotonic() - began


@pytest.mark.slow
def test_sigkill_and_rerun_equals_uninterrupted_sync(tmp_path: Path) -> None:
    config = config_with(tmp_path, {**UNPACED_CONFIG, **WHOLE_HISTORY})
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    killed = f"sqlite:///{tmp_path / 'killed.db'}"
    rng = random.Random(20)  # noqa: S311 -- seeded kill moments, not cryptography
    with start_sandbox(
        contacts=10_000, seed=13, rate_limits=False, per_ten_seconds=UNPACED, activities_per_contact=8
    ) as sb:
        began = time.monotonic()
        done = run_hubsync(cli_env(reference, sandbox=sb, config=config), "sync", "--no-push", timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        duration = time.monotonic() - began
        startup = _startup_seconds()
        work = max(duration - startup, 1.0)
        kills = 0
        for _ in range(KILLS):
            # Spread the kills over the full sync: a re-run starts Python and imports hubsync (measured on this
            # machine), then goes on for up to 1.5 x its share of the sync's work. The seeded draws add up to about
            # 3/4 of the work, so the last kill still lands inside the sync however fast the machine is.
            delay = startup + rng.uniform(0.0, 1.5 * work / KILLS)
            proc = start_hubsync(
                cli_env(killed, sandbox=sb, config=config),
                "sync",
                "--no-push",
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
        assert unfinished, f"the sync finished before the last kill ({duration=:.1f} s, {startup=:.1f} s)"
        final = run_hubsync(cli_env(killed, sandbox=sb, config=config), "sync", "--no-push", timeout=600)
        assert final.returncode == 0, final.stderr[-2000:]
    assert kills == KILLS, f"{KILLS - kills} re-runs finished before their kill ({duration=:.1f} s, {startup=:.1f} s)"
    engines = [open_database(reference), open_database(killed)]
    try:
        want, have = (stored(engine) for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
    assert len(want["contacts"]) > 10_000
    diff = differences(want, have)
    assert diff == {}, repr(diff)
