"""Associations as the pull writes them: replaced per record, dropped with an archived record, moved by a merge.

Every function works inside the caller's transaction (`conn`), so a page, its side effects and its cursor are
committed together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Association
from hubsync.store.rows import among, id_chunks, record_row
from hubsync.store.tables import association_t
from hubsync.store.upsert import upsert


def replace_associations(
    conn: Connection, from_type: str, to_type: str, from_ids: Iterable[int], associations: Sequence[Association]
) -> tuple[set[int], set[int]]:
    """The `from_type`→`to_type` associations of `from_ids` become exactly `associations`. Returns the (from ids,
    to ids) whose associations changed.

    Only the records whose associations changed are written: a re-check that finds what is stored (most of them)
    writes nothing, and leaves PostgreSQL no dead rows to wade through until a vacuum."""
    t = association_t
    ids = sorted(set(from_ids))
    after = {(a.from_id, a.to_id, a.type_id, a.label) for a in associations}
    before: set[tuple[Any, ...]] = set()
    for chunk in id_chunks(ids):
        where = _from(conn, from_type, chunk, to_type)
        before.update(
            tuple(r) for r in conn.execute(sa.select(t.c.from_id, t.c.to_id, t.c.type_id, t.c.label).where(where))
        )
    changed = before ^ after
    changed_from = {c[0] for c in changed}
    for chunk in id_chunks(sorted(changed_from & {b[0] for b in before})):
        conn.execute(sa.delete(t).where(_from(conn, from_type, chunk, to_type)))
    upsert(conn, t, [record_row(a) for a in associations if a.from_id in changed_from])
    return changed_from, {c[1] for c in changed}


def delete_associations_from(conn: Connection, from_type: str, from_ids: Iterable[int]) -> None:
    t = association_t
    for chunk in id_chunks(sorted(set(from_ids))):
        conn.execute(sa.delete(t).where(_from(conn, from_type, chunk)))


def _from(conn: Connection, from_type: str, ids: Sequence[int], to_type: str | None = None) -> sa.ColumnElement[bool]:
    """The associations from these (sorted) ids. Their range besides the list: the key is (from_type, from_id,
    to_type, …), and without it PostgreSQL scans every association of the type and filters by the list (a table never
    analyzed, a first pull's, plans so): 25 times slower at 45,000 associations, growing with the table."""
    t = association_t
    where = [t.c.from_type == from_type, t.c.from_id.between(ids[0], ids[-1]), among(conn, t.c.from_id, ids)]
    if to_type is not None:
        where.append(t.c.to_type == to_type)
    return sa.and_(*where)


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
