"""Bringing a test database to a given migration, to test what a later one does to the rows of an existing one."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from hubsync.store.db import MIGRATIONS


def upgrade_to(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def table(engine: sa.Engine, name: str) -> sa.Table:
    """The table as the database has it now (reflected), for rows written without the current models."""
    return sa.Table(name, sa.MetaData(), autoload_with=engine)
