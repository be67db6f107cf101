"""Current contact and company scores and their history: what a rescore reads back and stores."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t, history_t
from hubsync.store.upsert import upsert

ScoredKind = Literal["contact", "company"]
_TABLES: dict[ScoredKind, sa.Table] = {"contact": contact_score_t, "company": company_score_t}
# Every score written waits for push to diff it (tables.py `_push_pending`).
_PUSH_PENDING: dict[str, Any] = {"push_pending": True}


def live_company_ids(conn: Connection) -> list[int]:
    live = sa.select(company_t.c.id).where(company_t.c.archived_at.is_(None)).order_by(company_t.c.id)
    return list(conn.execute(live).scalars())


def stored_scores(conn: Connection, kind: ScoredKind, ids: Collection[int]) -> dict[int, Any]:
    """The current score rows of these contacts or companies, by id (rows the caller reads by column name)."""
    table = _TABLES[kind]
    (key,) = table.primary_key.columns
    return {getattr(row, key.name): row for row in conn.execute(sa.select(table).where(key.in_(list(ids))))}


# What a rescore needs of a contact's last scores: whether they changed (history) and its handoff episode.
_RESCORE_COLUMNS = (
    "contact_id",
    "engagement",
    "profile",
    "segment",
    "status",
    "handoff_armed",
    "handed_over_at",
    "triggers_held_at",
    "hand_raise_seen_at",
)


def previous_contact_scores(conn: Connection, ids: Sequence[int]) -> dict[int, Any]:
    """The columns of these contacts' score rows that a rescore reads back (ids ascending; read as their range
    when they fill most of it), by id."""
    key = contact_score_t.c.contact_id
    stmt = sa.select(*(contact_score_t.c[name] for name in _RESCORE_COLUMNS))
    if not ids:
        return {}
    if ids[-1] - ids[0] < 2 * len(ids):
        wanted = set(ids)
        rows = conn.execute(stmt.where(key.between(ids[0], ids[-1])))
        return {row.contact_id: row for row in rows if row.contact_id in wanted}
    return {row.contact_id: row for row in conn.execute(stmt.where(key.in_(list(ids))))}


def stored_contact_status(conn: Connection, contact_id: int) -> str | None:
    query = sa.select(contact_score_t.c.status).where(contact_score_t.c.contact_id == contact_id)
    return conn.execute(query).scalar_one_or_none()


def member_score_rows(conn: Connection, companies: Collection[int]) -> Sequence[Any]:
    """The stored score rows of the live contacts of these companies, each with its `company_id`."""
    stmt = (
        sa.select(contact_score_t, contact_t.c.company_id)
        .join(contact_t, contact_t.c.id == contact_score_t.c.contact_id)
        .where(contact_t.c.company_id.in_(list(companies)), contact_t.c.archived_at.is_(None))
    )
    return list(conn.execute(stmt))


def store_scores(
    conn: Connection,
    kind: ScoredKind,
    rows: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]],
    *,
    gone: Collection[int],
) -> None:
    """Current scores in (each pending for push), a history row for each change, and no score left for a record
    that is gone."""
    table = _TABLES[kind]
    if conn.dialect.name == "sqlite":
        if rows:
            (key,) = table.primary_key.columns
            _write_through_driver(conn, table, rows, upsert_key=key.name, same=_PUSH_PENDING)
        if history:
            _write_through_driver(conn, history_t, history)
    else:
        # PostgreSQL: SQLAlchemy sends many rows per INSERT ("insertmanyvalues"), faster than the driver's loop.
        upsert(conn, table, [{**row, **_PUSH_PENDING} for row in rows])
        if history:
            conn.execute(sa.insert(history_t), list(history))
    if gone:
        (key,) = table.primary_key.columns
        conn.execute(sa.delete(table).where(key.in_(list(gone))))


def drop_scores_of_gone_records(conn: Connection) -> None:
    """After a full rescore: no scores for archived, merged-away or deleted records."""
    live_contacts = sa.select(contact_t.c.id).where(contact_t.c.archived_at.is_(None))
    conn.execute(sa.delete(contact_score_t).where(contact_score_t.c.contact_id.not_in(live_contacts)))
    live_companies = sa.select(company_t.c.id).where(company_t.c.archived_at.is_(None))
    conn.execute(sa.delete(company_score_t).where(company_score_t.c.company_id.not_in(live_companies)))


def top_scored_contacts(conn: Connection, *, limit: int) -> Sequence[Any]:
    """The best-scored contacts (engagement, then profile), each row with the contact's name and job title."""
    query = (
        sa.select(
            contact_t.c.id,
            contact_t.c.firstname,
            contact_t.c.lastname,
            contact_t.c.jobtitle,
            contact_score_t.c.engagement,
            contact_score_t.c.profile,
            contact_score_t.c.segment,
            contact_score_t.c.status,
            contact_score_t.c.reason,
        )
        .join(contact_t, contact_t.c.id == contact_score_t.c.contact_id)
        .order_by(contact_score_t.c.engagement.desc(), contact_score_t.c.profile.desc(), contact_t.c.id)
        .limit(limit)
    )
    return conn.execute(query).all()


def _write_through_driver(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    upsert_key: str | None = None,
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert (or with `upsert_key`, upsert) rows on SQLite through the driver's executemany, each value converted
    by its column type: a full rescore writes a hundred thousand rows, and SQLAlchemy's per-row parameter handling
    would cost seconds. A column's conversion runs once per distinct value (every row has the same `as_of`, most
    have no gates and no hand-raise). Every row has the columns of the first, and `same` (column → value) for all
    of them."""
    same = same or {}
    names = [*rows[0].keys(), *same]
    stmt: Any = sqlite.insert(table)
    if upsert_key is not None:
        excluded = {n: stmt.excluded[n] for n in names if n != upsert_key}
        stmt = stmt.on_conflict_do_update(index_elements=[upsert_key], set_=excluded)
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    order = compiled.positiontup or []
    columns = []
    for name in order:
        values = [same[name]] * len(rows) if name in same else [row[name] for row in rows]
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None:
            values = _converted(values, process)
        columns.append(values)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # an open connection has one
    try:
        cursor.executemany(str(compiled), list(zip(*columns, strict=True)))
    finally:
        cursor.close()


def _converted(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """`process` of each value, called once per distinct value (equal values convert alike: times to UTC text,
    lists to JSON)."""
    done: dict[Any, Any] = {}
    out = []
    for value in values:
        # A list (a JSON column's) is remembered by its items.
        key = tuple(value) if type(value) is list else value
        try:
            out.append(done[key])
        except KeyError:
            out.append(done.setdefault(key, process(value)))
        except TypeError:  # unhashable: converted each time
            out.append(process(value))
    return out
