"""Commands that talk to a HubSpot portal (or the sandbox): sync, run, backfill, setup, push, teardown, demo."""

from __future__ import annotations

import sys
import threading

import typer

from hubsync.cli.app import app, connected, invocation, since_option, stop_on_signals, writing
from hubsync.errors import ConfigError, StoppedForNow


@app.command("sync")
def sync(
    ctx: typer.Context,
    no_push: bool = typer.Option(False, "--no-push", help="Pull and rescore only; write nothing to HubSpot."),
    full_rescore: bool = typer.Option(False, "--full-rescore", help="Rescore every contact, not only changed ones."),
) -> None:
    """One cycle now: pull what changed, rescore it, push what changed (as `hubsync run` does on a schedule)."""
    from hubsync.jobs.cycle import CycleOptions, run_cycle  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.names import push_names  # noqa: PLC0415
    from hubsync.jobs.setup import verify_setup  # noqa: PLC0415
    from hubsync.render.cycle import cycle_lines  # noqa: PLC0415
    from hubsync.render.progress import progress_bars  # noqa: PLC0415

    inv = invocation(ctx)
    stop = threading.Event()
    with stop_on_signals(stop.set), writing(ctx, "sync", stop) as c:
        if not no_push:
            verify_setup(c.client, c.settings.config.push)
        # Bars while it runs (the first sync of a large portal takes a while), then only the summary stays.
        with progress_bars(enabled=inv.interactive, transient=True) as progress:
            result = run_cycle(
                c.settings,
                c.engine,
                c.client,
                clock=inv.clock(),
                options=CycleOptions(full_rescore=full_rescore, push=not no_push),
                stop=stop,
                holder=c.holder,
                progress=progress,
            )
        names = push_names(c.engine, result.pushed) if result.pushed is not None else None
    typer.echo("\n".join(cycle_lines(result, names)))
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
def demo(  # noqa: PLR0917  (typer maps each command-line option to a parameter)
    ctx: typer.Context,
    contacts: int = typer.Option(2_000, "--contacts", min=50, help="Contacts in the generated sandbox portal."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same portal and the same week."),
    tier: str = typer.Option(
        "enterprise",
        "--tier",
        help="The portal's tier, as [portal] tier names it: free, starter, professional, enterprise, "
        "api_limit_increase. Page views (the events API) only on enterprise and api_limit_increase.",
    ),
    database: str | None = typer.Option(None, "--database", help="Keep the demo database (SQLAlchemy URL)."),
    weeks: int = typer.Option(
        12, "--weeks", min=1, max=52, help="Simulated weeks of a sales team before the calibration report."
    ),
) -> None:
    """See hubsync work in a few minutes, no HubSpot account needed: a sandbox portal, setup, two syncs a week
    apart, then the segment matrix, the top leads and why, the tasks per owner and the API calls used; then weeks
    of a simulated sales team and the calibration report ([report] out) with its headline KPIs."""
    from hubsync.jobs.demo import DemoOptions, run_demo  # noqa: PLC0415  (see config_check)
    from hubsync.sandbox.limits import check_tier  # noqa: PLC0415

    try:
        check_tier(tier)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--tier") from None
    inv = invocation(ctx)
    # The demo's world has its warnings (a lead without an owner): the story is told on standard output.
    inv.quiet_log("error")
    options = DemoOptions(
        contacts=contacts,
        seed=seed,
        tier=tier,
        config_path=inv.config_path,
        database=database,
        sales_weeks=weeks,
    )
    run_demo(options, typer.echo)


@app.command("backfill")
def backfill_command(
    ctx: typer.Context,
    since: str = typer.Option(..., "--since", help="Re-read everything from this date on (YYYY-MM-DD, UTC)."),
    streams: list[str] = typer.Option(  # noqa: B008 -- typer declares options as call defaults
        [], "--streams", help="Streams to backfill (repeat or comma-separate; default: all). See `--help`."
    ),
    progress_bar: bool = typer.Option(
        True, "--progress/--no-progress", help="Show progress bars (at a terminal; never in a pipe or a log)."
    ),
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
            progress=progress_bar and invocation(ctx).interactive,
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
    from hubsync.jobs.names import push_names  # noqa: PLC0415
    from hubsync.jobs.push import push  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.setup import verify_setup  # noqa: PLC0415
    from hubsync.render.push import push_lines  # noqa: PLC0415

    stop = threading.Event()
    # A dry run writes nothing, so it needs no lease: an admin can preview beside a running service.
    opened = connected(ctx, stop) if dry_run else writing(ctx, "push", stop)
    with stop_on_signals(stop.set), opened as c:
        verify_setup(c.client, c.settings.config.push)
        result = push(c.client, c.engine, c.settings, now=invocation(ctx).clock()(), dry_run=dry_run, tasks=tasks)
        names = push_names(c.engine, result)
    for line in push_lines(result, names):
        typer.echo(line)


@app.command("teardown")
def teardown_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be removed; change nothing."),
    tasks: str = typer.Option(
        "keep",
        "--tasks",
        help="Open hubsync tasks: keep (leave them with the reps), close (mark them completed) or delete (archive).",
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation (needed without a terminal)."),
) -> None:
    """Remove what hubsync created in the portal: its properties and property group on contacts and companies (and
    its open tasks, as --tasks says), after showing the plan and asking. HubSpot keeps what is archived restorable
    for 90 days. Running it again changes nothing."""
    from hubsync.jobs.teardown import TaskAction, apply_teardown, read_plan  # noqa: PLC0415  (see config_check)
    from hubsync.render.teardown import plan_lines, result_lines  # noqa: PLC0415

    try:
        action = TaskAction(tasks)
    except ValueError:
        raise typer.BadParameter("expected keep, close or delete", param_hint="--tasks") from None
    if not (dry_run or yes or sys.stdin.isatty()):
        raise ConfigError(
            "command line", "--yes", "teardown asks before it removes anything and nobody can answer here: pass --yes"
        )
    stop = threading.Event()
    # Read and ask without the lease (a prompt may wait long), then plan again under it: what is applied is the
    # portal as it is when the writing starts.
    with stop_on_signals(stop.set), connected(ctx, stop) as c:
        plan = read_plan(c.client, c.engine, c.settings.config.push, action)
    typer.echo("\n".join(plan_lines(plan)))
    if dry_run or plan.empty:
        typer.echo("dry run: nothing changed" if dry_run else "nothing to remove")
        return
    if not yes and not typer.confirm("Remove these from the portal?", default=False, err=True):
        typer.echo("nothing changed")
        return
    with stop_on_signals(stop.set), writing(ctx, "teardown", stop) as c:
        result = apply_teardown(c.client, c.engine, read_plan(c.client, c.engine, c.settings.config.push, action))
    typer.echo("\n".join(result_lines(result)))
