"""What the pull writes: records → rows (set-based upserts), deletions, merges and association replacement.

Every function works inside the caller's transaction (`conn`), so a page, its side effects and its cursor are
committed together. Each returns the ids it touched, for incremental rescoring.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.batching import batches
from hubsync.hubspot.mapping import email_key
from hubsync.records import Activity, ActivityKind, Association, Company, Contact, Deal, Owner
from hubsync.store.tables import (
    activity_t,
    association_t,
    company_t,
    contact_t,
    deal_t,
    engagement_t,
    owner_t,
)
from hubsync.store.upsert import upsert

_IN_CHUNK: Final = 900  # ids per IN (...) list: below SQLite's default bound-parameter limit


def _chunks(ids: Iterable[Any]) -> Iterator[Sequence[Any]]:
    return batches(list(ids), _IN_CHUNK)


def _row(record: Contact | Company | Deal | Owner | Activity) -> dict[str, Any]:
    if isinstance(record, Activity):
        return {**record._asdict(), "kind": str(record.kind)}
    row = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    if "properties" in row:
        row["properties"] = dict(row["properties"])
    return row


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
    table = {Contact: contact_t, Company: company_t, Deal: deal_t}[type(records[0])]
    rows = []
    for record in records:
        row = _row(record)
        row["archived_at"] = (archived_at or {}).get(record.id)
        rows.append(row)
    upsert(conn, table, rows)
    return {record.id for record in records}


# What a write of hubsync's own properties changes on a record: its modified date, nothing else that is stored.
_MODIFIED = frozenset({"updated_at", "lastmodifieddate", "hs_lastmodifieddate"})


def content_changed(conn: Connection, records: Sequence[Contact | Company | Deal]) -> set[int]:
    """The ids of `records` that are new, were archived, or differ from the stored row in more than their modified
    date. hubsync's own property writes move a record's modified date, so the next pull reads it again; it must not
    count as new data to rescore (hubspot.md, "own writes")."""
    if not records:
        return set()
    table = {Contact: contact_t, Company: company_t, Deal: deal_t}[type(records[0])]
    new = {record.id: _row(record) for record in records}
    stored = {
        row.id: row for chunk in _chunks(new) for row in conn.execute(sa.select(table).where(table.c.id.in_(chunk)))
    }
    return {record_id for record_id, row in new.items() if _differs(row, stored.get(record_id))}


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


def _of(table: sa.Table, object_type: str | None) -> list[sa.ColumnElement[bool]]:
    """The rows of one kind: the engagement table holds every engagement type, the others one kind each."""
    return [] if object_type is None else [table.c.object_type == object_type]


def already_archived(
    conn: Connection, table: sa.Table, ids: Iterable[int], *, object_type: str | None = None
) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        where = [table.c.id.in_(chunk), table.c.archived_at.is_not(None), *_of(table, object_type)]
        found.update(conn.execute(sa.select(table.c.id).where(*where)).scalars())
    return found


def live_created_before(
    conn: Connection, table: sa.Table, before: datetime, *, object_type: str | None = None
) -> set[int]:
    """Live records created before `before`: what HubSpot's count of the same must not fall below."""
    where = [table.c.archived_at.is_(None), table.c.created_at < before, *_of(table, object_type)]
    return set(conn.execute(sa.select(table.c.id).where(*where)).scalars())


def mark_archived(
    conn: Connection, table: sa.Table, ids: Iterable[int], when: datetime, *, object_type: str | None = None
) -> None:
    """Records HubSpot no longer has (archived or deleted for good) but the archived list did not name."""
    for chunk in _chunks(sorted(set(ids))):
        where = [table.c.id.in_(chunk), table.c.archived_at.is_(None), *_of(table, object_type)]
        conn.execute(sa.update(table).where(*where).values(archived_at=when))


def store_engagements(
    conn: Connection,
    object_type: str,
    created: Mapping[int, datetime | None],
    *,
    archived_at: Mapping[int, datetime] | None = None,
) -> None:
    """Register engagements by id (live, or archived at the given time), whether or not any contact is linked."""
    rows = [
        {"object_type": object_type, "id": i, "created_at": at, "archived_at": (archived_at or {}).get(i)}
        for i, at in created.items()
    ]
    upsert(conn, engagement_t, rows)


def store_owners(conn: Connection, owners: Sequence[Owner]) -> int:
    # open_tasks belongs to the push side (it counts tasks); an upsert of these columns leaves it alone.
    return upsert(conn, owner_t, [_row(owner) for owner in owners])


def store_activities(conn: Connection, activities: Sequence[Activity]) -> set[int]:
    """Upsert activities; returns the contact ids they belong to."""
    upsert(conn, activity_t, [_row(activity) for activity in activities])
    return {activity.contact_id for activity in activities}


def _engagement_prefix(engagement_type: str, engagement_id: int) -> str:
    return f"{ActivityKind.CRM_ENGAGEMENT}:{engagement_type}:{engagement_id}:"


def _engagement_filter(engagement_type: str, engagement_ids: Iterable[int]) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(
            activity_t.c.id.startswith(_engagement_prefix(engagement_type, eid), autoescape=True)
            for eid in engagement_ids
        )
    )


def replace_engagement_activities(
    conn: Connection, engagement_type: str, engagement_ids: Iterable[int], activities: Sequence[Activity]
) -> set[int]:
    """The activities of these engagements become exactly `activities` (contacts may have been added or removed).
    Returns the contact ids whose activities changed (old and new)."""
    touched: set[int] = set()
    for chunk in _chunks(sorted(set(engagement_ids))):
        where = _engagement_filter(engagement_type, chunk)
        touched.update(conn.execute(sa.select(activity_t.c.contact_id).where(where)).scalars())
        conn.execute(sa.delete(activity_t).where(where))
    return touched | store_activities(conn, activities)


def delete_engagement_activities(conn: Connection, engagement_type: str, engagement_ids: Iterable[int]) -> set[int]:
    return replace_engagement_activities(conn, engagement_type, engagement_ids, [])


def apply_merges(conn: Connection, merges: Mapping[int, Iterable[int]]) -> set[int]:
    """Survivor → merged-away contact ids: move the old contacts' activities and associations to the survivor and
    delete the old contact rows. Returns every contact id involved that had something to move or delete."""
    touched: set[int] = set()
    for survivor, olds in merges.items():
        old_ids = sorted({old for old in olds if old != survivor})
        if not old_ids:
            continue
        exists = set(conn.execute(sa.select(contact_t.c.id).where(contact_t.c.id.in_(old_ids))).scalars())
        moved = _move_activities(conn, survivor, old_ids)
        moved |= _move_associations(conn, survivor, old_ids)
        if exists:
            conn.execute(sa.delete(contact_t).where(contact_t.c.id.in_(old_ids)))
        if exists or moved:
            touched |= {survivor, *old_ids}
    return touched


def _move_activities(conn: Connection, survivor: int, old_ids: list[int]) -> bool:
    selected = sa.select(activity_t).where(activity_t.c.contact_id.in_(old_ids))
    rows = [dict(r) for r in conn.execute(selected).mappings()]
    if not rows:
        return False
    conn.execute(sa.delete(activity_t).where(activity_t.c.contact_id.in_(old_ids)))
    for row in rows:
        row["contact_id"] = survivor
        if row["kind"] == ActivityKind.CRM_ENGAGEMENT:
            # Engagement activity ids end in the contact id (one per associated contact): re-key to the survivor,
            # so a later re-read of the engagement finds (and replaces) the same row.
            row["id"] = f"{row['id'].rsplit(':', 1)[0]}:{survivor}"
    upsert(conn, activity_t, rows)
    return True


def _move_associations(conn: Connection, survivor: int, old_ids: list[int]) -> bool:
    t = association_t
    moved = False
    for side_type, side_id in ((t.c.from_type, t.c.from_id), (t.c.to_type, t.c.to_id)):
        where = sa.and_(side_type == "contacts", side_id.in_(old_ids))
        rows = [dict(r) for r in conn.execute(sa.select(t).where(where)).mappings()]
        if not rows:
            continue
        moved = True
        conn.execute(sa.delete(t).where(where))
        key = "from_id" if side_id is t.c.from_id else "to_id"
        for row in rows:
            row[key] = survivor
        upsert(conn, t, rows)
    return moved


def replace_associations(
    conn: Connection, from_type: str, to_type: str, from_ids: Iterable[int], associations: Sequence[Association]
) -> tuple[set[int], set[int]]:
    """The `from_type`→`to_type` associations of `from_ids` become exactly `associations`. Returns the (from ids,
    to ids) whose associations changed."""
    t = association_t
    ids = sorted(set(from_ids))
    new_rows = [dataclasses.asdict(a) for a in associations]
    key = ("from_id", "to_id", "type_id", "label")
    before: set[tuple[Any, ...]] = set()
    for chunk in _chunks(ids):
        where = sa.and_(t.c.from_type == from_type, t.c.to_type == to_type, t.c.from_id.in_(chunk))
        before.update(
            tuple(r) for r in conn.execute(sa.select(t.c.from_id, t.c.to_id, t.c.type_id, t.c.label).where(where))
        )
        conn.execute(sa.delete(t).where(where))
    upsert(conn, t, new_rows)
    after = {tuple(row[k] for k in key) for row in new_rows}
    changed = before ^ after
    return {c[0] for c in changed}, {c[1] for c in changed}


def delete_associations_from(conn: Connection, from_type: str, from_ids: Iterable[int]) -> None:
    t = association_t
    for chunk in _chunks(sorted(set(from_ids))):
        conn.execute(sa.delete(t).where(t.c.from_type == from_type, t.c.from_id.in_(chunk)))


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


def live_ids(conn: Connection, table: sa.Table) -> list[int]:
    return list(conn.execute(sa.select(table.c.id).where(table.c.archived_at.is_(None)).order_by(table.c.id)).scalars())


def recently_active_contacts(conn: Connection, since: datetime) -> set[int]:
    return set(
        conn.execute(sa.select(activity_t.c.contact_id).where(activity_t.c.occurred_at >= since).distinct()).scalars()
    )


def companies_of(conn: Connection, contact_ids: Iterable[int]) -> set[int]:
    """Companies linked to these contacts (primary company and associations)."""
    t = association_t
    found: set[int] = set()
    for chunk in _chunks(sorted(set(contact_ids))):
        found.update(
            conn.execute(
                sa.select(t.c.to_id).where(
                    t.c.from_type == "contacts", t.c.to_type == "companies", t.c.from_id.in_(chunk)
                )
            ).scalars()
        )
        found.update(
            x
            for x in conn.execute(sa.select(contact_t.c.company_id).where(contact_t.c.id.in_(chunk))).scalars()
            if x is not None
        )
    return found
