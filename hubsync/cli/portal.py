"""Commands that talk to a HubSpot portal (or the sandbox): sync, run, backfill, setup, push, demo."""

from __future__ import annotations

import threading

import typer

from hubsync.cli.app import app, connected, invocation, since_option, stop_on_signals, writing
from hubsync.errors import StoppedForNow


@app.command("sync")
def sync(
    ctx: typer.Context,
    no_push: bool = typer.Option(False, "--no-push", help="Pull and rescore only; write nothing to HubSpot."),
    full_rescore: bool = typer.Option(False, "--full-rescore", help="Rescore every contact, not only changed ones."),
) -> None:
    """One cycle now: pull what changed, rescore it, push what changed (as `hubsync run` does on a schedule)."""
    from hubsync.jobs.cycle import CycleOptions, run_cycle  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.setup import verify_setup  # noqa: PLC0415

    stop = threading.Event()
    with stop_on_signals(stop.set), writing(ctx, "sync", stop) as c:
        if not no_push:
            verify_setup(c.client, c.settings.config.push)
        result = run_cycle(
            c.settings,
            c.engine,
            c.client,
            clock=invocation(ctx).clock(),
            options=CycleOptions(full_rescore=full_rescore, push=not no_push),
            stop=stop,
            holder=c.holder,
        )
    pulled, scored, pushed = result.pulled, result.scored, result.pushed
    typer.echo(f"run {result.run_id}: {result.outcome}; pulled {pulled.stored:,} records")
    if scored is not None:
        typer.echo(f"scored {scored.contacts_scored:,} contacts ({scored.contacts_changed:,} changed)")
    if pushed is not None:
        typer.echo("\n".join(pushed.lines()))
    if result.outcome == "stopped":
        raise typer.Exit(StoppedForNow.exit_code)


@app.command("run")
def run(
    ctx: typer.Context,
    cycle_seconds: float | None = typer.Option(
        None, "--cycle-seconds", min=1, help="Run a cycle this often instead of [schedule] cycle_minutes."
    ),
) -> None:
    """The service: scheduled cycles, a daily full rescore, a weekly reconciliation; one active syncer per database.

    Stops cleanly on SIGTERM / SIGINT (the page in hand is saved, the lease released), exit code 0."""
    from hubsync.hubspot.client_settings import client_settings  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.scheduler import Service  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    inv = invocation(ctx)
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

    inv = invocation(ctx)
    options = DemoOptions(contacts=contacts, seed=seed, tier=tier, config_path=inv.config_path, database=database)
    run_demo(options, typer.echo)


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
    from hubsync.jobs.backfill import run_backfill  # noqa: PLC0415
    from hubsync.jobs.pull import STREAMS  # noqa: PLC0415  (see config_check)

    chosen = [name.strip() for value in streams for name in value.split(",") if name.strip()] or list(STREAMS)
    unknown = sorted(set(chosen) - set(STREAMS))
    if unknown:
        raise typer.BadParameter(
            f"unknown stream(s) {', '.join(unknown)}; known: {', '.join(STREAMS)}", param_hint="--streams"
        )
    day = since_option(since)  # before connecting: a typo in the date is reported as such
    stop = threading.Event()
    with stop_on_signals(stop.set), writing(ctx, "backfill", stop) as c:
        outcome = run_backfill(
            c.settings,
            c.engine,
            c.client,
            since=day,
            streams=chosen,
            clock=invocation(ctx).clock(),
            progress=progress_bar,
            holder=c.holder,
        )
    typer.echo(outcome.line())
    if outcome.stopped is not None:
        typer.echo(f"hubsync: {outcome.stopped}", err=True)
        raise typer.Exit(outcome.stopped.exit_code)


@app.command("setup")
def setup_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check scopes and show the plan; create nothing."),
) -> None:
    """Check the token and scopes, then create the hubsync property group and properties (safe to run again)."""
    from hubsync.hubspot.client import HubSpotClient  # noqa: PLC0415  (see config_check)
    from hubsync.hubspot.client_settings import client_settings  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.setup import setup  # noqa: PLC0415

    settings = invocation(ctx).settings()
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
    from hubsync.jobs.setup import verify_setup  # noqa: PLC0415

    stop = threading.Event()
    # A dry run writes nothing, so it needs no lease: an admin can preview beside a running service.
    opened = connected(ctx, stop) if dry_run else writing(ctx, "push", stop)
    with stop_on_signals(stop.set), opened as c:
        verify_setup(c.client, c.settings.config.push)
        result = push(c.client, c.engine, c.settings, now=invocation(ctx).clock()(), dry_run=dry_run, tasks=tasks)
    for line in result.lines():
        typer.echo(line)
