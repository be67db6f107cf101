"""Newer wins: which records arriving from HubSpot are older than the version already stored.

Two readers store the same records: the cycle's pull (search pages, possibly fetched a while before they are stored,
and HubSpot's search index may still show a record's previous version) and a webhook batch (records read by id, the
newest version). Whichever is stored last must not be the older one; HubSpot's modified date orders the versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Company, Contact, Deal
from hubsync.store.rows import id_chunks
from hubsync.store.tables import company_t, contact_t, deal_t

_TABLES: Final = {Contact: contact_t, Company: company_t, Deal: deal_t}


def older_than_stored(conn: Connection, records: Sequence[Contact | Company | Deal]) -> set[int]:
    """The ids of `records` (one kind) whose modified date is earlier than the stored row's. A record without a
    modified date, or one that is not stored yet, is never older."""
    dated = {r.id: r.updated_at for r in records if r.updated_at is not None}
    if not dated:
        return set()
    table = _TABLES[type(records[0])]
    older: set[int] = set()
    for chunk in id_chunks(dated):
        query = sa.select(table.c.id, table.c.updated_at).where(table.c.id.in_(chunk), table.c.updated_at.is_not(None))
        older.update(row.id for row in conn.execute(query) if row.updated_at > dated[row.id])
    return older
