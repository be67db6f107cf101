"""The `hubsync` command. Each sub-command parses its options, then calls one function.

Exit codes (documented in the README): 0 success; 1 unexpected error; 2 configuration error; 3 database error;
4 HubSpot error; 5 access token rejected; 6 missing scope; 7 daily quota (or hubsync's reserve) used up.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
import typer

from hubsync import __version__, logs
from hubsync.clock import Clock, make_clock
from hubsync.errors import HubsyncError, QuotaExhausted
from hubsync.sandbox.cli import sandbox_app
from hubsync.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient

log = structlog.get_logger("hubsync.cli")

app = typer.Typer(
    name="hubsync",
    help="Lead scoring for HubSpot: pull, score locally, write back scores, segments, reasons and sales tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the local database.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(sandbox_app, name="sandbox")


@dataclass
class Invocation:
    """What the root options said; settings are loaded on first use so `--version` needs no config."""

    config_path: str | None
    log_level: str
    log_json: bool | None
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(os.environ, self.config_path)
            token = self._settings.access_token
            # Now that the token is known, redact it by value too (not only by its pat-… shape).
            logs.configure(secrets=[token.reveal()] if token else [], level=self.log_level, json=self.log_json)
        return self._settings

    def clock(self) -> Clock:
        """The one clock of this command: the system's, or the sandbox portal's (HUBSYNC_CLOCK=sandbox)."""
        settings = self.settings()
        return make_clock(settings.clock, settings.api_base_url)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hubsync {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None, "--config", "-c", help="Config file (default: $HUBSYNC_CONFIG, else config/hubsync.toml)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
    log_json: bool | None = typer.Option(
        None, "--log-json/--log-console", help="Log format (default: JSON unless stdout is a terminal)."
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Lead scoring for HubSpot."""
    del version  # handled by its eager callback
    if log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise typer.BadParameter("expected debug, info, warning or error", param_hint="--log-level")
    logs.configure(level=log_level, json=log_json)
    ctx.obj = Invocation(config_path=config, log_level=log_level, log_json=log_json)


def _invocation(ctx: typer.Context) -> Invocation:
    inv = ctx.find_root().obj
    if not isinstance(inv, Invocation):
        raise TypeError("the root callback did not run")
    return inv


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the config file and print a summary of the effective settings and scoring model."""
    from hubsync.render.config_summary import config_summary  # noqa: PLC0415  (keeps `hubsync --version` fast)

    settings = _invocation(ctx).settings()
    typer.echo(config_summary(settings))


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest version (safe to run again)."""
    from hubsync.store.db import make_engine, safe_url, upgrade  # noqa: PLC0415  (see config_check)

    settings = _invocation(ctx).settings()
    engine = make_engine(settings.database_url)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    typer.echo(f"database {safe_url(settings.database_url)} is at revision {revision}")


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected a date (2026-03-31) or an ISO time", param_hint="--as-of") from None
    if len(value) == len("2026-03-31"):
        # A day means the end of that day: everything that happened on it counts.
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@app.command("score")
def score(
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None, "--as-of", help="Score as of a past day or time (UTC) to reproduce it; prints, stores nothing."
    ),
) -> None:
    """Rescore every contact and company from the local database (no HubSpot calls)."""
    from rich.progress import Progress  # noqa: PLC0415  (see config_check)

    from hubsync.jobs.rescore import rescore  # noqa: PLC0415
    from hubsync.render.matrix import segment_matrix  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415
    from hubsync.store.reads import live_contact_ids  # noqa: PLC0415

    settings = _invocation(ctx).settings()
    engine = open_database(settings.database_url)
    now = _as_of(as_of) or _invocation(ctx).clock()()
    with engine.connect() as conn:
        total = len(live_contact_ids(conn))
    with Progress(transient=True) as progress:
        bar = progress.add_task("scoring contacts", total=total)
        result = rescore(
            engine,
            settings.config.scoring,
            now=now,
            write=as_of is None,
            on_progress=lambda n: progress.advance(bar, n),
        )
    engine.dispose()
    stored = "stored" if as_of is None else "not stored (--as-of)"
    typer.echo(
        f"scored {result.contacts_scored:,} contacts ({result.contacts_changed:,} changed) and "
        f"{result.companies_scored:,} companies ({result.companies_changed:,} changed) as of "
        f"{now:%Y-%m-%d %H:%M} UTC; {stored}"
    )
    typer.echo(", ".join(f"{status}: {n:,}" for status, n in sorted(result.statuses.items())) or "no contacts")
    typer.echo(segment_matrix(result.segments))


@app.command("explain")
def explain(
    ctx: typer.Context,
    contact: str = typer.Argument(..., help="The contact's HubSpot id or email address."),
    as_of: str | None = typer.Option(None, "--as-of", help="Explain the score as of a past day or time (UTC)."),
) -> None:
    """Why a contact scores what it scores: every contribution, dated; fit rules and gates; the account."""

    from hubsync.render.explain import explanation_text  # noqa: PLC0415
    from hubsync.scoring import LeadStatus, explain_contact  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415
    from hubsync.store.reads import (  # noqa: PLC0415
        activities_by_contact,
        companies_by_id,
        find_contact,
    )
    from hubsync.store.scores import stored_contact_status, stored_scores  # noqa: PLC0415

    settings = _invocation(ctx).settings()
    model = settings.config.scoring
    engine = open_database(settings.database_url)
    now = _as_of(as_of) or _invocation(ctx).clock()()
    with engine.connect() as conn:
        found = find_contact(conn, contact)
        if found is None:
            raise HubsyncError(f"no contact {contact!r} in the local database (by id or email); run `hubsync sync`")
        company = companies_by_id(conn, [found.company_id]).get(found.company_id) if found.company_id else None
        activities = activities_by_contact(conn, [found.id], until=now).get(found.id, [])
        stored = stored_contact_status(conn, found.id)
        account = stored_scores(conn, "company", [company.id]).get(company.id) if company is not None else None
    engine.dispose()
    previous = LeadStatus(stored) if stored is not None else None
    explanation = explain_contact(found, company, activities, model, now=now, previous_status=previous)
    typer.echo(explanation_text(found, company, explanation, model, account=account, stored_status=stored))


@dataclass(frozen=True, slots=True)
class Connected:
    settings: Settings
    engine: Engine
    client: HubSpotClient


@contextmanager
def connected(ctx: typer.Context, stop: threading.Event | None = None) -> Iterator[Connected]:
    """Settings, an up-to-date database and a HubSpot client: what every command that talks to HubSpot needs."""
    from hubsync.hubspot.client import HubSpotClient, client_settings  # noqa: PLC0415  (see config_check)
    from hubsync.store.db import open_database  # noqa: PLC0415

    settings = _invocation(ctx).settings()
    client_config = client_settings(settings)  # fails early, before the database, when the token is missing
    engine = open_database(settings.database_url)
    try:
        with HubSpotClient(client_config, stop=stop) as client:
            yield Connected(settings, engine, client)
    finally:
        engine.dispose()


@app.command("sync")
def sync(
    ctx: typer.Context,
    no_push: bool = typer.Option(False, "--no-push", help="Pull and rescore only; write nothing to HubSpot."),
    full_rescore: bool = typer.Option(False, "--full-rescore", help="Rescore every contact, not only changed ones."),
) -> None:
    """One cycle now: pull what changed, rescore it, push what changed (as `hubsync run` does on a schedule)."""
    from hubsync.jobs.cycle import CycleOptions, run_cycle  # noqa: PLC0415  (see config_check)

    stop = threading.Event()
    with connected(ctx, stop) as c, stop_on_signals(stop.set):
        result = run_cycle(
            c.settings,
            c.engine,
            c.client,
            clock=_invocation(ctx).clock(),
            options=CycleOptions(full_rescore=full_rescore, push=not no_push),
            stop=stop,
        )
    pulled, scored, pushed = result.pulled, result.scored, result.pushed
    typer.echo(f"run {result.run_id}: {result.outcome}; pulled {pulled.stored:,} records")
    if scored is not None:
        typer.echo(f"scored {scored.contacts_scored:,} contacts ({scored.contacts_changed:,} changed)")
    if pushed is not None:
        typer.echo("\n".join(pushed.lines()))
    if result.outcome == "stopped":
        raise typer.Exit(QuotaExhausted.exit_code)


@app.command("run")
def run(
    ctx: typer.Context,
    cycle_seconds: float | None = typer.Option(
        None, "--cycle-seconds", min=1, help="Run a cycle this often instead of [schedule] cycle_minutes."
    ),
) -> None:
    """The service: scheduled cycles, a daily full rescore, a weekly reconciliation; one active syncer per database.

    Stops cleanly on SIGTERM / SIGINT (the page in hand is saved, the lease released), exit code 0."""
    from hubsync.hubspot.client import client_settings  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.scheduler import Service  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    inv = _invocation(ctx)
    settings = inv.settings()
    client_config = client_settings(settings)
    engine = open_database(settings.database_url)
    service = Service(
        settings, engine, client_config, clock=inv.clock(), stop=threading.Event(), cycle_seconds=cycle_seconds
    )
    try:
        with stop_on_signals(service.request_stop):
            service.serve()
    finally:
        engine.dispose()
    if service.fatal is not None:
        raise service.fatal


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON (for scripts and monitoring)."),
) -> None:
    """Last runs, cursors, handoff threshold and capacity, the segment matrix, recent errors (no HubSpot calls).

    Exit code: 0 healthy; 8 the last run failed; 9 no run finished within [monitoring] max_age_minutes."""
    import json  # noqa: PLC0415  (see config_check)

    from hubsync.jobs.status import collect  # noqa: PLC0415
    from hubsync.render.status import render  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    inv = _invocation(ctx)
    settings = inv.settings()
    engine = open_database(settings.database_url)
    try:
        report = collect(engine, settings.config, now=inv.clock()())
    finally:
        engine.dispose()
    typer.echo(json.dumps(report.as_json(), indent=2) if as_json else render(report))
    raise typer.Exit(report.exit_code)


@app.command("demo")
def demo(
    ctx: typer.Context,
    contacts: int = typer.Option(2_000, "--contacts", min=50, help="Contacts in the generated sandbox portal."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same portal and the same week."),
    tier: str = typer.Option("professional", "--tier", help="Rate limits the sandbox enforces."),
    database: str | None = typer.Option(None, "--database", help="Keep the demo database (SQLAlchemy URL)."),
) -> None:
    """See hubsync work in about a minute, no HubSpot account needed: a sandbox portal, setup, two syncs a week
    apart, then the segment matrix, the top leads and why, the tasks per owner and the API calls used."""
    from hubsync.jobs.demo import DemoOptions, run_demo  # noqa: PLC0415  (see config_check)

    inv = _invocation(ctx)
    options = DemoOptions(contacts=contacts, seed=seed, tier=tier, config_path=inv.config_path, database=database)
    run_demo(options, typer.echo)


# --- pull commands (sync, backfill): added below this line -------------------------------------------------------


def _parse_day(value: str) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}", param_hint="--since") from None
    return day.replace(tzinfo=UTC) if day.tzinfo is None else day.astimezone(UTC)


@app.command("backfill")
def backfill_command(
    ctx: typer.Context,
    since: str = typer.Option(..., "--since", help="Re-read everything from this date on (YYYY-MM-DD, UTC)."),
    streams: list[str] = typer.Option(  # noqa: B008 -- typer declares options as call defaults
        [], "--streams", help="Streams to backfill (repeat or comma-separate; default: all). See `--help`."
    ),
    progress_bar: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Re-read HubSpot from a date on (pull only): resumable (run it again after an interruption and it continues)
    and idempotent (every write is an upsert). Streams: owners, companies, contacts, deals, engagement_emails,
    engagement_calls, engagement_meetings, engagement_notes, engagement_tasks, associations, email_events,
    form_submissions, marketing_events, web_events."""
    from hubsync.jobs.pull import STREAMS  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.backfill import run_backfill  # noqa: PLC0415

    chosen = [name.strip() for value in streams for name in value.split(",") if name.strip()] or list(STREAMS)
    unknown = sorted(set(chosen) - set(STREAMS))
    if unknown:
        raise typer.BadParameter(
            f"unknown stream(s) {', '.join(unknown)}; known: {', '.join(STREAMS)}", param_hint="--streams"
        )
    day = _parse_day(since)  # before connecting: a typo in the date is reported as such
    stop = threading.Event()
    with connected(ctx, stop) as c, stop_on_signals(stop.set):
        outcome = run_backfill(
            c.settings,
            c.engine,
            c.client,
            since=day,
            streams=chosen,
            clock=_invocation(ctx).clock(),
            progress=progress_bar,
        )
    typer.echo(outcome.line())
    if outcome.stopped is not None:
        typer.echo(f"hubsync: {outcome.stopped}", err=True)
        raise typer.Exit(outcome.stopped.exit_code)


# --- push commands (setup, push): added below this line ----------------------------------------------------------


@app.command("setup")
def setup_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check scopes and show the plan; create nothing."),
) -> None:
    """Check the token and scopes, then create the hubsync property group and properties (safe to run again)."""
    from hubsync.hubspot.client import HubSpotClient, client_settings  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.setup import setup  # noqa: PLC0415

    settings = _invocation(ctx).settings()
    with HubSpotClient(client_settings(settings)) as client:
        result = setup(client, settings.config.push, dry_run=dry_run)
    for line in result.lines():
        typer.echo(line)
    if result.conflicts:
        typer.echo(
            f"{len(result.conflicts)} existing property(ies) conflict with hubsync's definition and were left "
            "unchanged: rename or delete them in HubSpot (Settings → Properties), or set [push] property_prefix.",
            err=True,
        )


@app.command("push")
def push_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change (counts per property, a sample, planned tasks); send nothing."
    ),
    tasks: bool = typer.Option(True, "--tasks/--no-tasks", help="Also create sales tasks for leads handed over."),
) -> None:
    """Write changed scores back to HubSpot and create sales tasks (from the local database; no pull, no rescore)."""
    from hubsync.jobs.push import push  # noqa: PLC0415  (see config_check)

    with connected(ctx) as c:
        result = push(c.client, c.engine, c.settings, now=_invocation(ctx).clock()(), dry_run=dry_run, tasks=tasks)
    for line in result.lines():
        typer.echo(line)


# --- end of commands ----------------------------------------------------------------------------------------------


@contextmanager
def stop_on_signals(on_stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM / SIGINT call `on_stop`: the work in hand finishes and is saved, nothing new starts (Interrupted)."""

    def handler(signum: int, _frame: object) -> None:
        log.info("cli.stop_requested", signal=signal.Signals(signum).name)
        on_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main() -> None:
    try:
        app()
    except HubsyncError as err:
        # One line, never a traceback; redacted in case a message quotes something token-shaped.
        message = logs.Redactor().text(str(err))
        typer.echo(f"hubsync: {message}", err=True)
        sys.exit(err.exit_code)
