"""Pull benchmark: API calls against the minimum, pacing, idle runs and storage speed.

    .venv/bin/python bench/pull.py [--contacts 10000] [--seed 7] [--runs 2] [--storing-only]
                                   [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

1. A full sync of the portal with the tier's limits on (Enterprise: 190 requests per 10 s, search 5 per second) and
   hubsync's default pacing (90 % of the budget): calls per stream and in total against the minimum the page and
   batch limits allow (target <= 1.15 x), 429s the pacer caused (target 0; no faults are injected, so every 429 is
   the pacer's), and the achieved request rate against the allowed one (target >= 80 %).
2. Two incremental runs with nothing changed (the first still re-reads the overlap behind its cursor): calls per
   stream of the second (target <= 2).
3. Storing alone: full syncs with the limits off into a fresh SQLite file and a fresh PostgreSQL schema, `--runs`
   of each, alternating: records stored per second, min and median, and PostgreSQL's rate over SQLite's (target
   >= 1; SQLite >= 5,000/s). How long the pull waited for pages, and fetching for room, comes from the pipeline.
   With --storing-only, this part alone.

The sandbox runs in its own process (HubSpot is remote); its
clock is the pull's clock, as in the tests. Expect a few minutes for 10,000 contacts with limits on.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import structlog

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.hubspot.streams import crm
from hubsync.jobs.pull import PullOptions, pull
from hubsync.sandbox.generator import generate_portal
from hubsync.secret import Secret
from hubsync.store.db import open_database
from tests.support.call_floor import minimum_calls
from tests.support.pg_schema import fresh_database

PER_10S = 190
PACE = 0.9
POSTGRES = os.environ.get("HUBSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class _Waits:
    """What the pull's fetching pipeline reports per stream (`pull.pipeline_done`), summed since the last reset:
    how long storing waited for pages (fetch-bound) and fetching for room in the buffer (store-bound)."""

    storing: float = 0.0
    fetching: float = 0.0

    def reset(self) -> None:
        self.storing = self.fetching = 0.0

    def __call__(self, _logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if event.get("event") == "pull.pipeline_done":
            self.storing += float(event["storing_waited"])
            self.fetching += float(event["fetching_waited"])
        if method in ("debug", "info"):
            raise structlog.DropEvent
        return event


WAITS = _Waits()


def _stream_of(operation: str) -> str:
    """Client operation names → the pull's streams."""
    kind, _, rest = operation.partition(" ")
    if kind in ("list", "search", "count", "scan"):
        obj = rest
        if obj in crm.ENGAGEMENT_OBJECTS.values():
            return f"engagement_{obj}"
        if obj == "forms":
            return "form_submissions"
        if obj.startswith("marketing"):
            return "marketing_events"
        return obj
    if kind == "associations":
        source = rest.split("->")[0]
        return f"engagement_{source}" if source in crm.ENGAGEMENT_OBJECTS.values() else "associations"
    return {
        "email": "email_events",
        "form": "form_submissions",
        "marketing": "marketing_events",
        "web": "web_events",
    }.get(kind, operation)


class _Server:
    """The sandbox portal in its own process (`hubsync sandbox serve`), as HubSpot is: its work (JSON, paging)
    does not compete with hubsync's for this process's interpreter lock."""

    def __init__(self, contacts: int, seed: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.token = f"pat-bench-{secrets.token_hex(8)}"
        self.url = f"http://127.0.0.1:{port}"
        self._proc = subprocess.Popen(  # noqa: S603 -- our own CLI with fixed arguments
            [
                sys.executable,
                "-m",
                "hubsync",
                "sandbox",
                "serve",
                "--contacts",
                str(contacts),
                "--seed",
                str(seed),
                "--port",
                str(port),
                "--token",
                self.token,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/__sandbox__/stats", timeout=1)
            except requests.ConnectionError:
                time.sleep(0.2)
            else:
                return
        raise RuntimeError("the sandbox did not start")

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{self.url}/__sandbox__{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.admin("GET", "/clock")["now"] / 1000, UTC)

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=30)


def _client(server: _Server, *, limits: bool) -> HubSpotClient:
    if limits:
        settings = ClientSettings(
            access_token=Secret(server.token),
            base_url=server.url,
            requests_per_10s=PER_10S,
            pace_fraction=PACE,
            search_per_second=5,
        )
    else:
        settings = ClientSettings(
            access_token=Secret(server.token),
            base_url=server.url,
            requests_per_10s=100_000,
            pace_fraction=1.0,
            search_per_second=1_000,
        )
    return HubSpotClient(settings)


def _by_stream(by_operation: Mapping[str, int]) -> Counter[str]:
    out: Counter[str] = Counter()
    for operation, n in by_operation.items():
        out[_stream_of(operation)] += n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=2, help="storing-alone runs per database")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL server (a fresh schema per run)")
    parser.add_argument("--storing-only", action="store_true", help="only 3.: storing alone, limits off")
    args = parser.parse_args()
    # Debug events are read for the pipeline's waits; only warnings and errors are printed.
    structlog.configure(
        processors=[WAITS, structlog.dev.ConsoleRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    options = PullOptions()
    history_ms = round(options.history.total_seconds() * 1000)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    minimum: Mapping[str, int] = {}
    if not args.storing_only:
        # The same seed gives the same portal: this copy tells the minimum number of calls.
        portal = generate_portal(args.contacts, args.seed)
        minimum = minimum_calls(portal, until_ms=portal.now, history_ms=history_ms)
    print(f"portal: {args.contacts:,} contacts, seed {args.seed}; sandbox in its own process")
    server = _Server(args.contacts, args.seed)
    try:
        first = None if args.storing_only else _limited(server, options, minimum, workdir)
        alone = _unlimited(server, options, workdir, runs=args.runs, postgres=args.postgres)
    finally:
        server.close()
    if first is None:
        return
    floor = sum(minimum.values()) / (PER_10S / 10)
    storing = statistics.median(alone["SQLite"])
    print(
        "\n4. overlap: the first sync with limits on (1.) against the rate floor and storing alone (3., SQLite median)"
    )
    print(
        f"   wall {first.elapsed:.1f} s; rate floor {floor:.1f} s "
        f"({sum(minimum.values())} calls at {PER_10S / 10:.0f}/s)"
    )
    print(
        f"   storing alone {storing:.1f} s; "
        f"wall / max(floor, storing alone) = {first.elapsed / max(floor, storing):.2f}"
    )
    print(
        f"   storing waited for pages {first.storing_waited:.1f} s, "
        f"fetching waited for room {first.fetching_waited:.1f} s"
    )


@dataclass(frozen=True)
class _FirstSync:
    elapsed: float
    storing_waited: float
    fetching_waited: float


def _limited(server: _Server, options: PullOptions, minimum: Mapping[str, int], workdir: Path) -> _FirstSync:
    engine = open_database(f"sqlite:///{workdir / 'limits.db'}")
    with _client(server, limits=True) as client:
        WAITS.reset()
        began = time.monotonic()
        result = pull(client, engine, options, now=server.now)
        elapsed = time.monotonic() - began
        first = _FirstSync(elapsed, WAITS.storing, WAITS.fetching)
        actual = _by_stream(client.stats().by_operation)
        full_429 = server.admin("GET", "/stats")["byStatus"].get("429", 0)
        print("\n1. full sync, tier limits on (190 per 10 s, search 5/s, pacing at 90 %)")
        print(f"   {'stream':<22}{'calls':>8}{'minimum':>9}{'ratio':>8}")
        for stream in sorted(set(minimum) | set(actual)):
            lo, n = minimum.get(stream, 0), actual.get(stream, 0)
            print(f"   {stream:<22}{n:>8}{lo:>9}{(n / lo if lo else float('nan')):>8.2f}")
        total, lo_total = sum(actual.values()), sum(minimum.values())
        print(f"   {'total':<22}{total:>8}{lo_total:>9}{total / lo_total:>8.2f}   (target <= 1.15)")
        print(f"   429s caused by the pacer: {full_429}   (target 0)")
        rate = total / elapsed
        print(
            f"   {total} calls in {elapsed:.1f} s = {rate:.1f} req/s of {PER_10S / 10:.0f} allowed "
            f"= {rate / (PER_10S / 10):.0%}   (target >= 80 %); stored {result.stored:,} records"
        )
        for _ in range(2):
            server.admin("POST", "/clock", {"advanceSeconds": 20 * 60})
            before = dict(client.stats().by_operation)
            pull(client, engine, options, now=server.now)
        after = client.stats().by_operation
        idle = _by_stream({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})
        all_429 = server.admin("GET", "/stats")["byStatus"].get("429", 0)
        print("\n2. incremental run with nothing changed: calls per stream (target <= 2)")
        for stream in sorted(minimum):
            print(f"   {stream:<22}{idle.get(stream, 0):>8}")
        print(f"   {'total':<22}{sum(idle.values()):>8}")
        print(f"   429s in both incremental runs: {all_429 - full_429}   (target 0)")
    engine.dispose()
    return first


def _unlimited(
    server: _Server, options: PullOptions, workdir: Path, *, runs: int, postgres: str
) -> dict[str, list[float]]:
    """Full syncs with the limits off, alternating the databases; returns each one's times."""
    # Off: nothing enforced, and a budget so large in the headers that the pacer never waits for it.
    server.admin("POST", "/settings", {"rateLimits": False, "perTenSeconds": 10_000_000})
    times: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    print("\n3. full sync, limits off (storing alone)")
    stored = 0
    for run in range(1, runs + 1):
        for kind, taken in times.items():
            with fresh_database(postgres if kind == "PostgreSQL" else None, workdir, "bench_pull") as url:
                engine = open_database(url)
                with _client(server, limits=False) as client:
                    WAITS.reset()
                    began = time.monotonic()
                    result = pull(client, engine, options, now=server.now)
                    elapsed = time.monotonic() - began
                engine.dispose()
            taken.append(elapsed)
            stored = result.stored
            print(
                f"   run {run} {kind:<11}{result.stored:,} records in {elapsed:6.1f} s = "
                f"{result.stored / elapsed:7,.0f} records/s; waited for pages {WAITS.storing:5.1f} s, "
                f"for room {WAITS.fetching:5.1f} s; {result.api_calls} calls"
            )
    rates = {kind: [stored / t for t in ts] for kind, ts in times.items()}
    for kind, rs in rates.items():
        print(f"   {kind:<11}records/s min {min(rs):7,.0f}  median {statistics.median(rs):7,.0f}")
    ratio = statistics.median(rates["PostgreSQL"]) / statistics.median(rates["SQLite"])
    print(f"   PostgreSQL / SQLite (medians): {ratio:.2f}   (target >= 1; SQLite target >= 5,000/s)")
    return times


if __name__ == "__main__":
    main()
