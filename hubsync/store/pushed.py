"""What push reads and writes: the score rows to push, in id order and page by page, and the values HubSpot last
confirmed per record (`pushed_values`), which the next push diffs against."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t, pushed_t
from hubsync.store.upsert import upsert

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Connection


def pushed_values(conn: Connection, object_type: str, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The values HubSpot last confirmed, by record id (records never pushed are absent)."""
    # `values` by position: as an attribute it is the Row's / ColumnCollection's own method.
    rows = conn.execute(
        sa.select(pushed_t.c.object_id, pushed_t.c["values"]).where(
            pushed_t.c.object_type == object_type, pushed_t.c.object_id.in_(ids)
        )
    )
    return {int(object_id): dict(values) for object_id, values in rows}


def record_pushed(
    conn: Connection, object_type: str, values: Mapping[int, Mapping[str, str]], *, now: datetime
) -> None:
    """Store what HubSpot confirmed: everything hubsync has written to each record."""
    upsert(
        conn,
        pushed_t,
        [
            {"object_type": object_type, "object_id": object_id, "values": dict(v), "pushed_at": now}
            for object_id, v in values.items()
        ],
    )


def forget_pushed(conn: Connection, object_types: Collection[str]) -> int:
    """Forget what HubSpot confirmed for every record of these types (their properties were removed from the
    portal): the next push diffs against nothing and writes every value again. How many records were forgotten."""
    if not object_types:
        return 0
    result = conn.execute(sa.delete(pushed_t).where(pushed_t.c.object_type.in_(list(object_types))))
    return int(result.rowcount or 0)


def contact_scores(
    conn: Connection, *, after: int, limit: int, ids: Collection[int] | None = None
) -> list[Mapping[Any, Any]]:
    """The next `limit` contact score rows with contact id > after (and among `ids`, when given), in id order, with
    the contact's lifecycle stage; archived contacts left out."""
    key = contact_score_t.c.contact_id
    return _page(conn, contact_score_t, key, contact_t, contact_t.c.lifecyclestage, after=after, limit=limit, ids=ids)


def company_scores(
    conn: Connection, *, after: int, limit: int, ids: Collection[int] | None = None
) -> list[Mapping[Any, Any]]:
    """The next `limit` company score rows with company id > after (and among `ids`, when given), in id order;
    archived companies left out."""
    key = company_score_t.c.company_id
    return _page(conn, company_score_t, key, company_t, after=after, limit=limit, ids=ids)


def _page(
    conn: Connection,
    scores: Table,
    key: Column[Any],
    records: Table,
    *extra: Column[Any],
    after: int,
    limit: int,
    ids: Collection[int] | None = None,
) -> list[Mapping[Any, Any]]:
    query = (
        sa.select(scores, *extra)
        .select_from(scores.outerjoin(records, records.c.id == key))
        .where(key > after, records.c.archived_at.is_(None), *(() if ids is None else (key.in_(sorted(ids)),)))
        .order_by(key)
        .limit(limit)
    )
    return list(conn.execute(query).mappings().all())
