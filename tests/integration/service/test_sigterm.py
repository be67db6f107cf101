"""Issue 7, acceptance 3: SIGTERM in the middle of `hubsync run`'s first (long) cycle.

The sandbox enforces a starter-sized budget (100 requests per 10 s) so the first full sync takes many seconds;
SIGTERM arrives while the contacts are being listed. The service must exit 0 promptly, record the run as "stopped",
release its lease, and leave every cursor pointing at data that is completely stored. `hubsync sync --no-push`
then finishes the job, and the database equals the portal: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.streams import crm
from hubsync.jobs.cycle import pull_options
from hubsync.jobs.pull import STREAMS
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.settings import PushConfig, load_settings
from hubsync.store.db import open_database
from hubsync.store.tables import contact_t, cursor_t, lease_t, run_t
from tests.integration.pull.portal_state import differences, expected, stored
from tests.support.cli import cli_env, run_hubsync, start_hubsync
from tests.support.config import config_with
from tests.support.sandbox import fast_client, portal_now

PER_10S = 100  # HubSpot's starter budget
DEADLINE_S = 120.0
# Wait for this many contacts stored (a few list pages) before SIGTERM: the contacts listing is then in progress.
CONTACTS_BEFORE_STOP = 200
CRM_SECTIONS = {"companies": "companies", "contacts": "contacts", "deals": "deals"}


def _contacts_stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(contact_t)).scalar_one())


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Rate limits on, at a starter budget; the events API answers (enterprise portal), so page views count too.
    with start_sandbox(contacts=3000, seed=17, per_ten_seconds=PER_10S, activities_per_contact=5) as sb:
        # As in a deployment: `hubsync setup` once before the service starts (it checks before its first cycle).
        setup(fast_client(sb), PushConfig())
        yield sb


@pytest.mark.slow
def test_sigterm_mid_cycle_stops_cleanly_and_a_later_sync_completes_the_portal(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    config = config_with(tmp_path, {"# requests_per_10s = 190": f"requests_per_10s = {PER_10S}"})
    settings = load_settings({}, str(config))
    options = pull_options(settings)
    # portal_state compares the pull's fixed property lists; profile rules naming more would need them too.
    assert set(options.contact_properties) <= set(crm.CONTACT_PROPERTIES)
    assert set(options.company_properties) <= set(crm.COMPANY_PROPERTIES)
    env = cli_env(database_url, sandbox=sandbox, config=config, sandbox_clock=True)
    engine = open_database(database_url)
    log = tmp_path / "run.log"
    try:
        with log.open("wb") as out:
            proc = start_hubsync(env, "run", stdout=out, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + DEADLINE_S
                while _contacts_stored(engine) < CONTACTS_BEFORE_STOP:
                    assert proc.poll() is None, _tail(log)
                    assert time.monotonic() < deadline, f"no contacts stored within {DEADLINE_S:.0f} s\n{_tail(log)}"
                    time.sleep(0.05)
                with engine.connect() as conn:
                    assert conn.execute(sa.select(run_t.c.outcome)).scalars().all() == ["running"]
                proc.send_signal(signal.SIGTERM)
                # A liveness bound (the page in hand, then exit), not a performance figure.
                assert proc.wait(timeout=30) == 0, _tail(log)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

        with engine.connect() as conn:
            runs = conn.execute(sa.select(run_t)).all()
            leases = conn.execute(sa.select(lease_t)).all()
            cursors = {r.stream: dict(r.state) for r in conn.execute(sa.select(cursor_t))}
        assert [(r.outcome, r.error) for r in runs] == [("stopped", "stopped on request")]
        assert runs[0].finished_at is not None
        assert leases == []
        now = portal_now(sandbox.portal)
        history = timedelta(days=settings.config.sync.history_days)
        want = expected(sandbox.portal, run_started=now, history=history)
        _assert_cursors_cover_stored_data(cursors, want, stored(engine))

        done = run_hubsync(env, "sync", "--no-push", timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        with engine.connect() as conn:
            outcomes = conn.execute(sa.select(run_t.c.outcome).order_by(run_t.c.id)).scalars().all()
        assert outcomes == ["stopped", "ok"]
        have = stored(engine)
    finally:
        engine.dispose()
    assert all(want[section] for section in want), "every section non-empty, so that equality means something"
    assert differences(want, have) == {}


def _assert_cursors_cover_stored_data(
    cursors: Mapping[str, Mapping[str, Any]], want: Mapping[str, Any], have: Mapping[str, Any]
) -> None:
    """Each CRM stream's cursor matches its stored rows exactly; nothing is stored for streams not reached."""
    # The stop came during the contacts listing (after the companies): what this test is about.
    assert cursors.get("contacts", {}).get("mode") == "full", cursors
    for stream, section in CRM_SECTIONS.items():
        state = cursors.get(stream)
        rows, truth = have[section], want[section]
        if state is None:
            assert rows == {}, f"{stream}: rows stored without a cursor"
            continue
        # No half-written row: every stored row equals the portal's record, field by field.
        wrong = [i for i in rows if rows[i] != truth.get(i)]
        assert wrong == [], f"{stream}: stored rows differ from the portal, e.g. {wrong[:3]}"
        live = {i for i, row in truth.items() if row["archived_at"] is None}
        if state.get("mode") == "full":
            # The listing stopped at `after` (the sandbox's page token is the next id): every live record below
            # it is stored, none above.
            after = int(state["after"])
            assert set(rows) == {i for i in live if i < after}, f"{stream}: stored rows do not end at the cursor"
        else:
            assert state.get("mode") == "incremental", state
            assert "window" not in state, state
            assert live <= set(rows), f"{stream}: the listing is marked done but records are missing"
    reached = STREAMS.index("contacts")
    for stream in STREAMS[reached + 1 :]:
        assert stream not in cursors, f"{stream} has a cursor although the stop came during the contacts"
    assert have["deals"] == {}
    assert have["activities"] == {}
    assert have["associations"] == set()
