"""Acceptance 4 (CLI): 401 stops at once (exit 5), 403 MISSING_SCOPES names the scope (exit 6), a DAILY 429 ends
the run cleanly (exit 7, run "stopped", cursors saved) and the next run resumes and completes. One stderr line each."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.sandbox.server import start_sandbox
from hubsync.store.cursors import all_cursors
from hubsync.store.db import open_database
from hubsync.store.tables import run_t
from tests.support.cli import cli_env, run_hubsync
from tests.support.config import UNPACED_CONFIG, WHOLE_HISTORY, config_with

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


def _runs(database_url: str) -> list[tuple[str, str]]:
    engine = open_database(database_url)
    try:
        with engine.connect() as conn:
            table = run_t
            return [(r.kind, r.outcome) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    finally:
        engine.dispose()


def test_401_stops_at_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    with start_sandbox(contacts=50, seed=2, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        config = config_with(tmp_path, {**UNPACED_CONFIG, **WHOLE_HISTORY})
        result = run_hubsync(
            cli_env(db, sandbox=sb, token="pat-na1-00000000-0000-0000-0000-000000000000", config=config),
            "sync",
            "--no-push",
        )
        calls = sb.stats()["total"]
    assert result.returncode == 5, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("hubsync:")]
    assert len(lines) == 1
    assert "401" in lines[0]
    assert "HUBSPOT_ACCESS_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr
    # No retry storm: the first request failed, nothing was retried.
    assert calls == 1
    assert _runs(db) == [("sync", "failed")]


def test_403_missing_scope_named(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    with start_sandbox(contacts=50, seed=2, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        scopes = tuple(s for s in ("crm.objects.contacts.read", "crm.objects.owners.read", "forms", "content"))
        token = sb.add_token(scopes)  # no crm.objects.companies.read
        config = config_with(tmp_path, {**UNPACED_CONFIG, **WHOLE_HISTORY})
        result = run_hubsync(cli_env(db, sandbox=sb, token=token, config=config), "sync", "--no-push")
    assert result.returncode == 6, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("hubsync:")]
    assert len(lines) == 1
    assert "crm.objects.companies.read" in lines[0]


@pytest.mark.slow
def test_daily_quota_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    # The 10-second budget raised, the search budget as shipped (5 per second).
    config = config_with(tmp_path, {"# requests_per_10s = 190": "requests_per_10s = 10000", **WHOLE_HISTORY})
    with start_sandbox(contacts=400, seed=2, rate_limits=True, per_ten_seconds=100_000, per_day=40) as sb:
        environment = cli_env(db, sandbox=sb, config=config)
        first = run_hubsync(environment, "sync", "--no-push")
        assert first.returncode == 7, first.stderr
        # `hubsync sync` (the pipeline's command) reports the stop on stdout; nothing on stderr is a traceback.
        assert "stopped" in first.stdout
        assert "Traceback" not in first.stderr
        assert _runs(db) == [("sync", "stopped")]
        engine = open_database(db)
        with engine.connect() as conn:
            saved = all_cursors(conn)
        engine.dispose()
        assert saved, "the pages stored before the quota ran out keep their cursors"
        # The quota is back (a new day on the portal's clock): the next run continues and completes.
        sb.gate.limits.per_day = None
        second = run_hubsync(environment, "sync", "--no-push")
        assert second.returncode == 0, second.stderr
        assert [outcome for _, outcome in _runs(db)] == ["stopped", "ok"]
        engine = open_database(db)
        from tests.support.sandbox import portal_now  # noqa: PLC0415

        want = expected(
            sb.portal, run_started=portal_now(sb.portal), history=__import__("datetime").timedelta(days=3650)
        )
        diff = differences(want, stored(engine))
        engine.dispose()
        assert diff == {}, repr(diff)
