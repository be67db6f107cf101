"""Benchmark: a full rescore of 100,000 contacts with 2,000,000 activities in SQLite.

Prints (nothing is asserted), each rescore in a fresh process on a fresh copy of the database (so that its peak
memory is its own and every run writes the same rows):

- the full rescore (the bulk path: only the columns scoring needs, activities grouped by signal as they are read):
  wall and CPU seconds of each run, their minimum and median (target <= 10 s), and its peak memory (target <= 1 GB);
- the same contacts through the per-contact path (an Activity per row, as an incremental rescore reads them), and
  the ratio of the two, measured one after the other, which says more than seconds on a busy machine;
- how many stored score rows differ between the two paths (must be 0).

The database is generated once into bench/out/ (not timed) and reused.

    python bench/score.py [--contacts 100000] [--activities 2000000] [--runs 2] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
CONFIG = Path(__file__).resolve().parent.parent / "config" / "hubsync.toml"
NOW = datetime(2026, 6, 1, tzinfo=UTC)

PAGES = [
    "/",
    "/blog/lead-scoring-basics",
    "/blog/crm-hygiene",
    "/produkt/funktionen",
    "/preise",
    "/pricing",
    "/vergleich/hubsync-vs-excel",
    "/compare/alternatives",
    "/case-studies/acme",
    "/jobs",
]
FORMS = ["E-Book: Lead Scoring", "Whitepaper DSGVO", "Checkliste CRM", "Demo anfragen", "Newsletter", "Contact us"]


def build(path: Path, contacts: int, activities: int) -> None:
    from hubsync.store.db import open_database  # noqa: PLC0415  (imports the project only when building)

    path.unlink(missing_ok=True)
    open_database(f"sqlite:///{path}").dispose()
    rng = random.Random(20261121)  # noqa: S311  (benchmark data, not security)
    db = sqlite3.connect(path)
    companies = max(1, contacts // 8)
    db.executemany(
        "INSERT INTO company (id, name, industry, numberofemployees, properties) VALUES (?, ?, ?, ?, '{}')",
        (
            (
                i,
                f"Company {i}",
                rng.choice(["COMPUTER_SOFTWARE", "RETAIL", "", "FINANCIAL_SERVICES"]),
                rng.choice(["1,000", "50-100", "", "12", "250", "5000"]),
            )
            for i in range(1, companies + 1)
        ),
    )
    titles = ["CEO", "Geschäftsführer", "Head of Marketing", "Marketing Manager", "Werkstudent", "", "Referentin"]
    db.executemany(
        "INSERT INTO contact (id, email, jobtitle, company_id, properties) VALUES (?, ?, ?, ?, '{}')",
        (
            (i, f"person{i}@company{i % companies + 1}.example", rng.choice(titles), i % companies + 1)
            for i in range(1, contacts + 1)
        ),
    )
    start = NOW - timedelta(days=730)
    span = 730 * 86400

    def rows() -> object:
        for n in range(activities):
            contact = rng.randint(1, contacts)
            at = (start + timedelta(seconds=rng.randint(0, span))).strftime("%Y-%m-%d %H:%M:%S.%f")
            roll = rng.random()
            if roll < 0.55:
                yield (
                    f"page_view:{n}",
                    contact,
                    "page_view",
                    at,
                    None,
                    "https://www.vendor.example" + rng.choice(PAGES),
                    None,
                )
            elif roll < 0.85:
                event = rng.choice(["open", "open", "open", "click", "delivered", "unsubscribe"])
                yield (f"email_event:{n}", contact, "email_event", at, event, None, None)
            elif roll < 0.95:
                yield (f"form_submission:{n}", contact, "form_submission", at, None, None, rng.choice(FORMS))
            else:
                event = rng.choice(["registered", "attended", "no_show"])
                yield (f"marketing_event:{n}", contact, "marketing_event", at, event, None, None)

    db.executemany(
        "INSERT INTO activity (id, contact_id, kind, occurred_at, event_type, url, form_name) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows(),  # type: ignore[arg-type]  # a generator of tuples is what executemany takes
    )
    db.commit()
    db.close()


def measure(path: Path, path_kind: str) -> None:
    """Runs in its own process: one rescore of the database at `path` ("bulk": the full rescore; "per-contact": every
    live contact through the incremental path), then its time and peak memory as one line of JSON."""
    from hubsync.jobs.rescore import rescore  # noqa: PLC0415  (imports the project only when measuring)
    from hubsync.scoring import ScoringModel  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415
    from hubsync.store.reads import live_contact_ids  # noqa: PLC0415
    from hubsync.validation import parse  # noqa: PLC0415

    model = parse(ScoringModel, tomllib.loads(CONFIG.read_text(encoding="utf-8"))["scoring"], str(CONFIG), ("scoring",))
    engine = open_database(f"sqlite:///{path}")
    ids = None
    if path_kind == "per-contact":
        with engine.connect() as conn:
            ids = live_contact_ids(conn)
    wall, cpu = time.perf_counter(), time.process_time()
    result = rescore(engine, model, now=NOW, contact_ids=ids)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak_mb, "contacts": result.contacts_scored}))


def _run(source: Path, path_kind: str) -> dict[str, float]:
    """One rescore in a fresh process on a fresh copy of `source`; the copy is kept for the comparison."""
    copy = source.with_name(f"{source.stem}.{path_kind}.db")
    shutil.copyfile(source, copy)
    out = subprocess.run(  # noqa: S603  (this script)
        [sys.executable, __file__, "--measure", str(copy), "--path", path_kind],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def _mismatches(a: Path, b: Path) -> int:
    """Stored score rows that differ between two databases (every column, contacts and companies)."""
    differ = 0
    for table, key in (("contact_score", "contact_id"), ("company_score", "company_id")):
        rows = []
        for path in (a, b):
            db = sqlite3.connect(path)
            rows.append({row[0]: row for row in db.execute(f"SELECT * FROM {table} ORDER BY {key}")})  # noqa: S608  (names from this script)
            db.close()
        differ += sum(1 for k in rows[0].keys() | rows[1].keys() if rows[0].get(k) != rows[1].get(k))
    return differ


def report(path: Path, runs: int) -> None:
    load = os.getloadavg()
    print(f"machine load (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    bulk = [_run(path, "bulk") for _ in range(runs)]
    per_contact = _run(path, "per-contact")
    walls = [r["wall"] for r in bulk]
    print(f"full rescore of {int(bulk[0]['contacts']):,} contacts (bulk path), {runs} runs:")
    for r in bulk:
        print(f"  {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, peak memory {r['peak_mb']:,.0f} MB")
    print(
        f"  min {min(walls):.1f} s, median {statistics.median(walls):.1f} s (target <= 10 s; peak target <= 1,024 MB)"
    )
    print(
        f"per-contact path, same contacts: {per_contact['wall']:.1f} s wall, {per_contact['cpu']:.1f} s CPU, "
        f"peak memory {per_contact['peak_mb']:,.0f} MB"
    )
    print(
        f"ratio per-contact / bulk, last runs: {per_contact['wall'] / bulk[-1]['wall']:.2f} (wall), "
        f"{per_contact['cpu'] / bulk[-1]['cpu']:.2f} (CPU)"
    )
    differ = _mismatches(path.with_name(f"{path.stem}.bulk.db"), path.with_name(f"{path.stem}.per-contact.db"))
    print(f"score rows that differ between the two paths: {differ}")
    load = os.getloadavg()
    print(f"machine load after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--path", choices=("bulk", "per-contact"), default="bulk", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.path)
        return
    OUT.mkdir(exist_ok=True)
    path = OUT / f"score-{args.contacts}-{args.activities}.db"
    if args.rebuild or not path.exists():
        began = time.perf_counter()
        build(path, args.contacts, args.activities)
        print(
            f"built {path.name}: {args.contacts:,} contacts, {args.activities:,} activities "
            f"in {time.perf_counter() - began:.0f} s (not part of the measurement)"
        )
    report(path, args.runs)


if __name__ == "__main__":
    main()
