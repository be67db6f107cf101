"""Pull benchmark: API calls against the minimum, pacing, idle runs and storage speed.

    .venv/bin/python bench/pull.py [--contacts 10000] [--seed 7]

1. A full sync of the portal with the tier's limits on (Enterprise: 190 requests per 10 s, search 5 per second) and
   hubsync's default pacing (90 % of the budget): calls per stream and in total against the minimum the page and
   batch limits allow (target <= 1.15 x), 429s the pacer caused (target 0; no faults are injected, so every 429 is
   the pacer's), and the achieved request rate against the allowed one (target >= 80 %).
2. Two incremental runs with nothing changed (the first still re-reads the overlap behind its cursor): calls per
   stream of the second (target <= 2).
3. A full sync with the limits off into a fresh SQLite file: records stored per second (target >= 5,000/s).

The sandbox runs in its own process (HubSpot is remote); its
clock is the pull's clock, as in the tests. Expect a few minutes for 10,000 contacts with limits on.
"""

from __future__ import annotations

import argparse
import logging
import math
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import structlog

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.hubspot.streams import crm, email_events, forms, marketing_events, owners, web_events
from hubsync.jobs.pull import ASSOCIATION_PAIRS, PullOptions, pull
from hubsync.sandbox.generator import generate_portal
from hubsync.sandbox.portal import Portal
from hubsync.secret import Secret
from hubsync.store.db import open_database

PER_10S = 190
PACE = 0.9


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


def _minimum(portal: Portal, started_ms: int, history_ms: int) -> dict[str, int]:
    """The fewest calls a full sync needs at the APIs' page and batch limits."""
    out: dict[str, int] = {}
    active = sum(1 for o in portal.owners if not o.archived)
    out["owners"] = max(1, math.ceil(active / owners.LIMIT)) + max(1, math.ceil((len(portal.owners) - active) / 100))
    for stream, object_type in (
        ("companies", "companies"),
        ("contacts", "contacts"),
        ("deals", "deals"),
        *((f"engagement_{t}", t) for t in crm.ENGAGEMENT_OBJECTS.values()),
    ):
        store = portal.stores[object_type]
        out[stream] = max(1, math.ceil(len(store.live) / crm.LIST_LIMIT)) + max(
            1, math.ceil(len(store.archived) / crm.LIST_LIMIT)
        )
    out["associations"] = sum(math.ceil(len(portal.stores[a].live) / 1000) for a, _ in ASSOCIATION_PAIRS)
    window = portal.email_events.between(started_ms - history_ms, started_ms - 1)
    out["email_events"] = max(1, math.ceil(len(window) / email_events.LIMIT))
    forms_col = portal.form_submissions.col("form")
    ts = portal.form_submissions.col("ts")
    per_form = Counter(forms_col[i] for i in range(len(ts)) if ts[i] >= started_ms - history_ms)
    out["form_submissions"] = math.ceil(len(portal.forms) / forms.FORMS_LIMIT) + sum(
        max(1, math.ceil(per_form.get(i, 0) / forms.SUBMISSIONS_LIMIT)) for i in range(len(portal.forms))
    )
    per_event = Counter(portal.participations.col("event"))
    out["marketing_events"] = math.ceil(len(portal.marketing_events) / marketing_events.LIMIT) + sum(
        max(1, math.ceil(per_event.get(i, 0) / marketing_events.LIMIT)) for i in range(len(portal.marketing_events))
    )
    views = portal.page_views.between(started_ms - history_ms, started_ms - 1)
    out["web_events"] = max(1, math.ceil(len(views) / web_events.LIMIT))
    return out


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
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    options = PullOptions()
    history_ms = round(options.history.total_seconds() * 1000)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    # The same seed gives the same portal: this copy tells the minimum number of calls.
    portal = generate_portal(args.contacts, args.seed)
    minimum = _minimum(portal, portal.now, history_ms)
    print(f"portal: {args.contacts:,} contacts, seed {args.seed}; sandbox in its own process")
    server = _Server(args.contacts, args.seed)
    try:
        _limited(server, options, minimum, workdir)
        _unlimited(server, options, workdir)
    finally:
        server.close()


def _limited(server: _Server, options: PullOptions, minimum: Mapping[str, int], workdir: Path) -> None:
    engine = open_database(f"sqlite:///{workdir / 'limits.db'}")
    with _client(server, limits=True) as client:
        began = time.monotonic()
        result = pull(client, engine, options, now=server.now)
        elapsed = time.monotonic() - began
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


def _unlimited(server: _Server, options: PullOptions, workdir: Path) -> None:
    # Off: nothing enforced, and a budget so large in the headers that the pacer never waits for it.
    server.admin("POST", "/settings", {"rateLimits": False, "perTenSeconds": 10_000_000})
    engine = open_database(f"sqlite:///{workdir / 'nolimits.db'}")
    with _client(server, limits=False) as client:
        began = time.monotonic()
        result = pull(client, engine, options, now=server.now)
        elapsed = time.monotonic() - began
    engine.dispose()
    print("\n3. full sync, limits off, into SQLite")
    print(
        f"   {result.stored:,} records in {elapsed:.1f} s = {result.stored / elapsed:,.0f} records/s   "
        f"(target >= 5,000/s); {result.api_calls} calls"
    )


if __name__ == "__main__":
    main()
