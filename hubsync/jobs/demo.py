"""`hubsync demo`: the whole product against a sandbox portal started in this process, in a few minutes.

setup → sync → a simulated week of new activity → sync again, then what happened: the segment matrix, the top
leads with their reasons, the tasks created per owner, and the API calls used against the budget. Then twelve
simulated weeks of a sales team working hubsync's tasks (`sandbox/sales.py`), synced weekly, and the calibration
report on them: written to `[report] out` (a path relative to the working directory), its headline KPIs printed. The
enforces HubSpot's rate limits for the chosen tier, so the pacing is real, and hubsync is configured for that same
tier. The default tier is enterprise: only there does the events API answer, and without page views the week's
story (buyers compare, check pricing) could not show in the reasons. The database is a SQLite file in a temporary
folder unless `--database` names one. Every line fits a terminal (reasons are cut at a word), so the demo reads
as one screenful of text.
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.cycle import CycleResult, run_cycle
from hubsync.jobs.report_file import write_report
from hubsync.jobs.setup import setup
from hubsync.records import Contact
from hubsync.render.cycle import pull_line
from hubsync.render.matrix import segment_matrix
from hubsync.render.report.summary import kpi_summary
from hubsync.render.text import counted, number, shorten
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.sales import SalesBehaviour
from hubsync.sandbox.simulate import DAY_MS, Simulated, Simulation, simulate
from hubsync.settings import Settings, load_settings
from hubsync.store.db import open_database
from hubsync.store.reads import counts_by
from hubsync.store.scores import top_scored_contacts
from hubsync.store.status import open_tasks_per_owner

Say = Callable[[str], None]

# With the report's summary at the end, the whole demo fits 80 lines of an 80-column terminal.
TOP_LEADS = 6


@dataclass(frozen=True, slots=True)
class DemoOptions:
    contacts: int = 2_000
    seed: int = 7
    days: int = 7
    buyers: int = 12
    # Page views (the events API) answer only on enterprise and api_limit_increase.
    tier: str = "enterprise"
    config_path: str | None = None
    database: str | None = None
    # The months after the first week, for the calibration report: the sales team works, a sync each week.
    sales_weeks: int = 12


def run_demo(options: DemoOptions, say: Say) -> None:
    say = _fitted(say, shutil.get_terminal_size((100, 24)).columns)
    with tempfile.TemporaryDirectory(prefix="hubsync-demo-") as tmp:
        database = options.database or f"sqlite:///{Path(tmp) / 'demo.db'}"
        began = time.monotonic()
        say(
            f"Generating a sandbox portal: {options.contacts:,} contacts, a few years of activity "
            f"(seed {options.seed}) …"
        )
        with start_sandbox(contacts=options.contacts, seed=options.seed, tier=options.tier) as sb:
            say(f"  sandbox portal at {sb.url}, {options.tier} tier limits enforced")
            say(f"  database {database}")
            _demo(sb, database, options, say)
        say(f"\nDemo finished in {time.monotonic() - began:.0f} s.")


def _demo(sb: Sandbox, database: str, options: DemoOptions, say: Say) -> None:
    env = {"HUBSPOT_ACCESS_TOKEN": sb.token, "HUBSYNC_API_BASE_URL": sb.url, "HUBSYNC_DATABASE_URL": database}
    # The admin's config if given; else config/hubsync.toml in this folder, else the packaged default.
    settings = _for_tier(load_settings(env, options.config_path), options.tier)
    engine = open_database(database)

    def clock() -> datetime:
        return datetime.fromtimestamp(sb.portal.now / 1000, UTC)

    try:
        with HubSpotClient(client_settings(settings)) as client:
            say("\n1. hubsync setup: check scopes, create hubsync's property group and properties")
            created = setup(client, settings.config.push)
            say(f"   {created.lines()[-1]}")

            say("\n2. hubsync sync: the first run pulls everything, scores, writes back, hands over")
            first = _cycle(settings, engine, client, clock, say)

            say(
                f"\n3. A week passes: {options.buyers} buyers compare, attend a webinar, check pricing and ask\n"
                "   for a demo; others browse and open newsletters"
            )
            week = simulate(sb.portal, days=options.days, seed=options.seed + 1, buyers=options.buyers)
            say(f"   {week.activities:,} new activities ({_week_text(week)})")

            say("\n4. hubsync sync again: only what changed is pulled, rescored and written")
            second = _cycle(settings, engine, client, clock, say)
            stats = client.stats()
        _report(engine, sb, settings.config.portal.effective_requests_per_10s, first, second, week, stats.total, say)
        _calibration(sb, settings, engine, clock=clock, options=options, say=say)
    finally:
        engine.dispose()


def _calibration(
    sb: Sandbox, settings: Settings, engine: Engine, *, clock: Callable[[], datetime], options: DemoOptions, say: Say
) -> None:
    """Months of a sales team working hubsync's tasks, then the calibration report on what came of them."""
    weeks = options.sales_weeks
    say(
        f"\n5. {weeks} weeks pass: sales reps work their tasks or let them wait; deals are won\n"
        "   or lost by each contact's hidden intent, never by its score; a sync each week"
    )
    began = time.monotonic()
    run = Simulation(
        sb.portal, days=7 * weeks, seed=options.seed + 2, buyers=4 * weeks, arrivals=1.0, sales=SalesBehaviour()
    )
    tasks = 0
    with HubSpotClient(client_settings(settings)) as client:
        for week in range(1, weeks + 1):
            run.run_until(run.start + week * 7 * DAY_MS)
            pushed = run_cycle(settings, engine, client, clock=clock, kind="demo").pushed
            tasks += pushed.tasks_created if pushed else 0
    sales = run.result().sales_total
    say(
        f"   {counted(tasks, 'task')} created, {number(sales.tasks_completed)} completed; "
        f"{counted(sales.deals_won, 'deal')} won, {number(sales.deals_lost)} lost "
        f"({time.monotonic() - began:.0f} s)"
    )
    say("\n6. hubsync report: the calibration report, one HTML file that opens offline")
    written = write_report(engine, settings, now=clock())
    say(f"   {written.path}")
    say(kpi_summary(written.data))


def _fitted(say: Say, width: int) -> Say:
    """`say`, with every line wrapped at a word to `width` columns (its indentation kept, and two more for what
    continues it): what the terminal shows is what was said, line for line."""

    def fitted(text: str) -> None:
        for line in text.split("\n"):
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            say(
                "\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False))
                if len(line) > width
                else line
            )

    return fitted


def _for_tier(settings: Settings, tier: str) -> Settings:
    """hubsync configured for the sandbox's tier, so that it paces by the limits the sandbox enforces."""
    config = settings.config
    return replace(
        settings, config=config.model_copy(update={"portal": config.portal.model_copy(update={"tier": tier})})
    )


def _cycle(
    settings: Settings, engine: Engine, client: HubSpotClient, clock: Callable[[], datetime], say: Say
) -> CycleResult:
    began = time.monotonic()
    result = run_cycle(settings, engine, client, clock=clock, kind="demo")
    pushed = result.pushed
    say(f"   {pull_line(result.pulled)}")
    say(
        f"   {counted(result.pulled.api_calls, 'API call')} to pull; scored "
        f"{counted(result.scored.contacts_scored if result.scored else 0, 'contact')}; "
        f"{counted(pushed.records_pushed if pushed else 0, 'record')} updated in "
        f"{counted(pushed.updates_sent if pushed else 0, 'batch request')}; "
        f"{counted(pushed.tasks_created if pushed else 0, 'task')} created ({time.monotonic() - began:.0f} s)"
    )
    if pushed is not None and pushed.effective_threshold is not None:
        say(
            f"   handoff threshold {pushed.effective_threshold} with free sales capacity "
            f"{number(pushed.free_capacity or 0)}"
        )
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
        top = top_scored_contacts(conn, limit=TOP_LEADS)
        tasks = open_tasks_per_owner(conn)
    say("\n" + segment_matrix(segments))
    width = shutil.get_terminal_size((100, 24)).columns
    say("\nTop leads and why:")
    for row in top:
        name = Contact(row.id, firstname=row.firstname, lastname=row.lastname).display_name
        lead = f"  {row.segment} {row.status:<11} engagement {row.engagement:>3} profile {row.profile:>3}  "
        say(lead + shorten(f"{name}, {row.jobtitle or 'no title'}", width - len(lead)))
        say(f"      {shorten(row.reason, width - 6)}")
    say(
        f"\nSales tasks open per owner ({number(first.pushed.tasks_created if first.pushed else 0)} on the first "
        f"run, {number(second.pushed.tasks_created if second.pushed else 0)} after the week's "
        f"{len(week.buyers)} buyers):"
    )
    for owner, count in tasks:
        say(f"  {owner.display_name if owner else 'no owner'}: {number(count)}")
    if not tasks:
        say("  none")
    served = sb.stats()
    say(
        f"\nAPI calls: {number(api_calls)} in all (first run {number(first.pulled.api_calls)} to pull, second "
        f"{number(second.pulled.api_calls)});\n  {number(per_10s)} allowed per 10 seconds; hubsync paced below that "
        f"(429 answers: {number(_count_429(served))})"
    )


def _count_429(stats: dict[str, object]) -> int:
    by_status = stats.get("byStatus")
    if isinstance(by_status, dict):
        return int(by_status.get("429", 0))
    return 0
