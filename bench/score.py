"""Benchmark: a full rescore of 100,000 contacts with 2,000,000 activities in SQLite.

Prints (nothing is asserted): seconds for the full rescore including reading from and writing to the database
(target ≤ 30 s), contacts per second for the pure scoring step, and the peak memory of the rescoring process
(target ≤ 1.5 GB). The database is generated once into bench/out/ (not timed) and reused; the rescore runs in a
fresh process so its peak memory is its own.

    python bench/score.py [--contacts 100000] [--activities 2000000] [--rebuild]
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
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


def measure(path: Path) -> None:
    """Runs in its own process: the full rescore, then the pure step alone, then peak memory."""
    from hubsync.jobs.rescore import rescore  # noqa: PLC0415
    from hubsync.scoring import ScoringModel, score_contact  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415
    from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id  # noqa: PLC0415
    from hubsync.validation import parse  # noqa: PLC0415

    model = parse(ScoringModel, tomllib.loads(CONFIG.read_text(encoding="utf-8"))["scoring"], str(CONFIG), ("scoring",))
    engine = open_database(f"sqlite:///{path}")
    began = time.perf_counter()
    result = rescore(engine, model, now=NOW)
    full = time.perf_counter() - began
    print(f"full rescore: {result.contacts_scored:,} contacts, {result.companies_scored:,} companies in {full:.1f} s")
    print(f"  ({result.contacts_scored / full:,.0f} contacts/s including database reads and writes; target ≤ 30 s)")

    with engine.connect() as conn:
        ids = list(range(1, 20_001))
        contacts = contacts_by_id(conn, ids)
        companies = companies_by_id(conn, {c.company_id for c in contacts.values() if c.company_id})
        activities = activities_by_contact(conn, ids, until=NOW)
    began = time.perf_counter()
    for cid, contact in contacts.items():
        company = companies.get(contact.company_id) if contact.company_id else None
        score_contact(contact, company, activities.get(cid, ()), model, now=NOW)
    pure = time.perf_counter() - began
    n_acts = sum(len(a) for a in activities.values())
    print(f"pure scoring: {len(contacts) / pure:,.0f} contacts/s ({n_acts / pure:,.0f} activities/s)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the rescoring process: {peak_mb:,.0f} MB (target ≤ 1,536 MB)")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
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
    subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)  # noqa: S603  (this script)


if __name__ == "__main__":
    main()
