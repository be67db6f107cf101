from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from hubsync.records import Contact
from hubsync.store.crm import compare_with_stored, store_objects
from hubsync.store.db import open_database

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _contact(contact_id: int, **changes: object) -> Contact:
    base = Contact(
        id=contact_id,
        email=f"c{contact_id}@example.com",
        jobtitle="Marketing Manager",
        updated_at=T0,
        properties={"jobtitle": "Marketing Manager", "lastmodifieddate": "2026-04-01T08:00:00Z"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # test data: the keywords are Contact fields


def test_only_real_changes_count_not_a_moved_modified_date(engine: Engine) -> None:
    with engine.begin() as conn:
        store_objects(conn, [_contact(1), _contact(2)])
    later = T0 + timedelta(minutes=5)
    # Contact 1 was read again only because hubsync wrote its scores: its modified date moved, nothing else.
    own_write = _contact(1, updated_at=later, properties={"jobtitle": "Marketing Manager", "lastmodifieddate": "x"})
    promoted = _contact(2, jobtitle="Head of Marketing", updated_at=later)
    new = _contact(3)
    with engine.begin() as conn:
        assert compare_with_stored(conn, [own_write, promoted, new]).changed == {2, 3}
