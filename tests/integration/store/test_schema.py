from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import hubsync.store.tables  # noqa: F401  (registers the tables)
from hubsync.store.db import head_revision, make_engine, upgrade

EXPECTED_TABLES = {
    "contact",
    "company",
    "owner",
    "deal",
    "engagement",
    "association",
    "activity",
    "sync_cursor",
    "contact_score",
    "company_score",
    "score_history",
    "pushed_values",
    "push_state",
    "pending_rescore",
    "task",
    "open_task",
    "contact_outcome",
    "run",
    "lease",
    "webhook_event",
    "alembic_version",
}


def test_upgrade_creates_every_table_from_empty_and_is_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    assert set(sa.inspect(engine).get_table_names()) == set()
    assert upgrade(engine) == head_revision()
    assert set(sa.inspect(engine).get_table_names()) == EXPECTED_TABLES
    # A second upgrade changes nothing and fails on nothing.
    assert upgrade(engine) == head_revision()
    assert set(sa.inspect(engine).get_table_names()) == EXPECTED_TABLES
    engine.dispose()


def test_migrations_match_the_table_models(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_processes_upgrading_an_empty_database_at_once_all_succeed(database_url: str) -> None:
    # Two `hubsync run` started together on a new database: every one must end at head, none fail.
    code = "import sys; from hubsync.store.db import upgrade, make_engine; print(upgrade(make_engine(sys.argv[1])))"
    procs = [
        subprocess.Popen(  # noqa: S603  (this interpreter, fixed code)
            [sys.executable, "-c", code, database_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    # The last line is the revision (an unconfigured structlog also prints its events to stdout).
    results = [(p.wait(timeout=120), (p.stdout.read() if p.stdout else "").strip().splitlines()[-1]) for p in procs]
    assert results == [(0, head_revision())] * 4
