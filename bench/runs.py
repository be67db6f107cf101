"""What the rescore benches (bench/score.py, bench/preview.py) share: each measurement in a fresh process on a fresh
copy of the database, its figures with those of its worker processes, and their summary.

A measured process's workers are forked by multiprocessing's fork server, not by the process itself: their CPU time
and peak memory reach the process (`RUSAGE_CHILDREN`) once the fork server, which waited for them, has ended and been
waited for. `measured` stops it for that after the work.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing.forkserver
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def run(script: str, source: Path, kind: str) -> dict[str, float]:
    """`script --measure COPY --kind KIND` in a fresh process on a fresh copy of `source` (kept, to compare), and
    the one line of JSON figures it prints last."""
    copy = source.with_name(f"{source.stem}.{kind}.db")
    shutil.copyfile(source, copy)
    out = subprocess.run(  # noqa: S603  (a bench script of this directory)
        [sys.executable, script, "--measure", str(copy), "--kind", kind],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def measured(work: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """`work()` and its figures: wall seconds, CPU seconds of this process and of every worker process it started,
    this process's peak memory (MB) and the largest worker's (0 when it started none)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    # Private, but the only way to wait for the fork server (and through it for the workers it forked).
    multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]  # noqa: SLF001  (see above)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result, {"wall": wall, "cpu": cpu, "peak_mb": peak_mb, "worker_mb": after.ru_maxrss / 1024}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def memory(r: dict[str, float]) -> str:
    if r["workers"] <= 1:
        return f"peak memory {r['peak_mb']:,.0f} MB"
    total = r["peak_mb"] + r["workers"] * r["worker_mb"]
    return (
        f"peak memory {r['peak_mb']:,.0f} MB + {int(r['workers'])} workers of at most {r['worker_mb']:,.0f} MB "
        f"= at most {total:,.0f} MB"
    )


def summary(name: str, runs: list[dict[str, float]], target: str = "") -> float:
    """Prints each run and the minimum and median of wall and CPU seconds; returns the median wall seconds."""
    walls = [r["wall"] for r in runs]
    cpus = [r["cpu"] for r in runs]
    print(f"{name}, {len(runs)} runs:")
    for r in runs:
        print(f"  {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU (all processes), {memory(r)}")
    median = statistics.median(walls)
    print(
        f"  min {min(walls):.1f} s, median {median:.1f} s wall; CPU min {min(cpus):.1f} s, "
        f"median {statistics.median(cpus):.1f} s{target}"
    )
    return median


def arguments(doc: str | None, kinds: tuple[str, ...]) -> argparse.ArgumentParser:
    """The arguments of a bench on bench/score.py's database: its size and the runs, and those `run` passes to the
    measuring process (`kinds`: what it measures, the first by default)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=kinds, default=kinds[0], help=argparse.SUPPRESS)
    return parser
