"""Issue 12: a SQLite file deleted (or replaced) while hubsync uses it. Writes would go on succeeding into the
unlinked file, and a run would end "ok" having saved nothing anyone can read; instead the next commit fails with
one line and exit code 3."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.errors import StoreError
from hubsync.jobs.setup import setup
from hubsync.sandbox import start_sandbox
from hubsync.settings import PushConfig
from hubsync.store.cursors import all_cursors, save_cursor
from hubsync.store.db import open_database, transaction
from tests.support.cli import cli_env, start_hubsync
from tests.support.config import config_with
from tests.support.sandbox import fast_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEADLINE_S = 120.0


def _remove(path: Path) -> None:
    path.unlink()


def _replace(path: Path) -> None:
    # A restored backup: the same name, another file.
    copy = path.with_suffix(".copy")
    shutil.copyfile(path, copy)
    copy.replace(path)


@pytest.mark.parametrize("change", [_remove, _replace], ids=["deleted", "replaced"])
def test_a_commit_after_the_file_vanished_fails(tmp_path: Path, change: Callable[[Path], None]) -> None:
    path = tmp_path / "hubsync.db"
    engine = open_database(f"sqlite:///{path}")
    try:
        with transaction(engine) as conn:
            save_cursor(conn, "contacts", {"mode": "full"}, now=T0)
        change(path)
        vanished = pytest.raises(StoreError, match="was deleted or replaced while hubsync was using it")
        with vanished, transaction(engine) as conn:
            save_cursor(conn, "companies", {"mode": "full"}, now=T0)
    finally:
        engine.dispose()
    if path.exists():
        # Nothing of the refused transaction reached the file that is there now.
        check = open_database(f"sqlite:///{path}")
        with check.connect() as conn:
            assert set(all_cursors(conn)) == {"contacts"}
        check.dispose()


def _contacts_stored(path: Path) -> int:
    # Plain sqlite3 on the file, read-only: this test's reader must not recreate a deleted file.
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM contact")).scalar_one())
    except sa.exc.OperationalError:
        return 0  # not created yet
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_sync_whose_database_file_is_deleted_does_not_report_ok(tmp_path: Path) -> None:
    path = tmp_path / "hubsync.db"
    # A starter budget keeps the first sync busy for many seconds: the file is deleted while contacts are listed.
    with start_sandbox(contacts=1500, seed=5, per_ten_seconds=100) as sb:
        setup(fast_client(sb), PushConfig())
        config = config_with(tmp_path, {"# requests_per_10s = 190": "requests_per_10s = 100"})
        env = cli_env(f"sqlite:///{path}", sandbox=sb, config=config, sandbox_clock=True)
        log = tmp_path / "sync.log"
        with log.open("wb") as err, (tmp_path / "sync.out").open("wb") as out:
            proc = start_hubsync(env, "sync", stdout=out, stderr=err)
            try:
                deadline = time.monotonic() + DEADLINE_S
                while _contacts_stored(path) == 0:
                    assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
                    assert time.monotonic() < deadline, "no contacts stored in time"
                    time.sleep(0.1)
                path.unlink()
                code = proc.wait(timeout=DEADLINE_S)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    stdout = (tmp_path / "sync.out").read_text(encoding="utf-8")
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("hubsync:")]
    assert code == 3, stdout + "\n".join(lines)
    assert ": ok;" not in stdout
    assert len(lines) == 1
    assert f"the file {path} was deleted or replaced while hubsync was using it" in lines[0]
    assert "Traceback" not in log.read_text(encoding="utf-8")
