"""`hubsync demo`: the whole product against a sandbox portal started in this process, in about a minute.

setup → sync → a simulated week of new activity → sync again, then what happened: the segment matrix, the top
leads with their reasons, the tasks created per owner, and the API calls used against the budget. The sandbox
enforces HubSpot's rate limits for the chosen tier, so the pacing is real; the database is a SQLite file in a
temporary folder unless `--database` names one.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.cycle import CycleResult, run_cycle
from hubsync.jobs.setup import setup
from hubsync.records import Contact
from hubsync.render.matrix import segment_matrix
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.simulate import Simulated, simulate
from hubsync.settings import Settings, load_settings
from hubsync.store.db import open_database
from hubsync.store.reads import counts_by
from hubsync.store.scores import top_scored_contacts
from hubsync.store.status import open_tasks_per_owner

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoOptions:
    contacts: int = 2_000
    seed: int = 7
    days: int = 7
    buyers: int = 12
    tier: str = "professional"
    config_path: str | None = None
    database: str | None = None


def run_demo(options: DemoOptions, say: Say) -> None:
    with tempfile.TemporaryDirectory(prefix="hubsync-demo-") as tmp:
        database = options.database or f"sqlite:///{Path(tmp) / 'demo.db'}"
        began = time.monotonic()
        say(
            f"Generating a sandbox portal: {options.contacts:,} contacts with a few years of activity "
            f"(seed {options.seed}) …"
        )
        with start_sandbox(contacts=options.contacts, seed=options.seed, tier=options.tier) as sb:
            say(f"  sandbox portal at {sb.url} ({options.tier} tier limits enforced), database {database}")
            _demo(sb, database, options, say)
        say(f"\nDemo finished in {time.monotonic() - began:.0f} s.")


def _demo(sb: Sandbox, database: str, options: DemoOptions, say: Say) -> None:
    env = {"HUBSPOT_ACCESS_TOKEN": sb.token, "HUBSYNC_API_BASE_URL": sb.url, "HUBSYNC_DATABASE_URL": database}
    # The admin's config if given; else config/hubsync.toml in this folder, else the packaged default.
    settings = load_settings(env, options.config_path)
    engine = open_database(database)

    def clock() -> datetime:
        return datetime.fromtimestamp(sb.portal.now / 1000, UTC)

    try:
        with HubSpotClient(client_settings(settings)) as client:
            say("\n1. hubsync setup: check the token's scopes, create the hubsync property group and properties")
            created = setup(client, settings.config.push)
            say(f"   {created.lines()[-1]}")

            say("\n2. hubsync sync: the first run pulls everything, scores every contact, writes back, hands over")
            first = _cycle(settings, engine, client, clock, say)

            say(
                f"\n3. A week passes in the portal: {options.buyers} buyers compare, attend a webinar, check pricing "
                "and ask for a demo; others browse and open newsletters"
            )
            week = simulate(sb.portal, days=options.days, seed=options.seed + 1, buyers=options.buyers)
            say(f"   {week.activities:,} new activities ({_week_text(week)})")

            say("\n4. hubsync sync again: only what changed is pulled, rescored and written")
            second = _cycle(settings, engine, client, clock, say)
            stats = client.stats()
        _report(engine, sb, settings.config.portal.effective_requests_per_10s, first, second, week, stats.total, say)
    finally:
        engine.dispose()


def _cycle(
    settings: Settings, engine: Engine, client: HubSpotClient, clock: Callable[[], datetime], say: Say
) -> CycleResult:
    began = time.monotonic()
    result = run_cycle(settings, engine, client, clock=clock, kind="demo")
    pushed = result.pushed
    say(
        f"   pulled {result.pulled.stored:,} records with {result.pulled.api_calls:,} API calls; scored "
        f"{result.scored.contacts_scored if result.scored else 0:,} contacts; "
        f"{pushed.records_pushed if pushed else 0:,} records updated in "
        f"{pushed.updates_sent if pushed else 0:,} batch requests; "
        f"{pushed.tasks_created if pushed else 0} tasks created ({time.monotonic() - began:.0f} s)"
    )
    if pushed is not None and pushed.effective_threshold is not None:
        say(f"   handoff threshold {pushed.effective_threshold} with free sales capacity {pushed.free_capacity}")
    return result


def _week_text(week: Simulated) -> str:
    return (
        f"{week.page_views:,} page views, {week.form_submissions:,} form submissions, "
        f"{week.email_events:,} email opens, {week.participations:,} webinar attendances"
    )


def _report(  # noqa: PLR0917  (one caller; the figures it prints are all distinct)
    engine: Engine,
    sb: Sandbox,
    per_10s: int,
    first: CycleResult,
    second: CycleResult,
    week: Simulated,
    api_calls: int,
    say: Say,
) -> None:
    with engine.connect() as conn:
        segments = counts_by(conn, "segment")
        top = top_scored_contacts(conn, limit=8)
        tasks = open_tasks_per_owner(conn)
    say("\n" + segment_matrix(segments))
    say("\nTop leads and why:")
    for row in top:
        name = Contact(row.id, firstname=row.firstname, lastname=row.lastname).display_name
        say(
            f"  {row.segment} {row.status:<11} engagement {row.engagement:>3} profile {row.profile:>3}  {name}, "
            f"{row.jobtitle or 'no title'}"
        )
        say(f"      {row.reason}")
    say(
        f"\nSales tasks open per owner ({first.pushed.tasks_created if first.pushed else 0} on the first run, "
        f"{second.pushed.tasks_created if second.pushed else 0} after the simulated week with "
        f"{len(week.buyers)} buyers):"
    )
    for owner, count in tasks:
        say(f"  {owner.display_name if owner else 'no owner'}: {count}")
    if not tasks:
        say("  none")
    served = sb.stats()
    say(
        f"\nAPI calls: {api_calls:,} in all (first run {first.pulled.api_calls:,} to pull, second "
        f"{second.pulled.api_calls:,}); the portal allows {per_10s} per 10 seconds, and hubsync paces below that. "
        f"Requests the sandbox answered with 429: {_count_429(served)}."
    )


def _count_429(stats: dict[str, object]) -> int:
    by_status = stats.get("byStatus")
    if isinstance(by_status, dict):
        return int(by_status.get("429", 0))
    return 0
