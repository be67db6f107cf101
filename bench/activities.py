"""Benchmark: replacing a page of 100 changed engagements' activities in a table of a million activities.

Prints (nothing is asserted), per database, the seconds per page of the former way (OR'd LIKE prefixes: a SELECT
and a DELETE, each scanning the whole id index) and of `replace_engagement_activities` (id ranges on the index,
one DELETE … RETURNING per page), and whether both left the same rows. Every page is rolled back, so the
database stays as built; it is generated once into bench/out/ (SQLite) or into a schema of its own (PostgreSQL).

    python bench/activities.py [--activities 1000000] [--postgres postgresql+psycopg://…] [--rebuild]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hubsync.records import Activity, ActivityKind
from hubsync.store.activities import replace_engagement_activities
from hubsync.store.db import open_database
from hubsync.store.tables import activity_t

OUT = Path(__file__).resolve().parent / "out"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
TYPES = ("email", "call", "meeting", "note", "task")
CONTACTS = 50_000
# One activity in five is a CRM engagement's (a 50k-contact sandbox portal holds about that share).
ENGAGEMENT_EVERY = 5
PAGE = 100


def _rows(activities: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(20261129)  # noqa: S311  (benchmark data, not security)
    for n in range(activities):
        contact = rng.randint(1, CONTACTS)
        at = T0 + timedelta(seconds=n)
        if n % ENGAGEMENT_EVERY == 0:
            kind = TYPES[(n // ENGAGEMENT_EVERY) % len(TYPES)]
            engagement = n // ENGAGEMENT_EVERY
            yield {
                "id": f"crm_engagement:{kind}:{engagement}:{contact}",
                "contact_id": contact,
                "kind": "crm_engagement",
                "occurred_at": at,
                "event_type": kind,
            }
        else:
            yield {"id": f"page_view:{n}", "contact_id": contact, "kind": "page_view", "occurred_at": at}


def build(engine: Engine, activities: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(activity_t))
    batch: list[dict[str, Any]] = []
    for row in _rows(activities):
        batch.append({"event_type": None, **row})
        if len(batch) == 50_000:
            with engine.begin() as conn:
                conn.execute(sa.insert(activity_t), batch)
            batch.clear()
    if batch:
        with engine.begin() as conn:
            conn.execute(sa.insert(activity_t), batch)


def _former(conn: Connection, kind: str, ids: list[int], activities: list[Activity]) -> set[int]:
    """The replacement as it was: the same LIKE prefixes for the SELECT of the touched contacts and the DELETE."""
    where = sa.or_(*(activity_t.c.id.startswith(f"crm_engagement:{kind}:{i}:", autoescape=True) for i in ids))
    touched = set(conn.execute(sa.select(activity_t.c.contact_id).where(where)).scalars())
    conn.execute(sa.delete(activity_t).where(where))
    rows = [{**a._asdict(), "kind": str(a.kind)} for a in activities]
    conn.execute(sa.insert(activity_t), rows)
    return touched | {a.contact_id for a in activities}


def _page(rng: random.Random, activities: int) -> tuple[str, list[int], list[Activity]]:
    """100 engagements of one type, each now with one (new) contact."""
    kind = rng.choice(TYPES)
    offset = TYPES.index(kind)
    engagements = activities // ENGAGEMENT_EVERY
    ids = sorted(rng.sample(range(offset, engagements, len(TYPES)), PAGE))
    new = [
        Activity(f"crm_engagement:{kind}:{i}:{CONTACTS + i}", CONTACTS + i, ActivityKind.CRM_ENGAGEMENT, T0, kind)
        for i in ids
    ]
    return kind, ids, new


def measure(engine: Engine, activities: int, pages: int) -> None:
    rng = random.Random(7)  # noqa: S311  (benchmark data)
    timings: dict[str, list[float]] = {"former (LIKE)": [], "id ranges": []}
    same = 0
    for n in range(pages):
        kind, ids, new = _page(rng, activities)
        results = {}
        for name, replace in (("former (LIKE)", _former), ("id ranges", replace_engagement_activities)):
            if name == "former (LIKE)" and n >= 3:  # seconds each: three pages say enough
                continue
            with engine.connect() as conn, conn.begin() as tx:
                began = time.perf_counter()
                touched = replace(conn, kind, ids, new)
                timings[name].append(time.perf_counter() - began)
                rows = set(conn.execute(sa.select(activity_t.c.id)).scalars()) if n == 0 else None
                tx.rollback()
            results[name] = (touched, rows)
        if len(results) == 2:  # both ways ran on this page
            same += results["former (LIKE)"] == results["id ranges"]
    for name, seconds in timings.items():
        print(
            f"  {name:14s} {len(seconds):3d} pages: median {statistics.median(seconds) * 1000:8.1f} ms, "
            f"min {min(seconds) * 1000:8.1f} ms per page of {PAGE} engagements"
        )
    print(f"  same contacts touched and (page 1) same rows left: {same} of {min(3, pages)} pages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--postgres", help="also on this PostgreSQL server (a schema hubsync_bench_activities)")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"activities-{args.activities}.db"
    databases = [("SQLite", f"sqlite:///{path}", args.rebuild or not path.exists())]
    if args.postgres:
        admin = sa.create_engine(args.postgres)
        with admin.begin() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'hubsync_bench_activities'")
            ).first()
            conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS hubsync_bench_activities"))
        admin.dispose()
        separator = "&" if "?" in args.postgres else "?"
        url = f"{args.postgres}{separator}options=-csearch_path%3Dhubsync_bench_activities"
        databases.append(("PostgreSQL", url, args.rebuild or exists is None))
    for name, url, fresh in databases:
        engine = open_database(url)
        with engine.connect() as conn:
            held = conn.execute(sa.select(sa.func.count()).select_from(activity_t)).scalar_one()
        if fresh or held != args.activities:
            began = time.perf_counter()
            build(engine, args.activities)
            print(f"{name}: built {args.activities:,} activities in {time.perf_counter() - began:.0f} s (not timed)")
        print(f"{name}, {args.activities:,} activities:")
        measure(engine, args.activities, args.pages)
        engine.dispose()


if __name__ == "__main__":
    main()
