"""A record read again only because its modified date moved (hubsync's own write moved it) gets its date written,
not the whole row: `store_compared` leaves the row exactly as writing the record whole would, on each database and
whichever way the rows travel (one statement per row, or on PostgreSQL COPY into the stage and one `UPDATE … FROM`).
Compared as the database holds the rows (as text), so a different time format or JSON spelling would show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.records import Company, Contact, Deal
from hubsync.store.crm import compare_with_stored, store_compared, store_objects
from hubsync.store.tables import company_t, contact_t, deal_t
from hubsync.store.upsert import COPY_MIN_ROWS, update_stored

from .test_copy_upsert import ODD, _stored

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
Record = Contact | Company | Deal


def _contact(i: int, at: datetime) -> Contact:
    odd = ODD[i % len(ODD)]
    properties = {"firstname": odd, "hs_lastmodifieddate": at.isoformat(), "lastmodifieddate": at.isoformat()}
    return Contact(i, email=f"{i}@example.com", firstname=odd, jobtitle="CTO", updated_at=at, properties=properties)


def _company(i: int, at: datetime) -> Company:
    return Company(i, name=ODD[i % len(ODD)], updated_at=at, properties={"hs_lastmodifieddate": at.isoformat()})


def _deal(i: int, at: datetime) -> Deal:
    return Deal(i, name=ODD[i % len(ODD)], amount="1000", closed_won=i % 2 == 0, updated_at=at)


KINDS: dict[str, tuple[sa.Table, Callable[[int, datetime], Record]]] = {
    "contacts": (contact_t, _contact),
    "companies": (company_t, _company),
    "deals": (deal_t, _deal),
}


def _write(engine: Engine, table: sa.Table, first: Sequence[Record], how: Callable[[Any], object]) -> list[Any]:
    with engine.begin() as conn:
        conn.execute(sa.delete(table))
        store_objects(conn, first)
    with engine.begin() as conn:
        how(conn)
    with engine.connect() as conn:
        return _stored(conn, table)


@pytest.mark.parametrize("kind", sorted(KINDS))
# Below COPY_MIN_ROWS the rows go as one statement each on PostgreSQL too; above it, through the stage.
@pytest.mark.parametrize("n", [3, 2 * COPY_MIN_ROWS + 7])
def test_a_date_only_update_stores_what_writing_the_record_whole_stores(engine: Engine, kind: str, n: int) -> None:
    table, make = KINDS[kind]
    first = [make(i + 1, T0) for i in range(n)]
    # Moved a day and some microseconds: the stored text must show every digit alike.
    later = [make(i + 1, T0 + timedelta(hours=25, microseconds=i)) for i in range(n)]

    def date_only(conn: Any) -> None:
        compared = compare_with_stored(conn, later)
        assert (compared.changed, compared.moved) == (set(), {r.id for r in later})
        store_compared(conn, later, compared)

    moved = _write(engine, table, first, date_only)
    assert moved == _write(engine, table, first, lambda conn: store_objects(conn, later))
    assert moved != _write(engine, table, first, lambda _conn: None)


def test_an_update_of_stored_rows_inserts_none(engine: Engine) -> None:
    """A key not stored (a record deleted by a merge in the meantime) is left out, on either path."""
    for n in (3, 2 * COPY_MIN_ROWS):
        rows = [{"id": i + 1, "updated_at": T0, "properties": {}} for i in range(n)]
        with engine.begin() as conn:
            conn.execute(sa.delete(contact_t))
            store_objects(conn, [_contact(i + 1, T0 - timedelta(days=1)) for i in range(n // 2)])
            update_stored(conn, contact_t, rows)
            stored = conn.execute(sa.select(contact_t.c.id, contact_t.c.updated_at).order_by(contact_t.c.id)).all()
        assert stored == [(i + 1, T0) for i in range(n // 2)], n
