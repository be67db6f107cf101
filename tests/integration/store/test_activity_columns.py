"""The full rescore's read of a batch's activities (`store.reads.activity_columns`): every row's key, coded by its
position among the batch's distinct keys, is the key of that row; a NULL is not an empty text, texts that differ
in case only are different keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.store.reads import activity_columns
from hubsync.store.tables import activity_t
from hubsync.store.upsert import upsert

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FIELDS = ("url", "form_name", "event_type", "direction", "status")
# (kind, url, form_name, event_type, direction, status): NULL and empty apart, equal texts on other kinds, a
# value that differs only in case.
KINDS: list[tuple[Any, ...]] = [
    ("page_view", "https://a.example/preise", None, None, None, None),
    ("page_view", "https://a.example/Preise", None, None, None, None),
    ("page_view", "", None, None, None, None),
    ("page_view", None, None, None, None, None),
    ("form_submission", "https://a.example/preise", "Demo", None, None, None),
    ("email_event", None, None, "open", None, None),
    ("email_event", None, None, "open", None, ""),
    ("crm_engagement", None, None, "call", "INBOUND", "COMPLETED"),
    ("crm_engagement", None, None, "call", "INBOUND", None),
]


def _store(engine: Engine, keys: list[tuple[Any, ...]], contacts: range) -> None:
    rows = []
    for contact_id in contacts:
        for n, key in enumerate(keys):
            at = NOW - timedelta(days=n, microseconds=contact_id)
            rows.append(
                {"id": f"{contact_id}:{n}:{key}", "contact_id": contact_id, "occurred_at": at, "kind": key[0]}
                | dict(zip(FIELDS, key[1:], strict=True))
                | {"title": None}
            )
    with engine.begin() as conn:
        upsert(conn, activity_t, rows)


def _read(engine: Engine, first: int, last: int) -> tuple[Any, ...]:
    with engine.connect() as conn:
        read = activity_columns(conn, first, last, until=NOW, fields=FIELDS)
        stored = conn.execute(
            sa.select(activity_t.c.contact_id, activity_t.c.kind, *(activity_t.c[f] for f in FIELDS))
            .where(activity_t.c.contact_id.between(first, last), activity_t.c.occurred_at <= NOW)
            .order_by(activity_t.c.contact_id, activity_t.c.occurred_at)
        ).all()
    got = [(c, read.keys[k]) for c, k in zip(read.contact.tolist(), read.code.tolist(), strict=True)]
    assert got == [(row[0], tuple(row[1:])) for row in stored]
    return tuple(read.keys)


def test_each_row_read_with_its_own_key(engine: Engine) -> None:
    _store(engine, KINDS, range(1, 4))
    # Every key once, however many rows bring it.
    assert sorted(_read(engine, 1, 1), key=str) == sorted(KINDS, key=str)
    assert sorted(_read(engine, 1, 3), key=str) == sorted(KINDS, key=str)
