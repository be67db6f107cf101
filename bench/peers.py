"""Peers bench: hubsync beside two public HubSpot connectors on the same sandbox portal. Prints figures; asserts
nothing.

    .venv/bin/python bench/peers.py [--contacts 2000 10000] [--seed 7]      (make bench-peers)

Installs `airbyte-source-hubspot==5.7.0` and `meltano-tap-hubspot==0.10.1` into venvs of their own under
`.cache/peers/` (once; a few minutes), then for each portal size serves a fresh sandbox portal of that size and seed
per connector, professional tier (190 requests per 10 s, search 5 per second), and runs the connector against it in
a process of its own, all three through the same local redirect (tests/support/peers.py: neither peer has an option
for HubSpot's address, so an HTTPS proxy serves api.hubapi.com from the sandbox; hubsync talks plain HTTP to the
same proxy). The truth is the served portal itself:

- hubsync: a full pull (`hubsync.jobs.pull`, default options and pacing), into SQLite;
- Airbyte: `check`, `discover`, a full `read` of every stream it discovers, then, after 50 contacts changed, a
  second, incremental `read` from the state the first one ended with;
- Meltano: `--discover`, then a run of every stream it discovers (the tap selects all by default).

Per connector: wall time, requests, 429s, exit status and errors; records per stream against the portal's truth
(the same seed generates the same portal here); requests per stream and their ratio to hubsync's on the same stream.
hubsync reads less than the peers (no property history, no pipelines, campaigns or lists; engagement history only
as far back as `sync.history_days`) and more in places (associations, marketing events, page views): compare
the streams both read.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the harness lives with the tests' helpers

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.jobs.pull import PullOptions, pull
from hubsync.sandbox import schema, start_sandbox
from hubsync.secret import Secret
from hubsync.store.db import open_database
from hubsync.store.tables import company_t, contact_t, deal_t, engagement_t, owner_t
from tests.support import peers

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hubsync.sandbox import Sandbox

PER_10S = 190  # the professional tier
PACE = 0.9  # hubsync's default pacing
CHANGED = 50  # contacts changed between Airbyte's two reads


@dataclass
class Outcome:
    name: str
    seconds: float = 0.0
    requests: int = 0
    too_many: int = 0  # 429s
    by_group: Counter[str] = field(default_factory=Counter)
    too_many_by_group: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)
    truth: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@contextmanager
def _portal(contacts: int, seed: int) -> Iterator[tuple[Sandbox, peers.Redirect]]:
    with start_sandbox(contacts=contacts, seed=seed, tier="professional") as sb:
        redirect = peers.Redirect(sb.url)
        try:
            yield sb, redirect
        finally:
            redirect.close()


def _measure(outcome: Outcome, sb: Sandbox, redirect: peers.Redirect) -> None:
    stats = sb.stats()
    outcome.requests = stats["total"]
    outcome.too_many = stats["byStatus"].get("429", 0)
    outcome.by_group = peers.requests_by_group(redirect.seen())
    outcome.too_many_by_group = peers.requests_by_group(redirect.seen(), 429)


def _reset(sb: Sandbox, redirect: peers.Redirect) -> None:
    sb.reset_stats()
    redirect.seen().clear()


def pull_only(base_url: str, token: str, database: str, now_ms: int) -> None:
    """hubsync's side (`--pull`), in a process of its own as the peers run in theirs: one full pull, paced for the
    professional tier as hubsync paces by default; prints its wall time."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    settings = ClientSettings(
        access_token=Secret(token), base_url=base_url, requests_per_10s=PER_10S, pace_fraction=PACE, search_per_second=5
    )
    engine = open_database(database)
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    with HubSpotClient(settings) as client:
        began = time.monotonic()
        pull(client, engine, PullOptions(), now=lambda: now)
        print(json.dumps({"seconds": time.monotonic() - began}))
    engine.dispose()


def run_hubsync(contacts: int, seed: int, workdir: Path) -> Outcome:
    outcome = Outcome("hubsync")
    database = f"sqlite:///{workdir / f'hubsync-{contacts}.db'}"
    with _portal(contacts, seed) as (sb, redirect):
        portal = sb.portal
        command = [sys.executable, __file__, "--pull", redirect.url, sb.token, database, str(portal.now)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # this script
        if done.returncode != 0:
            outcome.errors.append(f"exit {done.returncode}: {done.stderr[-2000:]}")
            return outcome
        outcome.seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
        _measure(outcome, sb, redirect)
        engine = open_database(database)
        with engine.connect() as conn:
            for name, table in (("contacts", contact_t), ("companies", company_t), ("deals", deal_t)):
                live = sa.select(sa.func.count()).select_from(table).where(table.c.archived_at.is_(None))
                outcome.records[name] = conn.execute(live).scalar_one()
            live_engagements = sa.select(sa.func.count()).select_from(engagement_t)
            live_engagements = live_engagements.where(engagement_t.c.archived_at.is_(None))
            outcome.records["engagements"] = conn.execute(live_engagements).scalar_one()
            outcome.records["owners"] = conn.execute(sa.select(sa.func.count()).select_from(owner_t)).scalar_one()
        engine.dispose()
        outcome.truth = {
            "contacts": len(portal.stores[schema.CONTACTS].live),
            "companies": len(portal.stores[schema.COMPANIES].live),
            "deals": len(portal.stores[schema.DEALS].live),
            "engagements": sum(len(portal.stores[t].live) for t in schema.ENGAGEMENT_TYPES),
            "owners": len(portal.owners),
        }
    return outcome


def _align_clock(sb: Sandbox) -> None:
    """Move the portal's clock to the wall clock: Airbyte's incremental windows end at its own `now`."""
    behind = (datetime.now(UTC) - datetime.fromtimestamp(sb.portal.now / 1000, UTC)).total_seconds() - 5
    if behind > 0:
        sb.portal.advance(behind)


def run_airbyte(contacts: int, seed: int, workdir: Path) -> tuple[Outcome, Outcome]:
    first, second = Outcome("airbyte"), Outcome("airbyte, 2nd read (incremental)")
    peer = peers.AIRBYTE
    with _portal(contacts, seed) as (sb, redirect):
        peer.trust(redirect.ca)
        env = redirect.env()
        config = str(peers.write_json(workdir / "airbyte-config.json", peers.airbyte_config(sb.token)))
        check = peers.run_peer(peer, ["check", "--config", config], env, workdir)
        status = [m["connectionStatus"]["status"] for m in check.of_type("CONNECTION_STATUS")]
        first.notes.append(f"check: {status or check.errors()}")
        discover = peers.run_peer(peer, ["discover", "--config", config], env, workdir)
        catalogs = discover.of_type("CATALOG")
        if not catalogs:
            first.errors += [f"discover: {e}" for e in discover.errors()]
            return first, second
        discovered = catalogs[0]["catalog"]
        streams = [s["name"] for s in discovered["streams"]]
        first.notes.append(f"discover: {len(streams)} streams")
        catalog = str(peers.write_json(workdir / "airbyte-catalog.json", peers.airbyte_catalog(discovered, streams)))
        _align_clock(sb)
        _reset(sb, redirect)
        read = peers.run_peer(peer, ["read", "--config", config, "--catalog", catalog], env, workdir)
        first.seconds, first.records, first.errors = read.seconds, read.records, read.errors()
        first.truth = peers.airbyte_truth(sb.portal)
        _measure(first, sb, redirect)
        _align_clock(sb)
        changed = sb.portal.stores[schema.CONTACTS].live[:CHANGED]
        sb.portal.bulk_update(schema.CONTACTS, changed, {"jobtitle": "Head of Benchmarks"})
        state = str(peers.write_json(workdir / "airbyte-state.json", peers.airbyte_state(read)))
        _reset(sb, redirect)
        again = ["read", "--config", config, "--catalog", catalog, "--state", state]
        incremental = peers.run_peer(peer, again, env, workdir)
        second.seconds, second.records, second.errors = incremental.seconds, incremental.records, incremental.errors()
        missed = {str(i) for i in changed} - incremental.ids.get("contacts", set())
        second.notes.append(
            f"{CHANGED} contacts changed between the reads; read {incremental.records['contacts']} contacts "
            f"(from the cursor on, inclusive), of the changed ones missed: {len(missed)}"
        )
        if missed:
            second.errors.append(f"changed contacts not read: {sorted(missed)[:5]}")
        _measure(second, sb, redirect)
    return first, second


def run_meltano(contacts: int, seed: int, workdir: Path) -> Outcome:
    outcome = Outcome("meltano")
    peer = peers.MELTANO
    with _portal(contacts, seed) as (sb, redirect):
        peer.trust(redirect.ca)
        env = redirect.env()
        config = str(peers.write_json(workdir / "meltano-config.json", {"access_token": sb.token}))
        discover = peers.run_peer(peer, ["--config", config, "--discover"], env, workdir)
        outcome.notes.append(f"discover: exit {discover.returncode}")
        _reset(sb, redirect)
        run = peers.run_peer(peer, ["--config", config], env, workdir)
        outcome.seconds, outcome.records, outcome.errors = run.seconds, run.records, run.errors()
        outcome.truth = peers.meltano_truth(sb.portal)
        _measure(outcome, sb, redirect)
    return outcome


def _ratio(n: float, base: float) -> str:
    return f"{n / base:.2f}x" if base else "-"


def _with_429(o: Outcome, group: str) -> str:
    n, too_many = o.by_group.get(group, 0), o.too_many_by_group.get(group, 0)
    return f"{n} ({too_many})" if too_many else str(n)


def report(contacts: int, hub: Outcome, others: list[Outcome]) -> None:
    print(f"\n== {contacts:,} contacts: professional limits (190 requests / 10 s, search 5 / s) ==")
    print(f"   {'connector':<34}{'wall s':>9}{'requests':>10}{'429s':>6}  {'vs hubsync':>22}  records = truth")
    for o in (hub, *others):
        wrong = peers.mismatches(o.records, o.truth) if o.truth else {}
        verdict = "yes" if not wrong and not o.errors else f"NO {sorted(wrong.items())[:6]}"
        if not o.truth:
            verdict = "(no truth; see note)" if not o.errors else "NO: errors"
        ratio = "" if o is hub else f"{_ratio(o.requests, hub.requests)} req {_ratio(o.seconds, hub.seconds)} time"
        print(f"   {o.name:<34}{o.seconds:>9.1f}{o.requests:>10}{o.too_many:>6}  {ratio:>22}  {verdict}")
        for note in o.notes:
            print(f"      {note}")
        for error in o.errors[:10]:
            print(f"      error: {error[:300]}")
    groups = sorted(set(hub.by_group).union(*(o.by_group for o in others)))
    print(f"\n   requests per stream (429s){'':<7}{'hubsync':>9}" + "".join(f"{o.name[:18]:>24}" for o in others))
    for g in groups:
        cells = "".join(
            f"{_with_429(o, g):>14} ({_ratio(o.by_group.get(g, 0), hub.by_group.get(g, 0)):>6})" for o in others
        )
        print(f"   {g:<33}{_with_429(hub, g):>9}{cells}")
    for o in (hub, *others):
        print(f"\n   {o.name}: records per stream (read / truth)")
        for stream in sorted(set(o.records) | set(o.truth)):
            read, truth = o.records.get(stream, 0), o.truth.get(stream)
            mark = "" if truth is None or read == truth else "   <-- differs"
            print(f"      {stream:<32}{read:>9} / {'-' if truth is None else truth}{mark}")


def main() -> None:
    if sys.argv[1:2] == ["--pull"]:
        base_url, token, database, now_ms = sys.argv[2:6]
        pull_only(base_url, token, database, int(now_ms))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for peer in peers.PEERS:
        if not peer.installed():
            print(f"installing {peer.requirement} into {peer.venv} …", flush=True)
        peer.install()
    for contacts in args.contacts:
        with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
            workdir = Path(tmp)
            hub = run_hubsync(contacts, args.seed, workdir)
            airbyte, airbyte_again = run_airbyte(contacts, args.seed, workdir)
            meltano = run_meltano(contacts, args.seed, workdir)
        report(contacts, hub, [airbyte, airbyte_again, meltano])


if __name__ == "__main__":
    main()
