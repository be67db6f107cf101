"""Scale benchmark (issue 19, acceptance 1 and 3): what hubsync's cycles cost on a large portal, limits on.

    .venv/bin/python bench/scale.py [--contacts 50000] [--db sqlite|postgresql|both] [--runs 1] [--seed 7]
                                    [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

A generated sandbox portal (Enterprise tier: 190 requests per 10 s, search 5 per second, enforced) runs in a process
of its own, as HubSpot is remote. hubsync runs the shipped config with `tier = "enterprise"` (its pacing at 90 %)
into a fresh SQLite file or a fresh PostgreSQL schema, and makes five cycles (`run_cycle`, as `hubsync sync` does;
tests/support/scale_cycles.py): the first one (pull everything, score, push, tasks), the next scheduled one 15
minutes later (it re-reads what the first pushed), an idle one (nothing changed but what the cycle before wrote),
one after a simulated day of portal activity and one after a simulated week (buyers, browsers, new contacts and the
sales team of tests/support/handoff_sim.py at the portal's size).

Per cycle: API calls by kind, wall time, the rate floor (the fewest calls the page and batch limits allow for what
had to be read and written, at 19 calls/s, or its searches at 5/s if slower; tests/support/call_floor.py) and the
ratio to it, records re-read, scored, pushed, tasks created, 429s, and what changed in the portal since the cycle
before. Then the acceptance targets next to the figures, load average at start and end, peak memory of hubsync's
process (the sandbox's is its own). With --runs 2 or more: min and median per cycle. Expect about 10 minutes per run
at 50,000 contacts (the first pull alone is about 2,700 calls at 19/s) plus a minute to generate the portal.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import resource
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.setup import setup
from hubsync.sandbox import LimitSettings, generate_portal, serve
from hubsync.settings import Settings, load_settings
from hubsync.store.db import open_database
from tests.support.config import config_with
from tests.support.cycle_timeline import recording, report
from tests.support.pg_schema import fresh_database
from tests.support.scale_cycles import (
    CYCLES,
    KINDS,
    CycleFigures,
    PortalChanges,
    PullFloor,
    portal_changes,
    pull_floor,
    run_cycles,
    simulate_days,
)

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIRST_FLOOR_RATIO = 1.25
NEXT_SECONDS = 60.0
IDLE_CALLS = 30


# -- the portal in a process of its own -------------------------------------------------------------------------


def _serve_portal(conn: Connection, contacts: int, seed: int) -> None:
    """The child: generate the portal, serve it with the Enterprise limits on, then answer the bench's requests
    (clock, simulation, changes, floors) until told to stop."""
    portal = generate_portal(contacts, seed)
    sb = serve(portal, limits=LimitSettings(tier="enterprise"))
    conn.send((sb.url, sb.token))
    handlers: dict[str, Callable[..., Any]] = {
        "now_ms": lambda: portal.now,
        "advance": portal.advance,
        "simulate": lambda days, sim_seed: simulate_days(portal, days, sim_seed),
        "changes": lambda since, until: portal_changes(portal, since, until),
        "floor": lambda since, until, history: pull_floor(portal, since, until, history),
        "served_429": lambda: int(sb.stats()["byStatus"].get("429", 0)),
    }
    try:
        while (request := conn.recv()) is not None:
            name, args = request
            conn.send(handlers[name](*args))
    finally:
        sb.close()


class ChildPortal:
    """`PortalControl` for a portal served by a child process."""

    def __init__(self, contacts: int, seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._proc = context.Process(target=_serve_portal, args=(child, contacts, seed), name="sandbox")
        self._proc.start()
        self.url, self.token = self._conn.recv()

    def _ask(self, name: str, *args: object) -> Any:
        self._conn.send((name, args))
        return self._conn.recv()

    def now_ms(self) -> int:
        return int(self._ask("now_ms"))

    def advance(self, seconds: float) -> None:
        self._ask("advance", seconds)

    def simulate(self, days: int, seed: int) -> None:
        self._ask("simulate", days, seed)

    def changes(self, since_ms: int, until_ms: int) -> PortalChanges:
        result: PortalChanges = self._ask("changes", since_ms, until_ms)
        return result

    def floor(self, since_ms: int | None, until_ms: int, history_ms: int) -> PullFloor:
        result: PullFloor = self._ask("floor", since_ms, until_ms, history_ms)
        return result

    def served_429(self) -> int:
        return int(self._ask("served_429"))

    def close(self) -> None:
        self._conn.send(None)
        self._proc.join(timeout=60)


# -- databases ---------------------------------------------------------------------------------------------------


def _settings(portal: ChildPortal, database_url: str, workdir: Path) -> Settings:
    config = config_with(workdir, {'tier = "professional"': 'tier = "enterprise"'})
    env = {
        "HUBSPOT_ACCESS_TOKEN": portal.token,
        "HUBSYNC_API_BASE_URL": portal.url,
        "HUBSYNC_DATABASE_URL": database_url,
    }
    return load_settings(env, str(config))


# -- one run -----------------------------------------------------------------------------------------------------


def _one_run(kind: str, args: argparse.Namespace, workdir: Path) -> list[CycleFigures]:
    portal = ChildPortal(args.contacts, args.seed)
    try:
        with fresh_database(args.postgres if kind == "postgresql" else None, workdir, "scale") as url:
            settings = _settings(portal, url, workdir)
            engine = open_database(url)
            try:
                with HubSpotClient(client_settings(settings)) as client:
                    setup(client, settings.config.push)
                    _header()
                    return run_cycles(
                        portal,
                        settings,
                        engine,
                        client,
                        seed=args.seed + 100,
                        on_cycle=_row,
                        cycles=CYCLES[: args.cycles],
                        instrument=_timeline(client, settings) if args.timeline else None,
                    )
            finally:
                engine.dispose()
    finally:
        portal.close()


def _timeline(client: HubSpotClient, settings: Settings) -> Callable[[str], Any]:
    """Each cycle recorded (tests/support/cycle_timeline.py), its phases printed after its row."""
    portal = settings.config.portal

    @contextmanager
    def recorded(name: str) -> Iterator[None]:
        with recording(client) as timeline:
            yield
        for line in report(
            timeline,
            per_second=portal.effective_requests_per_10s * portal.pace_fraction / 10,
            searches_per_second=portal.search_requests_per_second,
            name=name,
        ):
            print(line)

    return recorded


_COLUMNS = (
    ("cycle", 6),
    ("calls", 6),
    *((k.split(" ")[0][:7], 8) for k in KINDS),
    ("wall s", 9),
    ("floor s", 8),
    ("ratio", 7),
    ("pulled", 11),
    ("rechk", 8),
    ("scored", 7),
    ("pushed", 7),
    ("tasks", 6),
    ("429", 4),
    ("changed", 9),
)


def _header() -> None:
    print("  " + "".join(f"{name:>{width}}" if i else f"{name:<{width}}" for i, (name, width) in enumerate(_COLUMNS)))


def _row(c: CycleFigures) -> None:
    values = (
        c.name,
        f"{c.total_calls:,}",
        *(f"{c.calls[k]:,}" for k in KINDS),
        f"{c.wall_s:.1f}",
        f"{c.floor_s:.1f}",
        f"{c.floor_ratio:.2f}",
        f"{c.pulled:,}",
        f"{c.rechecked:,}",
        f"{c.scored:,}",
        f"{c.pushed:,}",
        f"{c.tasks:,}",
        f"{c.client_429 + c.server_429}",
        f"{c.changes.total:,}",
    )
    print(
        "  "
        + "".join(
            f"{v:>{w}}" if i else f"{v:<{w}}" for i, (v, (_, w)) in enumerate(zip(values, _COLUMNS, strict=True))
        ),
        flush=True,
    )


def _targets(c: dict[str, CycleFigures]) -> None:
    if len(c) < len(CYCLES):
        first = c["first"]
        print(
            f"    first cycle {first.wall_s:.1f} s = {first.floor_ratio:.2f} x its rate floor of {first.floor_s:.1f} s"
        )
        return
    first, nxt, idle = c["first"], c["next"], c["idle"]

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print("  targets:")
    print(
        f"    first cycle {first.wall_s:.1f} s = {first.floor_ratio:.2f} x its rate floor of {first.floor_s:.1f} s "
        f"({first.minimum_calls:,} calls; made {first.total_calls:,})   (target <= {FIRST_FLOOR_RATIO}: "
        f"{verdict(first.floor_ratio <= FIRST_FLOOR_RATIO)})"
    )
    print(
        f"    first push: {first.task_create_calls} task create calls for {first.tasks:,} tasks, "
        f"ceil(tasks / 100) = {math.ceil(first.tasks / 100)}   "
        f"({verdict(first.task_create_calls == math.ceil(first.tasks / 100))})"
    )
    print(
        f"    next cycle {nxt.wall_s:.1f} s   (target <= {NEXT_SECONDS:.0f} s: {verdict(nxt.wall_s <= NEXT_SECONDS)})"
    )
    print(
        f"    idle cycle {idle.total_calls} calls   (target <= {IDLE_CALLS}: {verdict(idle.total_calls <= IDLE_CALLS)})"
    )
    for name in ("day", "week"):
        x = c[name]
        n = max(1, x.changes.total)
        records = ", ".join(f"{v:,} {t}" for t, v in sorted(x.changes.records.items()))
        print(
            f"    {name}: {x.changes.total:,} changes ({x.changes.activities:,} activities; records: {records}) -> "
            f"{x.total_calls:,} calls ({x.total_calls / n:.3f} per change; floor {x.minimum_calls:,}), "
            f"{x.pulled:,} re-read ({x.pulled / n:.2f} per change), {x.pushed:,} pushed ({x.pushed / n:.2f} "
            "per change)   (target: proportional to the changes)"
        )


def _summary(kind: str, runs: Sequence[list[CycleFigures]]) -> None:
    print(f"\n{kind}: {len(runs)} runs, min / median")
    # Every run made the same cycles: all of CYCLES, or its first --cycles.
    for i, name in enumerate(CYCLES[: len(runs[0])]):
        walls = [r[i].wall_s for r in runs]
        calls = [r[i].total_calls for r in runs]
        ratios = [r[i].floor_ratio for r in runs]
        print(
            f"  {name:<6} wall {min(walls):7.1f} / {statistics.median(walls):7.1f} s   "
            f"ratio to floor {min(ratios):6.2f} / {statistics.median(ratios):6.2f}   "
            f"calls {min(calls):,} / {statistics.median(calls):,.0f}"
        )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--cycles", type=int, default=len(CYCLES), help="only the first N cycles")
    parser.add_argument("--timeline", action="store_true", help="where each cycle's wall time goes, by phase")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL server (a fresh schema per run)")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    print(f"load average at start: {_load()} ({os.cpu_count()} cores)")
    print(f"portal: {args.contacts:,} contacts, seed {args.seed}, Enterprise limits on; sandbox in its own process")
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for kind in kinds:
            runs = []
            for run in range(args.runs):
                print(f"\n{kind}, run {run + 1} of {args.runs} (load {_load()})")
                figures = _one_run(kind, args, Path(tmp))
                _targets({c.name: c for c in figures})
                runs.append(figures)
            if args.runs > 1:
                _summary(kind, runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of hubsync's process: {peak_mb:,.0f} MB; load average at end: {_load()}")


if __name__ == "__main__":
    main()
