"""Benchmark: what the handoff's read of hubsync's open tasks (`jobs/open_tasks.py`) costs on an idle cycle, by the
number of open tasks.

For each count, a sandbox portal (no rate limits) with that many open hubsync tasks and a fresh SQLite database; a
first read (full: no cursor yet) adopts them all. Then, interleaved, `--runs` reads of each kind a quarter of an hour
apart with nothing changed in the portal: a full read (every open task searched, what every cycle did before the
incremental read) and an incremental one (the tasks changed since the last read). Prints requests and wall time (min
and median) per kind.

    .venv/bin/python bench/open_tasks.py [--tasks 200 1177 3000] [--runs 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import structlog

from hubsync.settings import load_settings
from tests.support.open_tasks_world import World, start
from tests.support.paths import DEFAULT_CONFIG


def _timed(world: World) -> tuple[int, float]:
    started = time.perf_counter()
    _, calls = world.cycle()
    return calls, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, nargs="+", default=[200, 1_177, 3_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sync = load_settings({}, str(DEFAULT_CONFIG)).config.sync
    # Every read full, as before: no validation, which would refuse 0 days.
    always_full = sync.model_copy(update={"full_reconcile_days": 0})
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'open tasks':>10}  {'kind':<11}  {'requests':>8}  {'min ms':>8}  {'median ms':>9}")
    for count in args.tasks:
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
            world = start(stack, f"sqlite:///{Path(tmp) / 'hubsync.db'}", count, sync)
            world.cycle()
            figures: dict[str, list[tuple[int, float]]] = {"full": [], "incremental": []}
            for _ in range(args.runs):
                world.sync = always_full
                figures["full"].append(_timed(world))
                world.sync = sync
                figures["incremental"].append(_timed(world))
            for kind, runs in figures.items():
                calls = sorted({c for c, _ in runs})
                times = [t * 1000 for _, t in runs]
                shown = "/".join(str(c) for c in calls)
                print(f"{count:>10,}  {kind:<11}  {shown:>8}  {min(times):>8.1f}  {statistics.median(times):>9.1f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
