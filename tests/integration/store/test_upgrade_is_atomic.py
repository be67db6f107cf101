"""A migration that dies halfway leaves no trace: the next run upgrades from scratch instead of failing forever on
"table … already exists"."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.store.db import head_revision, make_engine, upgrade


class Killed(BaseException):
    pass


def test_a_migration_killed_after_some_tables_leaves_none_and_the_next_upgrade_succeeds(database_url: str) -> None:
    engine = make_engine(database_url)
    created = 0

    def die_at_the_fifth_table(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal created
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created += 1
            if created == 5:
                raise Killed

    sa.event.listen(engine, "before_cursor_execute", die_at_the_fifth_table)
    with pytest.raises(Killed):
        upgrade(engine)
    sa.event.remove(engine, "before_cursor_execute", die_at_the_fifth_table)
    engine.dispose()
    assert created == 5
    assert set(sa.inspect(engine).get_table_names()) == set()

    assert upgrade(engine) == head_revision()
    assert "contact" in sa.inspect(engine).get_table_names()
    engine.dispose()
