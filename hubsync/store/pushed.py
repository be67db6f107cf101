"""What push reads and writes: the score rows to push, in id order and page by page (all of them, or those still
`push_pending`), the values HubSpot last confirmed per record (`pushed_values`), which the next push diffs against,
and what those values were written with (`push_state`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hubsync.store.rows import id_chunks
from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t, push_state_t, pushed_t
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
    portal): the next push diffs every record against nothing and writes every value again. How many records were
    forgotten."""
    if not object_types:
        return 0
    result = conn.execute(sa.delete(pushed_t).where(pushed_t.c.object_type.in_(list(object_types))))
    # Rows no longer pending would be left out of an incremental diff: without a `config` the next push diffs all.
    conn.execute(sa.delete(push_state_t).where(push_state_t.c.name == _CONFIG))
    return int(result.rowcount or 0)


_CONFIG = "config"


def written_with(conn: Connection) -> str | None:
    """What the stored pushed values were written with (jobs/push.py `written_with`), as the last push that diffed
    every record stored it; None before one did."""
    return conn.execute(sa.select(push_state_t.c.value).where(push_state_t.c.name == _CONFIG)).scalar_one_or_none()


def record_written_with(conn: Connection, config: str, *, now: datetime) -> None:
    upsert(conn, push_state_t, [{"name": _CONFIG, "value": config, "updated_at": now}])


def settle(conn: Connection, object_type: str, diffed: Mapping[int, datetime]) -> int:
    """No longer pending: these records (id → the `as_of` of the score row that was diffed) were diffed and HubSpot
    holds their values. A row written again since it was read (another `as_of`) stays pending. How many rows."""
    scores, key = _SCORES[object_type]
    by_as_of: dict[datetime, list[int]] = {}
    for object_id, as_of in diffed.items():
        by_as_of.setdefault(as_of, []).append(object_id)
    settled = 0
    for as_of, ids in by_as_of.items():
        for chunk in id_chunks(sorted(ids)):
            update = sa.update(scores).where(key.in_(chunk), scores.c.as_of == as_of, scores.c.push_pending)
            settled += int(conn.execute(update.values(push_pending=False)).rowcount or 0)
    return settled


def contact_scores(
    conn: Connection, *, after: int, limit: int, ids: Collection[int] | None = None, pending: bool = False
) -> list[Mapping[Any, Any]]:
    """The next `limit` contact score rows with contact id > after (and among `ids`, when given; only those still
    `push_pending` with `pending`), in id order, with the contact's lifecycle stage; archived contacts left out."""
    key = contact_score_t.c.contact_id
    lifecycle = contact_t.c.lifecyclestage
    return _page(conn, contact_score_t, key, contact_t, lifecycle, after=after, limit=limit, ids=ids, pending=pending)


def company_scores(
    conn: Connection, *, after: int, limit: int, ids: Collection[int] | None = None, pending: bool = False
) -> list[Mapping[Any, Any]]:
    """The next `limit` company score rows with company id > after (and among `ids`, when given; only those still
    `push_pending` with `pending`), in id order; archived companies left out."""
    key = company_score_t.c.company_id
    return _page(conn, company_score_t, key, company_t, after=after, limit=limit, ids=ids, pending=pending)


# The score table and its key per object type, as HubSpot names the types.
_SCORES: dict[str, tuple[Table, Column[Any]]] = {
    "contacts": (contact_score_t, contact_score_t.c.contact_id),
    "companies": (company_score_t, company_score_t.c.company_id),
}


def _page(
    conn: Connection,
    scores: Table,
    key: Column[Any],
    records: Table,
    *extra: Column[Any],
    after: int,
    limit: int,
    ids: Collection[int] | None = None,
    pending: bool = False,
) -> list[Mapping[Any, Any]]:
    query = (
        sa.select(scores, *extra)
        .select_from(scores.outerjoin(records, records.c.id == key))
        .where(key > after, records.c.archived_at.is_(None), *(() if ids is None else (key.in_(sorted(ids)),)))
        .order_by(key)
        .limit(limit)
    )
    if pending:
        # Written as the partial index's WHERE is (tables.py `_push_pending_index`), so the index answers it.
        query = query.where(scores.c.push_pending)
    return list(conn.execute(query).mappings().all())
