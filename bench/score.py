"""Benchmark: a full rescore of 100,000 contacts with 2,000,000 activities in SQLite.

Prints (nothing is asserted), each rescore in a fresh process on a fresh copy of the database (so that its peak
memory is its own and every run writes the same rows):

- what starting the worker processes costs: a pool of one per core, the first of a process (multiprocessing's fork
  server starts and imports hubsync; every full rescore below pays it once) and a later one;
- the full rescore (the bulk path: only the columns scoring needs, read by column, the engagement of each batch of
  contacts computed at once over arrays (hubsync/scoring/bulk.py), scored by a worker process per core while the
  main process stores, and by the main process too until the workers have started): wall seconds and CPU seconds
  of all its processes for each run, their minimum and median (target <= 10 s wall), and its peak memory: the
  main process's, the largest worker's, and their sum over all processes (target <= 1 GB);
- the same in one process (`processes=1`), and the same contacts through the per-contact path (an Activity per row,
  as an incremental rescore reads them), with the ratios to the first, measured one after the other, which says
  more than seconds on a busy machine;
- how many stored score rows differ from the per-contact path's (must be 0).

The database is generated once into bench/out/ (not timed) and reused.

    python bench/score.py [--contacts 100000] [--activities 2000000] [--runs 2] [--rebuild] [--quick]

--quick measures the bulk path only (no one-process and per-contact runs, no comparison).
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runs import arguments, load, measured, memory, run, summary

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

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


def measure(path: Path, kind: str) -> None:
    """Runs in its own process: one rescore of the database at `path` ("bulk": the full rescore; "one-process": the
    same in this process only; "per-contact": every live contact through the incremental path), then its figures
    (`runs.measured`) as one line of JSON. "startup": no rescore, how long worker processes take to start instead."""
    from hubsync.jobs import rescore as rescore_job  # noqa: PLC0415  (imports the project only when measuring)
    from hubsync.jobs.rescore import rescore, worker_processes  # noqa: PLC0415
    from hubsync.scoring import ScoringModel  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415
    from hubsync.store.reads import live_contact_ids  # noqa: PLC0415
    from hubsync.validation import parse  # noqa: PLC0415

    model = parse(ScoringModel, tomllib.loads(CONFIG.read_text(encoding="utf-8"))["scoring"], str(CONFIG), ("scoring",))
    engine = open_database(f"sqlite:///{path}")
    if kind == "startup":
        print(json.dumps(_startup(engine)))
        return
    ids = None
    if kind == "per-contact":
        with engine.connect() as conn:
            ids = live_contact_ids(conn)
        # Every live contact would be read in bulk as a first cycle's are: the per-contact path is what the bulk
        # path must equal, so it is taken here whatever the contacts cover (as tests/integration/scoring_db does).
        rescore_job.covers_every_live_contact = lambda *_: False  # in this process only
    processes = 1 if kind == "one-process" else None
    result, figures = measured(lambda: rescore(engine, model, now=NOW, contact_ids=ids, processes=processes))
    workers = worker_processes(processes, result.contacts_scored) if ids is None else 1
    engine.dispose()
    print(json.dumps(figures | {"workers": workers, "contacts": result.contacts_scored}))


def _idle(engine: Engine) -> Callable[[int], int]:
    """A worker's job that only connects: what starting a worker costs beyond it is the start-up."""

    def job(n: int) -> int:
        with engine.connect():
            return n

    return job


def _startup(engine: Engine) -> dict[str, float]:
    """Seconds until a pool of a worker per core has answered a task per worker: the first pool of a process (the
    fork server starts and imports hubsync) and the one after it (the server forks at once)."""
    from hubsync.jobs.workers import Workers, usable_cores  # noqa: PLC0415  (imports the project only when measuring)

    cores = usable_cores()
    seconds = []
    for _ in range(2):
        began = time.perf_counter()
        with Workers(engine, _idle, cores) as pool:
            list(pool.map(range(cores)))
        seconds.append(time.perf_counter() - began)
    return {"first": seconds[0], "later": seconds[1], "workers": cores}


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


def report(path: Path, runs: int, *, quick: bool) -> None:
    print(f"machine load (1, 5, 15 min): {load()}")
    startup = run(__file__, path, "startup")
    print(
        f"worker start-up ({int(startup['workers'])} workers, each answering one task): first pool of a process "
        f"{startup['first']:.2f} s (the fork server starts and imports hubsync), a later pool {startup['later']:.2f} s"
    )
    bulk = [run(__file__, path, "bulk") for _ in range(runs)]
    summary(
        f"full rescore of {int(bulk[0]['contacts']):,} contacts (bulk path, worker processes)",
        bulk,
        " (target <= 10 s wall; peak target <= 1,024 MB)",
    )
    if not quick:
        for kind in ("one-process", "per-contact"):
            other = run(__file__, path, kind)
            print(
                f"{kind} path, same contacts: {other['wall']:.1f} s wall, {other['cpu']:.1f} s CPU, {memory(other)}; "
                f"ratio to the last bulk run {other['wall'] / bulk[-1]['wall']:.2f} (wall), "
                f"{other['cpu'] / bulk[-1]['cpu']:.2f} (CPU)"
            )
        per_contact = path.with_name(f"{path.stem}.per-contact.db")
        for kind in ("bulk", "one-process"):
            differ = _mismatches(path.with_name(f"{path.stem}.{kind}.db"), per_contact)
            print(f"score rows that differ between the {kind} and the per-contact path: {differ}")
    print(f"machine load after: {load()}")


def database(contacts: int, activities: int, *, rebuild: bool = False) -> Path:
    """The generated database of this size in bench/out/, built when it is not there yet (or `rebuild`)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"score-{contacts}-{activities}.db"
    if rebuild or not path.exists():
        began = time.perf_counter()
        build(path, contacts, activities)
        print(
            f"built {path.name}: {contacts:,} contacts, {activities:,} activities "
            f"in {time.perf_counter() - began:.0f} s (not part of the measurement)"
        )
    return path


def main() -> None:
    parser = arguments(__doc__, ("bulk", "one-process", "per-contact", "startup"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--quick", action="store_true", help="the bulk path only, no comparison")
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.kind)
        return
    report(database(args.contacts, args.activities, rebuild=args.rebuild), args.runs, quick=args.quick)


if __name__ == "__main__":
    main()
