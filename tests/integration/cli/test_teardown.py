"""Issue 18: `hubsync teardown` against the sandbox over HTTP, after a real setup and sync. A dry run changes nothing;
a run removes every hubsync property, both groups and (with --tasks close) every open hubsync task, and makes the
local database forget what it pushed; a second run writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, snapshot, start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import pushed_t, task_t
from tests.support.cli import cli_env, run_hubsync
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import fast_client, portal_now, sandbox_settings

OBJECT_TYPES = ("contacts", "companies")
# Requests that read although they are POSTs.
READS = ("/search", "/batch/read")


@dataclass
class Synced:
    sb: Sandbox
    db: str

    def teardown(self, *args: str) -> str:
        env = cli_env(self.db, sandbox=self.sb, config=DEFAULT_CONFIG, sandbox_clock=True)
        done = run_hubsync(env, "teardown", *args, log_json=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def snapshot(self) -> bytes:
        """The whole portal's state (records, properties, groups, tasks) as the sandbox saves it."""
        with self.sb.portal.lock:
            return snapshot.dumps(self.sb.portal)

    def hubsync_properties(self) -> dict[str, list[str]]:
        with self.sb.portal.lock:
            return {
                t: sorted(p for p in self.sb.portal.catalogs[t].properties if p.startswith("hubsync_"))
                for t in OBJECT_TYPES
            }

    def hubsync_groups(self) -> list[str]:
        with self.sb.portal.lock:
            return [t for t in OBJECT_TYPES if "hubsync" in self.sb.portal.catalogs[t].groups]

    def open_hubsync_tasks(self) -> list[int]:
        with self.sb.portal.lock:
            return [
                t.id
                for t in self.sb.portal.stores["tasks"].by_id.values()
                if t.archived_at is None
                and str(t.props.get("hs_task_subject", "")).startswith("[hubsync]")
                and t.props.get("hs_task_status") != "COMPLETED"
            ]

    def writes(self) -> int:
        endpoints = self.sb.stats()["endpoints"]
        return sum(
            sum(by_status.values())
            for endpoint, by_status in endpoints.items()
            if not endpoint.startswith("GET ") and not any(r in endpoint for r in READS)
        )

    def local(self, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
        engine = open_database(self.db)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())
        finally:
            engine.dispose()


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Synced]:
    """Set up and synced, with a SQLite database."""
    yield from _synced(f"sqlite:///{tmp_path / 'h.db'}")


@pytest.fixture
def synced_on(database_url: str) -> Iterator[Synced]:
    """The same, on SQLite and on PostgreSQL (what teardown changes in the database runs on both)."""
    yield from _synced(database_url)


def _synced(db: str) -> Iterator[Synced]:
    with start_sandbox(contacts=150, seed=11, rate_limits=False) as sb:
        settings = sandbox_settings(sb, db)
        engine = open_database(db)
        with fast_client(sb) as client:
            setup(client, settings.config.push)
            run_cycle(settings, engine, client, clock=lambda: portal_now(sb.portal))
        engine.dispose()
        world = Synced(sb, db)
        assert all(world.hubsync_properties().values())
        assert world.hubsync_groups() == list(OBJECT_TYPES)
        assert world.open_hubsync_tasks(), "the sync handed leads over"
        yield world


def test_a_dry_run_shows_the_plan_and_changes_nothing(synced: Synced) -> None:
    before = synced.snapshot()
    synced.sb.reset_stats()
    out = synced.teardown("--dry-run", "--tasks", "delete")
    assert "contacts: archive 9 properties: hubsync_data_completeness" in out
    assert "companies: archive the property group 'hubsync'" in out
    assert f"open hubsync tasks: {len(synced.open_hubsync_tasks())}, to be deleted (archived)" in out
    assert out.rstrip().endswith("dry run: nothing changed")
    assert synced.writes() == 0
    assert synced.snapshot() == before


def test_teardown_leaves_nothing_of_hubsync_and_a_second_run_writes_nothing(synced_on: Synced) -> None:
    synced = synced_on
    tasks = len(synced.open_hubsync_tasks())
    assert synced.local(pushed_t) > 0

    out = synced.teardown("--yes", "--tasks", "close")
    assert f"archived 18 properties and 2 property groups; {tasks:,} open tasks marked completed" in out
    assert synced.hubsync_properties() == {t: [] for t in OBJECT_TYPES}
    assert synced.hubsync_groups() == []
    assert synced.open_hubsync_tasks() == []
    # The local database no longer believes HubSpot holds hubsync's values, nor that the tasks are open.
    assert synced.local(pushed_t) == 0
    assert synced.local(task_t, task_t.c.state == "open") == 0

    synced.sb.reset_stats()
    again = synced.teardown("--yes", "--tasks", "close")
    assert again.startswith("nothing of hubsync's in this portal")
    assert synced.writes() == 0


def test_keep_leaves_the_tasks_and_without_a_terminal_teardown_asks_for_yes(synced: Synced) -> None:
    tasks = sorted(synced.open_hubsync_tasks())
    env = cli_env(synced.db, sandbox=synced.sb, config=DEFAULT_CONFIG, sandbox_clock=True)
    refused = run_hubsync(env, "teardown", log_json=False, timeout=60)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "hubsync: command line: --yes: teardown asks before it removes anything and nobody can answer here: pass --yes"
    )
    assert synced.hubsync_groups() == list(OBJECT_TYPES)

    out = synced.teardown("--yes")
    assert f"{len(tasks):,} open tasks kept" in out
    assert sorted(synced.open_hubsync_tasks()) == tasks
    assert synced.hubsync_groups() == []
