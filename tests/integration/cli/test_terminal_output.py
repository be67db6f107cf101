"""Issue 18: what an admin sees at a terminal. The log stays at warning unless asked (or goes to a file), progress
bars go to standard error (never into a pipe or a redirected output), owners and contacts are named, a quiet cycle
says that it only re-checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hubsync.jobs.setup import setup
from hubsync.sandbox import start_sandbox
from tests.support.cli import cli_env, run_hubsync, run_hubsync_at_terminal
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import fast_client, sandbox_settings

BAR = "━"  # what rich draws a bar with
LOG_LINE = re.compile(r"\[(debug|info|warning|error) *\]")


def test_at_a_terminal_the_log_is_quiet_unless_asked_or_goes_to_a_file(tmp_path: Path) -> None:
    def env(name: str) -> dict[str, str]:
        # A new database each time: creating its schema logs `store.upgraded` at info.
        return cli_env(f"sqlite:///{tmp_path / name}", config=DEFAULT_CONFIG)

    quiet = run_hubsync_at_terminal(env("quiet.db"), "db", "upgrade", timeout=120)
    assert quiet.returncode == 0, quiet.transcript
    assert [line for line in quiet.lines if not line.startswith("database ")] == []

    asked = run_hubsync_at_terminal(env("asked.db"), "--log-level", "info", "db", "upgrade", timeout=120)
    assert [line for line in asked.lines if LOG_LINE.search(line) and "store.upgraded" in line], asked.text
    assert not [line for line in asked.lines if line.startswith("{")], "readable, not JSON, at a terminal"

    log = tmp_path / "hubsync.log"
    to_file = run_hubsync_at_terminal({**env("file.db"), "HUBSYNC_LOG_FILE": str(log)}, "db", "upgrade", timeout=120)
    assert [line for line in to_file.lines if not line.startswith("database ")] == []
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert "store.upgraded" in {e["event"] for e in events}, "the file gets the service's level and JSON lines"


def test_a_sync_at_a_terminal_shows_bars_on_standard_error_and_names_people(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    with start_sandbox(contacts=200, seed=4, rate_limits=False) as sb:
        with fast_client(sb) as client:
            setup(client, sandbox_settings(sb, db).config.push)
        env = cli_env(db, sandbox=sb, config=DEFAULT_CONFIG, sandbox_clock=True)
        out = tmp_path / "sync.out"
        with out.open("wb") as redirected:
            first = run_hubsync_at_terminal(env, "sync", stdout=redirected, timeout=300)
        assert first.returncode == 0, first.transcript[-3000:]
        # The bars went to the terminal; the output file holds the summary alone.
        assert BAR in first.text
        assert re.search(r"contacts +━+ +[\d,]+ / [\d,]+", first.text), "a CRM listing has a total"
        summary = out.read_text(encoding="utf-8")
        assert BAR not in summary
        assert re.match(
            r"run 1: ok; pulled [\d,]+ records \([\d,]+ contacts and [\d,]+ companies new or changed\)", summary
        )
        assert not LOG_LINE.search(first.text)

        quiet = run_hubsync(env, "sync", log_json=True, timeout=300)
        assert quiet.returncode == 0, quiet.stderr[-3000:]
        assert BAR not in quiet.stderr, "no bars into a pipe"
        assert re.match(
            r"run 2: ok; pulled 0 records \(none new or changed\); re-checked [\d,]+ associations and \d+ owners$",
            quiet.stdout.splitlines()[0],
        )

        status = run_hubsync(env, "status", log_json=True, timeout=120)
        owners = re.findall(r"^  (\S[^(]*) \((\d+)\): (\d+) of (\d+)$", status.stdout, re.MULTILINE)
        assert owners, status.stdout
        assert all(not name.startswith("owner ") for name, *_ in owners), "owners by name, their id beside"
