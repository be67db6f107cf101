"""What a full outcome refresh costs (issue 19: `refresh_after_cycle` on a first cycle or a full rescore).

    .venv/bin/python bench/outcomes.py DATABASE [--runs 3]

DATABASE is a hubsync database after a cycle: a SQLite file (copied first, never changed) or a PostgreSQL URL
(its `contact_outcome` is emptied and refilled). Build one with `bench/scale.py` (keep its database) or any sandbox
run. Each run empties `contact_outcome` (a first cycle: nothing stored yet) and refreshes every contact; then one
more refresh over the stored outcomes (a full rescore's). Prints min and median wall time, and the load average.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import structlog

from hubsync.jobs.outcomes import refresh_outcomes
from hubsync.settings import load_settings
from hubsync.store.db import open_database
from hubsync.store.tables import outcome_t

CONFIG = Path(__file__).resolve().parent.parent / "config" / "hubsync.toml"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", help="a SQLite file or a postgresql+psycopg:// URL")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    model = load_settings({}, str(CONFIG)).config.scoring
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-outcomes-") as tmp:
        url = args.database
        if "://" not in url:
            copy = Path(tmp) / "outcomes.db"
            shutil.copy(url, copy)
            url = f"sqlite:///{copy}"
        engine = open_database(url)
        try:
            print(f"load average at start: {_load()} ({os.cpu_count()} cores); {engine.dialect.name}")
            first, again = [], []
            for _ in range(args.runs):
                with engine.begin() as conn:
                    conn.execute(sa.delete(outcome_t))
                start = time.perf_counter()
                contacts = refresh_outcomes(engine, model, now=now)
                first.append(time.perf_counter() - start)
                start = time.perf_counter()
                refresh_outcomes(engine, model, now=now)
                again.append(time.perf_counter() - start)
        finally:
            engine.dispose()
    for name, times in (("none stored (first cycle)", first), ("all stored (full rescore)", again)):
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(
            f"{contacts:,} contacts, {name}: min {min(times):.2f} s, median {statistics.median(times):.2f} s ({runs})"
        )
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
