"""Shared fixtures: the same store tests run on a SQLite file and on PostgreSQL.

PostgreSQL runs when HUBSYNC_TEST_POSTGRES_URL is set (`.ci/run` sets it). Each test gets a schema of its own,
dropped afterwards, so tests never see each other's rows. With CI=true an unreachable server fails the run instead
of skipping, so a green CI always means the PostgreSQL tests ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.pg_schema import fresh_schema

POSTGRES_URL = os.environ.get("HUBSYNC_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Tests must not inherit an admin's real settings from the environment.
for _name in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_ACCESS_TOKEN_FILE", "HUBSYNC_DATABASE_URL", "HUBSYNC_CONFIG"):
    os.environ.pop(_name, None)


def _postgres_or_skip() -> sa.Engine:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but HUBSYNC_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run in CI")
        pytest.skip("HUBSYNC_TEST_POSTGRES_URL not set")
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as err:
        engine.dispose()
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {str(err).splitlines()[0]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a fresh schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hubsync.db'}"
        return
    admin = _postgres_or_skip()
    try:
        with fresh_schema(admin, POSTGRES_URL, "t") as url:
            yield url
    finally:
        admin.dispose()
