"""Associations as the pull writes them: replaced per record, dropped with an archived record, moved by a merge.

Every function works inside the caller's transaction (`conn`), so a page, its side effects and its cursor are
committed together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Association
from hubsync.store.rows import id_chunks
from hubsync.store.tables import association_t
from hubsync.store.upsert import upsert


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
    for chunk in id_chunks(ids):
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
    for chunk in id_chunks(sorted(set(from_ids))):
        conn.execute(sa.delete(t).where(t.c.from_type == from_type, t.c.from_id.in_(chunk)))


def move_associations(conn: Connection, survivor: int, old_ids: list[int]) -> bool:
    """A merge: the merged-away contacts' associations (either side) become the survivor's. Whether there was any."""
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
