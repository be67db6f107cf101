from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from hubsync.store.db import open_database
from hubsync.store.runs import RunCounts, finish_run, start_run
from tests.support.cli import cli_env, run_hubsync


def _status(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_hubsync(cli_env(db), "status", *args, log_json=False, timeout=120)


def _run(db: str, outcome: str, *, minutes_ago: float, error: str | None = None) -> None:
    engine = open_database(db)
    finished = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with engine.begin() as conn:
        run_id = start_run(conn, "cycle", now=finished - timedelta(minutes=1), holder="host:1:abc")
        counts = RunCounts(pulled=12, scored=10, pushed=3, api_calls=20, effective_threshold=74, free_capacity=6)
        finish_run(conn, run_id, outcome=outcome, counts=counts, now=finished, error=error)
    engine.dispose()


@pytest.fixture
def db(database_url: str) -> str:
    return database_url


def test_no_run_yet_is_stale(db: str) -> None:
    result = _status(db)
    assert result.returncode == 9
    assert "no run has finished yet" in result.stdout


def test_a_recent_good_run_is_healthy_and_shows_the_handoff(db: str) -> None:
    _run(db, "ok", minutes_ago=5)
    result = _status(db)
    assert result.returncode == 0, result.stdout
    assert "health: OK" in result.stdout
    assert "effective threshold 74, free sales capacity 6" in result.stdout
    # The handoff's open ends, empty here (tests/integration/push/test_push_capacity.py fills them).
    assert "waiting for capacity: 0 lead(s)" in result.stdout
    assert "owners beyond capacity: none" in result.stdout
    assert "due a task but not handed over: 0" in result.stdout


def test_a_failed_last_run_exits_8_and_lists_the_error(db: str) -> None:
    _run(db, "ok", minutes_ago=30)
    _run(db, "failed", minutes_ago=5, error="the access token was rejected (401)")
    result = _status(db)
    assert result.returncode == 8
    assert "the access token was rejected (401)" in result.stdout


def test_an_old_last_good_run_is_stale(db: str) -> None:
    _run(db, "ok", minutes_ago=91)  # the default max age is 90 minutes
    assert _status(db).returncode == 9


def test_a_quota_stop_counts_as_finished(db: str) -> None:
    _run(db, "stopped", minutes_ago=2, error="daily API quota reserve reached; continues next run")
    assert _status(db).returncode == 0


def test_json_output_is_machine_readable(db: str) -> None:
    _run(db, "failed", minutes_ago=1, error="boom")
    result = _status(db, "--json")
    assert result.returncode == 8
    report = json.loads(result.stdout)
    assert report["health"] == "failed"
    assert report["exit_code"] == 8
    assert report["runs"][0]["holder"] == "host:1:abc"
    assert report["errors"][0]["error"] == "boom"
    assert (report["waiting_for_capacity"], report["overloaded_owners"], report["not_handed_over"]) == (0, [], [])
