"""CRM objects as the pull writes them: contacts, companies, deals (rows of their own), engagements (registered by
id), owners; archives, merges, and the lookups the pull makes before it writes.

`object_type` names where hubsync holds a kind of record: "contacts", "companies" and "deals" have a table each;
any other type (emails, calls, meetings, notes, tasks) is an engagement object, held in the engagement table by
type. Every function works inside the caller's transaction (`conn`), so a page, its side effects and its cursor
are committed together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Company, Contact, Deal, Owner, email_key
from hubsync.store.activities import move_activities
from hubsync.store.associations import move_associations
from hubsync.store.rows import id_chunks, record_row
from hubsync.store.tables import company_t, contact_t, deal_t, engagement_t, owner_t
from hubsync.store.upsert import update_stored, upsert

_TABLES: Final = {"contacts": contact_t, "companies": company_t, "deals": deal_t}
_RECORD_TABLES: Final = {Contact: contact_t, Company: company_t, Deal: deal_t}


def _held(object_type: str) -> tuple[sa.Table, list[sa.ColumnElement[bool]]]:
    """The table that holds `object_type`, and the condition that selects its rows there."""
    table = _TABLES.get(object_type)
    if table is not None:
        return table, []
    return engagement_t, [engagement_t.c.object_type == object_type]


def store_objects(
    conn: Connection,
    records: Sequence[Contact | Company | Deal],
    *,
    archived_at: Mapping[int, datetime] | None = None,
) -> set[int]:
    """Upsert contacts, companies or deals (one kind per call). Live records clear `archived_at`; records in
    `archived_at` get that time. Returns the ids written."""
    if not records:
        return set()
    table = _RECORD_TABLES[type(records[0])]
    rows = []
    for record in records:
        row = record_row(record)
        row["archived_at"] = (archived_at or {}).get(record.id)
        rows.append(row)
    upsert(conn, table, rows)
    return {record.id for record in records}


# What a write of hubsync's own properties changes on a record: its modified date, nothing else that is stored.
_MODIFIED = frozenset({"updated_at", "lastmodifieddate", "hs_lastmodifieddate"})


@dataclass(frozen=True, slots=True)
class Compared:
    """A page of records against the versions stored, read once."""

    # Newer wins: the stored version's modified date is later (a webhook batch stored it after this page was
    # fetched, or HubSpot's search index still shows the previous version). These are left as stored.
    older: set[int]
    # Of the others: new, archived, or different from the stored row in more than their modified date. hubsync's own
    # property writes move a record's modified date, so the next pull reads it again; that must not count as new
    # data to rescore (docs/hubspot.md, "Own writes").
    changed: set[int]
    # Of the rest (the same content): those whose modified date moved, the only thing to write of them.
    moved: set[int] = field(default_factory=set)
    # Contacts only: (job title, primary company) as stored, of those held, for the profile changes.
    profiles: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)


def compare_with_stored(conn: Connection, records: Sequence[Contact | Company | Deal]) -> Compared:
    """Which of `records` (one kind) are older than the stored version, and which of the rest changed. A record
    without a modified date, or one not stored yet, is never older."""
    if not records:
        return Compared(set(), set())
    table = _RECORD_TABLES[type(records[0])]
    by_id = {record.id: record for record in records}
    stored = {
        row.id: row for chunk in id_chunks(by_id) for row in conn.execute(sa.select(table).where(table.c.id.in_(chunk)))
    }
    older, changed, moved = set(), set(), set()
    for record_id, record in by_id.items():
        old = stored.get(record_id)
        row = record_row(record)
        if _is_newer(old, record):
            older.add(record_id)
        elif _differs(row, old):
            changed.add(record_id)
        elif any(row[key] != getattr(old, key) for key in ("updated_at", "properties") if key in row):
            moved.add(record_id)
    profiles = {i: (r.jobtitle, r.company_id) for i, r in stored.items()} if table is contact_t else {}
    return Compared(older, changed, moved, profiles)


def store_compared(conn: Connection, records: Sequence[Contact | Company | Deal], compared: Compared) -> None:
    """Store a page of live records as `compare_with_stored` found them: changed ones whole; of the same content,
    only the modified date (the row's and the raw property), and nothing at all when it did not move either. After
    hubsync wrote scores to most of a portal, its next pull reads nearly every record again for a new modified date
    alone; rewriting each whole row (and its indexes) would cost most of that pull's storing."""
    store_objects(conn, [r for r in records if r.id in compared.changed])
    moved = [r for r in records if r.id in compared.moved]
    if not moved:
        return
    table = _RECORD_TABLES[type(moved[0])]
    # Deals keep no raw properties: their modified date is the row's alone.
    columns = ["id", *(c for c in ("updated_at", "properties") if c in table.c)]
    update_stored(conn, table, [{c: row[c] for c in columns} for row in map(record_row, moved)])


def _is_newer(old: Any, record: Contact | Company | Deal) -> bool:
    return old is not None and None not in (old.updated_at, record.updated_at) and old.updated_at > record.updated_at


def _differs(new: Mapping[str, Any], old: Any) -> bool:
    if old is None or old.archived_at is not None:
        return True
    for key, value in new.items():
        if key in _MODIFIED:
            continue
        if key == "properties":
            before = old.properties or {}
            if {k: v for k, v in value.items() if k not in _MODIFIED} != {
                k: v for k, v in before.items() if k not in _MODIFIED
            }:
                return True
        elif value != getattr(old, key):
            return True
    return False


def already_archived(conn: Connection, object_type: str, ids: Iterable[int]) -> set[int]:
    table, of_type = _held(object_type)
    found: set[int] = set()
    for chunk in id_chunks(ids):
        where = [table.c.id.in_(chunk), table.c.archived_at.is_not(None), *of_type]
        found.update(conn.execute(sa.select(table.c.id).where(*where)).scalars())
    return found


def live_created_before(conn: Connection, object_type: str, before: datetime) -> set[int]:
    """Live records created before `before`: what HubSpot's count of the same must not fall below."""
    table, of_type = _held(object_type)
    where = [table.c.archived_at.is_(None), table.c.created_at < before, *of_type]
    return set(conn.execute(sa.select(table.c.id).where(*where)).scalars())


def mark_archived(conn: Connection, object_type: str, ids: Iterable[int], when: datetime) -> None:
    """Records HubSpot no longer has (archived or deleted for good) but the archived list did not name."""
    table, of_type = _held(object_type)
    for chunk in id_chunks(sorted(set(ids))):
        where = [table.c.id.in_(chunk), table.c.archived_at.is_(None), *of_type]
        conn.execute(sa.update(table).where(*where).values(archived_at=when))


def held_count(conn: Connection, object_type: str) -> int:
    """How many of the stream's records hubsync holds: about the size of a listing of it. Archived ones count too
    (a few, kept 90 days): the count then reads the key's index alone, a listing is overestimated a little."""
    table, of_type = _held(object_type)
    return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*of_type)).scalar_one())


def live_ids(conn: Connection, object_type: str) -> list[int]:
    table, of_type = _held(object_type)
    where = [table.c.archived_at.is_(None), *of_type]
    return list(conn.execute(sa.select(table.c.id).where(*where).order_by(table.c.id)).scalars())


def store_engagements(
    conn: Connection,
    object_type: str,
    created: Mapping[int, datetime | None],
    *,
    archived_at: Mapping[int, datetime] | None = None,
    owners: Mapping[int, int | None] | None = None,
) -> None:
    """Register engagements by id (live, or archived at the given time), whether or not any contact is linked; with
    `owners`, who logged each (left as it is without)."""
    rows = [
        {"object_type": object_type, "id": i, "created_at": at, "archived_at": (archived_at or {}).get(i)}
        | ({} if owners is None else {"owner_id": owners.get(i)})
        for i, at in created.items()
    ]
    upsert(conn, engagement_t, rows)


def store_owners(conn: Connection, owners: Sequence[Owner]) -> int:
    # open_tasks belongs to the push side (it counts tasks); an upsert of these columns leaves it alone.
    return upsert(conn, owner_t, [record_row(owner) for owner in owners])


def archive_owners_except(conn: Connection, active: Collection[int]) -> None:
    """Owners stored as active that the active list no longer names: archived (deactivated or deleted, an owner
    HubSpot does not list as active gets no task either way)."""
    where = [owner_t.c.archived.is_(False)]
    if active:
        where.append(owner_t.c.id.not_in(sorted(active)))
    conn.execute(sa.update(owner_t).where(*where).values(archived=True))


def apply_merges(conn: Connection, merges: Mapping[int, Iterable[int]]) -> set[int]:
    """Survivor → merged-away contact ids: move the old contacts' activities and associations to the survivor and
    delete the old contact rows. Returns every contact id involved that had something to move or delete."""
    touched: set[int] = set()
    for survivor, olds in merges.items():
        old_ids = sorted({old for old in olds if old != survivor})
        if not old_ids:
            continue
        exists = set(conn.execute(sa.select(contact_t.c.id).where(contact_t.c.id.in_(old_ids))).scalars())
        moved = move_activities(conn, survivor, old_ids)
        moved |= move_associations(conn, survivor, old_ids)
        if exists:
            conn.execute(sa.delete(contact_t).where(contact_t.c.id.in_(old_ids)))
        if exists or moved:
            touched |= {survivor, *old_ids}
    return touched


def contact_ids_by_email(conn: Connection) -> dict[str, int]:
    """email_key → contact id, for the legacy streams that name a recipient by address. Live contacts win over
    archived ones, then the lowest id, so the answer does not depend on the order of rows."""
    rows = conn.execute(
        sa.select(contact_t.c.email, contact_t.c.id)
        .where(contact_t.c.email.is_not(None))
        .order_by(contact_t.c.archived_at.is_(None), contact_t.c.id.desc())
    )
    # Later rows overwrite earlier ones: archived first, then live by descending id, so the live lowest id wins.
    out: dict[str, int] = {}
    for email, contact_id in rows:
        out[email_key(email)] = contact_id
    return out
