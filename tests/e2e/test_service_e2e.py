"""Issue 7, acceptance 1: the real CLI end to end against a sandbox portal hosted in this process.

`hubsync setup`, then `hubsync run --cycle-seconds 2` (a subprocess scoring as of the portal's clock) while simulated
weeks of portal life pass between its cycles, then SIGTERM, then `hubsync status`. Afterwards the portal itself is
checked: every live contact and company carries exactly the hubsync property values computed locally, and every
task the local database holds open exists in the portal, associated to its contact, with an owner and the marker.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from hubsync.hubspot.tasks_api import COMPLETED
from hubsync.render.task_text import MARKER
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.simulate import simulate
from hubsync.settings import load_settings
from hubsync.store.db import open_database
from hubsync.store.tables import contact_score_t, run_t, task_t
from tests.support.cli import cli_env, run_hubsync, start_hubsync
from tests.support.config import UNPACED_CONFIG, config_with
from tests.support.portal_checks import assert_properties_in_portal

# Generous: a cycle of this portal takes a few seconds; a loaded CI machine may take many times that.
DEADLINE_S = 120.0
WEEKS = 3


def _runs(engine: Engine) -> Sequence[Row[Any]]:
    with engine.connect() as conn:
        return conn.execute(sa.select(run_t).order_by(run_t.c.id)).all()


def _wait(what: str, done: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        if proc.poll() is not None:
            pytest.fail(f"hubsync run exited ({proc.returncode}) while waiting for {what}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {DEADLINE_S:.0f} s:\n{_tail(log)}")
        time.sleep(0.2)


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else "(no log)"


def _ms(row_time: datetime) -> int:
    return round(row_time.timestamp() * 1000)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=400, seed=21, rate_limits=False) as sb:
        yield sb


@pytest.mark.slow
def test_setup_run_sigterm_status_leaves_the_portal_equal_to_the_local_scores(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    config = config_with(tmp_path, UNPACED_CONFIG)
    env = cli_env(database_url, sandbox=sandbox, config=config, sandbox_clock=True)
    done = run_hubsync(env, "setup", timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr[-2000:]

    engine = open_database(database_url)  # `hubsync setup` creates no tables; the schema exists before `run` starts
    log = tmp_path / "run.log"
    buyers: list[int] = []
    with log.open("wb") as out:
        proc = start_hubsync(env, "run", "--cycle-seconds", "2", stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait("first finished cycle", lambda: any(r.outcome == "ok" for r in _runs(engine)), proc, log)
            for week in range(WEEKS):
                # Hold the portal while a week passes, so a cycle reads the clock either before or after all of it
                # (never a clock that is ahead of activity still being added behind it).
                with sandbox.portal.lock:
                    buyers += simulate(sandbox.portal, days=7, seed=100 + week, buyers=5).buyers
                    after = sandbox.portal.now
                _wait(
                    f"cycle after simulated week {week + 1}",
                    lambda: any(r.outcome == "ok" and _ms(r.started_at) >= after for r in _runs(engine)),  # noqa: B023  (called before `after` changes)
                    proc,
                    log,
                )
            # Quiet: a cycle after the last week that found nothing to write (hubsync's own writes came back and
            # scored the same). Only then is SIGTERM sure not to cut a push short.
            _wait(
                "idle cycle",
                lambda: any(
                    r.outcome == "ok" and _ms(r.started_at) >= after and r.pushed == 0 and r.tasks_created == 0
                    for r in _runs(engine)
                ),
                proc,
                log,
            )
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, _tail(log)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    runs = _runs(engine)
    assert len(runs) >= WEEKS + 2
    assert all(r.outcome in {"ok", "stopped"} for r in runs), [(r.id, r.outcome, r.error) for r in runs]
    assert sum(r.tasks_created for r in runs) > 0

    status = run_hubsync(env, "status", timeout=DEADLINE_S)
    assert status.returncode == 0, status.stdout + status.stderr[-2000:]
    assert "health: OK" in status.stdout
    assert "active syncer: none holds the lease now" in status.stdout  # released on SIGTERM
    for r in runs[-10:]:  # the last ten runs are listed
        assert f"#{r.id} cycle" in status.stdout

    try:
        assert_properties_in_portal(sandbox, engine, load_settings({}, str(config)).config.push)
        _assert_tasks_in_portal(sandbox, engine, buyers)
    finally:
        engine.dispose()


def _assert_tasks_in_portal(sb: Sandbox, engine: Engine, buyers: Sequence[int]) -> None:
    with engine.connect() as conn:
        open_rows = conn.execute(
            sa.select(task_t.c.contact_id, task_t.c.owner_id, task_t.c.hubspot_task_id).where(task_t.c.state == "open")
        ).all()
        statuses: dict[int, str] = dict(
            conn.execute(sa.select(contact_score_t.c.contact_id, contact_score_t.c.status)).all()
        )
    assert open_rows, "no open hubsync task in the local database"
    with sb.portal.lock:
        tasks = sb.portal.store("tasks")
        in_portal = {
            task_id: (dict(tasks.by_id[task_id].props), sb.portal.assoc.of("tasks", task_id, "contacts"))
            for task_id in tasks.live
            if str(tasks.by_id[task_id].props.get("hs_task_subject", "")).startswith(MARKER)
        }
        owners = {o.id for o in sb.portal.owners}
    open_in_portal = {t for t, (props, _) in in_portal.items() if props.get("hs_task_status") != COMPLETED}
    # The same tasks on both sides: none missing in the portal, none created twice or lost track of.
    assert {int(r.hubspot_task_id) for r in open_rows} == open_in_portal
    for row in open_rows:
        props, contacts = in_portal[int(row.hubspot_task_id)]
        assert contacts == [row.contact_id]
        assert props.get("hubspot_owner_id") == str(row.owner_id)
        assert row.owner_id in owners
    # The story: a buyer who walked comparison → webinar → pricing → demo is sales ready and has a task.
    handed = {r.contact_id for r in open_rows}
    ready_buyers = [b for b in buyers if statuses.get(b) == "sales_ready"]
    assert ready_buyers, f"no simulated buyer became sales_ready: {[(b, statuses.get(b)) for b in buyers]}"
    assert set(ready_buyers) & handed, f"no sales-ready buyer ({ready_buyers}) got a task (tasks: {sorted(handed)})"
