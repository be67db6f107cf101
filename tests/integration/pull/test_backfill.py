"""`hubsync backfill --since DATE`: interrupted (SIGKILL) and run again it resumes, finished it equals the portal,
run once more it changes nothing; each run is recorded."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.sandbox.server import start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import run_t
from tests.support.cli import cli_env, run_hubsync, start_hubsync
from tests.support.config import UNPACED_CONFIG, WHOLE_HISTORY, config_with

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


@pytest.mark.slow
def test_backfill_resumes_and_is_idempotent(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    config = config_with(tmp_path, {**UNPACED_CONFIG, **WHOLE_HISTORY})
    args = ("backfill", "--since", "2019-01-01", "--no-progress")
    with start_sandbox(contacts=2000, seed=6, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        environment = cli_env(db, sandbox=sb, config=config)
        proc = start_hubsync(environment, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until it has stored something, then kill it mid-way.
        engine = open_database(db)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(sa.text("SELECT count(*) FROM contact")).scalar_one() > 0:
                    break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resumed = run_hubsync(environment, *args)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert "(resumed)" in resumed.stdout
        # The backfill's windows run from its date to the wall clock's now, past the portal's clock.
        now = datetime.now(UTC)
        want = expected(sb.portal, run_started=now, history=now - datetime(2019, 1, 1, tzinfo=UTC))
        first = stored(engine)
        assert differences(want, first) == {}
        again = run_hubsync(environment, *args)
        assert again.returncode == 0, again.stderr[-2000:]
        assert "(started)" in again.stdout
        assert stored(engine) == first
        table = run_t
        with engine.connect() as conn:
            runs = [(r.kind, r.outcome) for r in conn.execute(sa.select(table).order_by(table.c.id))]
        engine.dispose()
    # The killed run could not record its end; the next backfill, taking the lease from the dead process, recorded it
    # as failed. The others finished.
    assert runs == [("backfill", "failed"), ("backfill", "ok"), ("backfill", "ok")]
