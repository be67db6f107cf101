from __future__ import annotations

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
    "association",
    "activity",
    "sync_cursor",
    "contact_score",
    "company_score",
    "score_history",
    "pushed_values",
    "task",
    "run",
    "lease",
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
