"""Outcomes: what the refresh reads about a batch of contacts, the `contact_outcome` rows it writes, and what the
calibration report reads back.

Reads for a refresh take one batch of contact ids (at most one `IN` list, see `rows.id_chunks`) and cost one query
each: contacts, deals (two: the contacts' own and their companies'), hubsync's tasks, the score history (the
aggregate with the peak rows, and the full history of the contacts with a deal or a task), and for the handed-over
contacts their activity times and the reps' engagements with who logged them. The report reads `contact_outcome`
whole (one query), the scorings at or above the threshold floor (one), and streams the score history once for the
distribution.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import ActivityKind
from hubsync.store.rows import among, id_chunks
from hubsync.store.tables import (
    activity_t,
    association_t,
    contact_t,
    deal_t,
    engagement_t,
    history_t,
    outcome_t,
    run_t,
    task_t,
)
from hubsync.store.upsert import upsert_tuples

_CONTACT: Final = "contact"
# Rows fetched per round trip when streaming the score history.
_STREAM_ROWS: Final = 10_000


# -- refresh: reads -------------------------------------------------------------------------------------------
# A batch's ids as `among` (no id range besides: a range helps an analyzed database and makes a fresh one, a first
# cycle's, plan these joins far worse).


def live_contacts(conn: Connection, ids: Collection[int], properties: Sequence[str]) -> list[Any]:
    """(id, created_at, company_id, *properties) of the live contacts among `ids` (one `IN` list): only the named
    properties, as text (None when not set), taken out of the stored JSON by the database (on SQLite a third of the
    cost of decoding every contact's whole properties in Python; on PostgreSQL, whose `json` is parsed again for
    each property, about as costly)."""
    c = contact_t.c
    values = [c.properties[name].as_string().label(f"p{i}") for i, name in enumerate(properties)]
    query = sa.select(c.id, c.created_at, c.company_id, *values).where(among(conn, c.id, ids), c.archived_at.is_(None))
    return list(conn.execute(query))


def deals_by_contact(conn: Connection, contacts: Mapping[int, int | None]) -> dict[int, list[Any]]:
    """The live deals of each contact (contact id → its primary company id): those associated with it, and those of
    its company that name no contact at all (a deal on the account); rows of (id, created_at, closed_won, close_date,
    amount). A deal that names its contacts is theirs, not every colleague's."""
    d, a = deal_t.c, association_t.c
    columns = (d.id, d.created_at, d.closed_won, d.close_date, d.amount)
    other = association_t.alias("named")
    names_a_contact = sa.exists().where(
        other.c.from_type == "deals", other.c.from_id == d.id, other.c.to_type == "contacts"
    )

    def linked(to_type: str, ids: Collection[int], *extra: sa.ColumnElement[bool]) -> dict[int, list[Any]]:
        found: dict[int, list[Any]] = defaultdict(list)
        if not ids:
            return found
        query = (
            sa.select(a.to_id, *columns)
            .distinct()
            .select_from(association_t.join(deal_t, d.id == a.from_id))
            .where(
                a.from_type == "deals",
                a.to_type == to_type,
                among(conn, a.to_id, ids),
                d.archived_at.is_(None),
                *extra,
            )
        )
        for row in conn.execute(query):
            found[int(row.to_id)].append(row)
        return found

    own = linked("contacts", list(contacts))
    by_company = linked("companies", {c for c in contacts.values() if c is not None}, ~names_a_contact)
    out: dict[int, list[Any]] = {}
    for contact_id, company_id in contacts.items():
        rows = {row.id: row for row in (*own.get(contact_id, ()), *by_company.get(company_id or -1, ()))}
        if rows:
            out[contact_id] = list(rows.values())
    return out


def handoff_tasks(conn: Connection, ids: Collection[int]) -> dict[int, list[Any]]:
    """hubsync's tasks that reached HubSpot (open or done), per contact: (created_at, intent_at, owner_id, kind,
    triggers, closed_as, completed_at)."""
    t = task_t.c
    query = sa.select(
        t.contact_id, t.created_at, t.intent_at, t.owner_id, t.kind, t.triggers, t.closed_as, t.completed_at
    ).where(among(conn, t.contact_id, ids), t.state.in_(("open", "done")), t.created_at.is_not(None))
    found: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(query):
        found[int(row.contact_id)].append(row)
    return found


def history_summaries(conn: Connection, ids: Collection[int], *, mql_statuses: Collection[str]) -> dict[int, Any]:
    """Per contact: its first scoring, its first scoring with one of `mql_statuses`, and its peak scoring (the
    earliest row with its highest engagement: as_of, engagement, segment, status). Two queries."""
    h = history_t.c
    mine = sa.and_(h.object_type == _CONTACT, among(conn, h.object_id, ids))
    first_mql = sa.func.min(sa.case((h.status.in_(list(mql_statuses)), h.as_of), else_=None))
    summary = (
        sa.select(h.object_id, sa.func.min(h.as_of).label("scored_from"), first_mql.label("mql_at"))
        .add_columns(sa.func.max(h.engagement).label("peak"))
        .where(mine)
        .group_by(h.object_id)
        .subquery()
    )
    peaks = (
        sa.select(summary, h.as_of, h.engagement, h.segment, h.status)
        .join(history_t, sa.and_(h.object_id == summary.c.object_id, h.engagement == summary.c.peak))
        # The batch's ids again, on the joined rows too: without them SQLite walks every contact's history for each
        # batch (the whole table, again and again, on a full refresh).
        .where(mine)
        .order_by(summary.c.object_id, h.as_of)
    )
    found: dict[int, Any] = {}
    for row in conn.execute(peaks):
        found.setdefault(int(row.object_id), row)
    return found


def history_points(conn: Connection, ids: Collection[int]) -> dict[int, list[Any]]:
    """The whole score history of these contacts, oldest first: rows of (as_of, engagement, segment, status)."""
    found: dict[int, list[Any]] = defaultdict(list)
    if not ids:
        return found
    h = history_t.c
    query = (
        sa.select(h.object_id, h.as_of, h.engagement, h.segment, h.status)
        .where(h.object_type == _CONTACT, among(conn, h.object_id, ids))
        .order_by(h.object_id, h.as_of, h.id)
    )
    for row in conn.execute(query):
        found[int(row.object_id)].append(row)
    return found


def engagements_after(
    conn: Connection, since: Mapping[int, datetime], kinds: Collection[str], *, until: datetime
) -> list[Any]:
    """The CRM engagements of the given kinds (activity event types) on each contact from its `since` time up to
    `until`: rows of (contact_id, id, occurred_at, event_type, direction)."""
    if not since:
        return []
    a = activity_t.c
    query = sa.select(a.contact_id, a.id, a.occurred_at, a.event_type, a.direction).where(
        among(conn, a.contact_id, since),
        a.kind == ActivityKind.CRM_ENGAGEMENT.value,
        a.event_type.in_(list(kinds)),
        a.occurred_at >= min(since.values()),
        a.occurred_at <= until,
    )
    return [row for row in conn.execute(query) if row.occurred_at >= since[int(row.contact_id)]]


def activity_times(conn: Connection, until: Mapping[int, datetime]) -> dict[int, list[datetime]]:
    """When each of these contacts' activities happened, up to the contact's own `until` time."""
    found: dict[int, list[datetime]] = defaultdict(list)
    if not until:
        return found
    a = activity_t.c
    query = sa.select(a.contact_id, a.occurred_at).where(
        among(conn, a.contact_id, until), a.occurred_at <= max(until.values())
    )
    for contact_id, occurred_at in conn.execute(query):
        if occurred_at <= until[int(contact_id)]:
            found[int(contact_id)].append(occurred_at)
    return found


def engagement_owners(conn: Connection, keys: Collection[tuple[str, int]]) -> dict[tuple[str, int], int | None]:
    """Who logged each engagement, by (object type, id)."""
    e = engagement_t.c
    found: dict[tuple[str, int], int | None] = {}
    by_type: dict[str, list[int]] = defaultdict(list)
    for object_type, engagement_id in keys:
        by_type[object_type].append(engagement_id)
    for object_type, ids in by_type.items():
        for chunk in id_chunks(sorted(set(ids))):
            query = sa.select(e.id, e.owner_id).where(e.object_type == object_type, e.id.in_(chunk))
            found.update({(object_type, int(i)): owner for i, owner in conn.execute(query)})
    return found


def contacts_of_deals(conn: Connection, deal_ids: Collection[int]) -> set[int]:
    """The live contacts whose outcome these deals may be: associated with a deal, or of a company associated with
    one (more than `deals_by_contact` counts: refreshing a contact too many costs little)."""
    a, c = association_t.c, contact_t.c
    found: set[int] = set()
    for chunk in id_chunks(sorted(deal_ids)):
        mine = sa.and_(a.from_type == "deals", a.from_id.in_(chunk))
        direct = sa.select(a.to_id).where(mine, a.to_type == "contacts")
        companies = sa.select(a.to_id).where(mine, a.to_type == "companies")
        query = sa.select(c.id).where(sa.or_(c.id.in_(direct), c.company_id.in_(companies)), c.archived_at.is_(None))
        found.update(int(i) for i in conn.execute(query).scalars())
    return found


def contacts_with_open_tasks(conn: Connection) -> set[int]:
    """Contacts with an open hubsync task (or an intent): those whose task the next push may see closed."""
    query = sa.select(task_t.c.contact_id).where(
        task_t.c.state.in_(("open", "intent")), task_t.c.contact_id.is_not(None)
    )
    return {int(i) for i in conn.execute(query).scalars()}


# -- refresh: writes ------------------------------------------------------------------------------------------


def store_outcomes(
    conn: Connection, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]], *, gone: Collection[int] = ()
) -> None:
    """The outcomes of these contacts (rows of `columns`, one per contact), and none for contacts that are gone."""
    upsert_tuples(conn, outcome_t, columns, rows)
    for chunk in id_chunks(sorted(gone)):
        conn.execute(sa.delete(outcome_t).where(outcome_t.c.contact_id.in_(chunk)))


def drop_outcomes_of_gone_contacts(conn: Connection) -> None:
    live = sa.select(contact_t.c.id).where(contact_t.c.archived_at.is_(None))
    conn.execute(sa.delete(outcome_t).where(outcome_t.c.contact_id.not_in(live)))


def has_outcomes(conn: Connection) -> bool:
    return conn.execute(sa.select(outcome_t.c.contact_id).limit(1)).first() is not None


# -- the report -----------------------------------------------------------------------------------------------


def outcome_rows(conn: Connection) -> list[Any]:
    """Every live contact's outcome row (one query)."""
    query = (
        sa.select(outcome_t)
        .join(contact_t, contact_t.c.id == outcome_t.c.contact_id)
        .where(contact_t.c.archived_at.is_(None))
        .order_by(outcome_t.c.contact_id)
    )
    return list(conn.execute(query))


def scorings_at_or_above(conn: Connection, floor: int, *, until: datetime) -> list[Any]:
    """The contact scorings up to `until` with an engagement of at least `floor`, by contact and time: rows of
    (object_id, as_of, engagement, profile). Few: only hot contacts reach the threshold floor."""
    h = history_t.c
    query = (
        sa.select(h.object_id, h.as_of, h.engagement, h.profile)
        .where(h.object_type == _CONTACT, h.engagement >= floor, h.as_of <= until)
        .order_by(h.object_id, h.as_of)
    )
    return list(conn.execute(query))


def stream_history(conn: Connection, *, until: datetime) -> Iterator[Any]:
    """Every contact scoring up to `until`, by contact and time: rows of (object_id, as_of, segment, status),
    fetched in pages so that memory stays flat however long the history."""
    h = history_t.c
    query = (
        sa.select(h.object_id, h.as_of, h.segment, h.status)
        .where(h.object_type == _CONTACT, h.as_of <= until)
        .order_by(h.object_id, h.as_of, h.id)
    )
    result = conn.execution_options(yield_per=_STREAM_ROWS).execute(query)
    yield from result


def last_effective_threshold(conn: Connection) -> int | None:
    """The effective handoff threshold of the latest run that handed over."""
    query = (
        sa.select(run_t.c.effective_threshold)
        .where(run_t.c.effective_threshold.is_not(None))
        .order_by(run_t.c.id.desc())
        .limit(1)
    )
    value = conn.execute(query).scalar_one_or_none()
    return int(value) if value is not None else None
