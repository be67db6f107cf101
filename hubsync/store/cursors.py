"""Sync cursors: where each stream has read to, as JSON per stream (typed by hubspot/cursors.py).

A cursor is saved in the same transaction as the page it covers, so a crash either keeps both or neither.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.store.tables import cursor_t
from hubsync.store.upsert import upsert


def load_cursor(conn: Connection, stream: str) -> dict[str, Any] | None:
    state = conn.execute(sa.select(cursor_t.c.state).where(cursor_t.c.stream == stream)).scalar_one_or_none()
    return dict(state) if state is not None else None


def save_cursor(conn: Connection, stream: str, state: dict[str, Any], *, now: datetime) -> None:
    upsert(conn, cursor_t, [{"stream": stream, "state": state, "updated_at": now}])


def all_cursors(conn: Connection) -> dict[str, dict[str, Any]]:
    return {row.stream: dict(row.state) for row in conn.execute(sa.select(cursor_t.c.stream, cursor_t.c.state))}
