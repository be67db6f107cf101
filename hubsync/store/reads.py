"""Reading records back out of the database for scoring: rows → the plain records of `hubsync.records`.

Built for the bulk path (a full rescore reads every contact and activity): Core selects, contacts in id order,
activities for a range of contact ids in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Activity, ActivityKind, Company, Contact, Owner
from hubsync.store.rows import id_chunks
from hubsync.store.tables import (
    activity_t,
    company_t,
    contact_score_t,
    contact_t,
)

_KINDS = {kind.value: kind for kind in ActivityKind}


_Record = TypeVar("_Record", Contact, Company)


_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in (Contact, Company)}


def _record(cls: type[_Record], row: Any) -> _Record:
    # The table's columns carry the record's field names; an empty `properties` may come back as None.
    values = {name: getattr(row, name) for name in _FIELDS[cls]}
    values["properties"] = values["properties"] or {}
    return cls(**values)


def contact_from_row(row: Any) -> Contact:
    return _record(Contact, row)


def company_from_row(row: Any) -> Company:
    return _record(Company, row)


def owner_from_row(row: Any) -> Owner:
    return Owner(
        id=row.id,
        email=row.email,
        firstname=row.firstname,
        lastname=row.lastname,
        user_id=row.user_id,
        archived=row.archived,
    )


def _activity_columns(dialect: str) -> tuple[Any, ...]:
    """The activity columns in `Activity` field order, read without per-value type processing (a full rescore
    reads millions): SQLite hands back its stored UTC text, here already marked as UTC so that one C call parses it;
    PostgreSQL's driver hands back timezone-aware datetimes itself."""
    when: Any = activity_t.c.occurred_at
    if dialect == "sqlite":
        when = sa.type_coerce(when, sa.String) + "+00:00"
    return (
        activity_t.c.id,
        activity_t.c.contact_id,
        activity_t.c.kind,
        when,
        *(activity_t.c[name] for name in Activity._fields[4:]),
    )


def live_contact_ids(conn: Connection) -> list[int]:
    return list(conn.execute(sa.select(contact_t.c.id).where(contact_t.c.archived_at.is_(None))).scalars())


def contacts_by_id(conn: Connection, ids: Collection[int]) -> dict[int, Contact]:
    rows = conn.execute(sa.select(contact_t).where(contact_t.c.id.in_(ids), contact_t.c.archived_at.is_(None)))
    return {row.id: contact_from_row(row) for row in rows}


def companies_by_id(conn: Connection, ids: Collection[int]) -> dict[int, Company]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(company_t).where(company_t.c.id.in_(ids), company_t.c.archived_at.is_(None)))
    return {row.id: company_from_row(row) for row in rows}


def activities_by_contact(conn: Connection, ids: Collection[int], *, until: datetime) -> dict[int, list[Activity]]:
    """Activities of the given contacts up to `until`, oldest first, grouped by contact."""
    out: dict[int, list[Activity]] = defaultdict(list)
    if not ids:
        return out
    ordered = sorted(ids)
    where: list[Any] = [activity_t.c.occurred_at <= until]
    # A dense id range reads faster as BETWEEN (one index range scan) than as a long IN list.
    if len(ordered) > 1 and ordered[-1] - ordered[0] < 2 * len(ordered):
        wanted = set(ordered)
        where.append(activity_t.c.contact_id.between(ordered[0], ordered[-1]))
    else:
        wanted = None
        where.append(activity_t.c.contact_id.in_(ordered))
    columns = _activity_columns(conn.dialect.name)
    stmt = sa.select(*columns).where(*where).order_by(activity_t.c.contact_id, activity_t.c.occurred_at)
    # Inlined, with local names: this loop runs once per activity (millions on a full rescore). fetchall, because
    # iterating the result fetches one row per call.
    parse = datetime.fromisoformat
    kinds = _KINDS
    for row in conn.execute(stmt).fetchall():
        contact_id = row[1]
        if wanted is None or contact_id in wanted:
            when = row[3]
            out[contact_id].append(
                Activity(row[0], contact_id, kinds[row[2]], parse(when) if isinstance(when, str) else when, *row[4:])
            )
    return out


def contacts_in_range(conn: Connection, first: int, last: int, *, properties: Collection[str]) -> dict[int, Contact]:
    """The live contacts with ids first..last, by id, for the full rescore: each with only the named `properties`
    (read out of the JSON in the database, not decoded whole)."""
    columns = [contact_t.c[name] for name in _FIELDS[Contact] if name != "properties"]
    named = list(properties)
    extracted = [contact_t.c.properties[name].as_string() for name in named]
    stmt = sa.select(*columns, *extracted).where(contact_t.c.id.between(first, last), contact_t.c.archived_at.is_(None))
    width = len(columns)
    out = {}
    # All rows at once (iterating the result fetches one per call), each a Contact by position: `columns` are its
    # fields in order, `properties` last.
    for row in conn.execute(stmt).all():
        properties = {name: v for name, v in zip(named, row[width:], strict=True) if v is not None}
        out[row[0]] = Contact(*row[:width], properties)  # type: ignore[call-arg]  # `columns` are the fields before it
    return out


def activity_rows(
    conn: Connection, first: int, last: int, *, until: datetime, fields: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(contact id, microseconds since 1970 UTC, kind, *fields) of the activities of contacts first..last up to
    `until`, by contact and time: the full rescore's read of millions of rows. Only the columns scoring needs, the
    time as a whole number (`Activity.occurred_at.timestamp()` is that number divided by a million), and plain
    tuples from the driver's cursor, without a Row object or type processing per row."""
    dialect = conn.dialect.name
    when = activity_t.c.occurred_at
    if dialect == "sqlite":
        # Stored as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds from strftime, then the digits after them.
        text = sa.type_coerce(when, sa.String)
        micros: Any = sa.cast(sa.func.strftime("%s", text), sa.BigInteger) * 1_000_000 + sa.cast(
            sa.func.substr(text, 21, 6), sa.BigInteger
        )
        bound: Any = until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        until_param: Any = sa.bindparam("until", bound, type_=sa.String)
    else:
        # Whole seconds, then the microseconds within them: exact on every PostgreSQL version (EXTRACT(EPOCH ...)
        # was a double precision number before 14).
        micros = sa.cast(sa.extract("epoch", sa.func.date_trunc("second", when)), sa.BigInteger) * 1_000_000 + (
            sa.cast(sa.extract("microseconds", when), sa.BigInteger) % 1_000_000
        )
        until_param = sa.bindparam("until", until, type_=sa.DateTime(timezone=True))
    stmt = (
        sa.select(activity_t.c.contact_id, micros, activity_t.c.kind, *(activity_t.c[f] for f in fields))
        .where(activity_t.c.contact_id.between(first, last), when <= until_param)
        .order_by(activity_t.c.contact_id, activity_t.c.occurred_at)
    )
    return _plain_rows(conn, stmt)


class ActivityColumns(NamedTuple):
    """The full rescore's read of a batch's activities, by column: contact ids, times (whole microseconds since 1970
    UTC) and key codes as arrays; each activity's key, (kind, *fields) (what its signal depends on), is
    `keys[code]`, so that each distinct key is classified once."""

    contact: npt.NDArray[np.int64]
    micros: npt.NDArray[np.int64]
    code: npt.NDArray[np.int64]
    keys: list[tuple[Any, ...]]


def activity_columns(
    conn: Connection, first: int, last: int, *, until: datetime, fields: Sequence[str]
) -> ActivityColumns:
    """`activity_rows` by column, faster: on SQLite the stored UTC text is parsed by numpy (one C call for the
    batch) instead of by SQLite's strftime per row."""
    if conn.dialect.name != "sqlite":
        rows = activity_rows(conn, first, last, until=until, fields=fields)
        micros = np.fromiter(map(itemgetter(1), rows), np.int64, len(rows))
    else:
        when = activity_t.c.occurred_at
        until_text = until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        stmt = (
            sa.select(
                activity_t.c.contact_id,
                sa.type_coerce(when, sa.String),
                activity_t.c.kind,
                *(activity_t.c[f] for f in fields),
            )
            .where(
                activity_t.c.contact_id.between(first, last),
                when <= sa.bindparam("until", until_text, type_=sa.String),
            )
            .order_by(activity_t.c.contact_id, activity_t.c.occurred_at)
        )
        rows = _plain_rows(conn, stmt)
        # "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as the DateTime column stores it: numpy reads it as UTC.
        micros = np.array(list(map(itemgetter(1), rows)), dtype="datetime64[us]").view(np.int64)
    codes: dict[tuple[Any, ...], int] = {}
    # Each row's key: its position among the batch's distinct keys, in the order rows bring them.
    code = np.fromiter(
        (codes.setdefault(key, len(codes)) for key in map(itemgetter(2, *range(3, 3 + len(fields))), rows)),
        np.int64,
        len(rows),
    )
    contact = np.fromiter(map(itemgetter(0), rows), np.int64, len(rows))
    return ActivityColumns(contact, micros, code, list(codes))


def _plain_rows(conn: Connection, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Runs `stmt` on the driver's own cursor, in `conn`'s transaction, and returns its rows as the driver makes
    them. Only for statements whose parameters need no type processing."""
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    positions = compiled.positiontup
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # an open connection has one
    try:
        cursor.execute(str(compiled), [params[name] for name in positions] if positions else params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def contact_ids_of_companies(conn: Connection, company_ids: Collection[int]) -> set[int]:
    if not company_ids:
        return set()
    stmt = sa.select(contact_t.c.id).where(
        contact_t.c.company_id.in_(list(company_ids)), contact_t.c.archived_at.is_(None)
    )
    return set(conn.execute(stmt).scalars())


def company_ids_of_contacts(conn: Connection, contact_ids: Collection[int]) -> set[int]:
    """The primary companies of these contacts, archived contacts included."""
    query = sa.select(contact_t.c.company_id).where(contact_t.c.company_id.is_not(None))
    return {
        company_id
        for chunk in id_chunks(contact_ids)
        for company_id in conn.execute(query.where(contact_t.c.id.in_(chunk))).scalars()
    }


def find_contact(conn: Connection, key: str) -> Contact | None:
    """A contact by HubSpot id or (case-insensitive) email address."""
    stmt = sa.select(contact_t)
    if key.isdigit():
        stmt = stmt.where(contact_t.c.id == int(key))
    else:
        stmt = stmt.where(sa.func.lower(contact_t.c.email) == key.strip().lower())
    row = conn.execute(stmt.order_by(contact_t.c.archived_at.is_not(None))).first()
    return contact_from_row(row) if row is not None else None


def counts_by(conn: Connection, column: str) -> dict[str, int]:
    """Contacts per value of a `contact_score` column (segment, status): the matrix and status counts."""
    col = contact_score_t.c[column]
    return {str(value): int(n) for value, n in conn.execute(sa.select(col, sa.func.count()).group_by(col))}
