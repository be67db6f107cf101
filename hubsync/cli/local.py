"""Commands that work on the local database and the config alone: no HubSpot call."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path

import typer

from hubsync.cli.app import app, as_of_option, config_app, db_app, invocation, since_option, stop_on_signals


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the config file and print a summary of the effective settings and scoring model."""
    from hubsync.render.config_summary import config_summary  # noqa: PLC0415  (keeps `hubsync --version` fast)

    settings = invocation(ctx).settings()
    typer.echo(config_summary(settings))


@config_app.command("init")
def config_init(
    path: str = typer.Argument("config/hubsync.toml", help="Where to write the config file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write the commented default configuration to PATH, to edit and pass with --config (or $HUBSYNC_CONFIG)."""
    from hubsync.settings import write_default_config  # noqa: PLC0415  (see config_check)

    written = write_default_config(Path(path), overwrite=force)
    typer.echo(f"wrote the default configuration to {written}")
    typer.echo(f"edit it, then check it with: hubsync config check --config {written}")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest version (safe to run again)."""
    from hubsync.store.db import make_engine, safe_url, upgrade  # noqa: PLC0415  (see config_check)

    settings = invocation(ctx).settings()
    engine = make_engine(settings.database_url)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    typer.echo(f"database {safe_url(settings.database_url)} is at revision {revision}")


@app.command("score")
def score(
    ctx: typer.Context,
    as_of: str | None = typer.Option(
        None, "--as-of", help="Score as of a past day or time (UTC) to reproduce it; prints, stores nothing."
    ),
) -> None:
    """Rescore every contact and company from the local database (no HubSpot calls)."""
    from hubsync.jobs.lease import writer_lease  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.rescore import rescore  # noqa: PLC0415
    from hubsync.render.matrix import segment_matrix  # noqa: PLC0415
    from hubsync.render.progress import progress_bars  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415
    from hubsync.store.reads import live_contact_ids  # noqa: PLC0415

    inv = invocation(ctx)
    settings = inv.settings()
    engine = open_database(settings.database_url)
    now = as_of_option(as_of) or inv.clock()()
    stop = threading.Event()
    # Storing scores is writing: it holds the sync lease like `sync` and `push`, so it never interleaves with a
    # running service's cycle. `--as-of` stores nothing and runs beside anything.
    lease = (
        nullcontext()
        if as_of is not None
        else writer_lease(engine, settings.config.schedule, command="score", clock=inv.clock(), stop=stop)
    )
    try:
        with engine.connect() as conn:
            total = len(live_contact_ids(conn))
        with stop_on_signals(stop.set), lease, progress_bars(enabled=inv.interactive, transient=True) as progress:
            result = rescore(
                engine,
                settings.config.scoring,
                now=now,
                write=as_of is None,
                on_progress=(lambda n: progress("scoring contacts", n, total)) if progress else None,
                stop=stop,
            )
    finally:
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

    from hubsync.jobs.explain import explain as explain_job  # noqa: PLC0415  (see config_check)
    from hubsync.render.explain import explanation_text  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    settings = invocation(ctx).settings()
    model = settings.config.scoring
    engine = open_database(settings.database_url)
    try:
        found = explain_job(engine, model, contact, now=as_of_option(as_of) or invocation(ctx).clock()())
    finally:
        engine.dispose()
    typer.echo(
        explanation_text(
            found.contact,
            found.company,
            found.explanation,
            model,
            account=found.account,
            stored_status=found.stored_status,
            handoff=found.handoff,
        )
    )


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

    inv = invocation(ctx)
    settings = inv.settings()
    engine = open_database(settings.database_url)
    try:
        report = collect(engine, settings.config, now=inv.clock()())
    finally:
        engine.dispose()
    typer.echo(json.dumps(report.as_json(), indent=2) if as_json else render(report))
    raise typer.Exit(report.exit_code)


@app.command("report")
def report(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", help="Count contacts and outcomes from this date on (YYYY-MM-DD, UTC); default: all."
    ),
    out: str | None = typer.Option(None, "--out", help="Write here instead of [report] out (with --json: the JSON)."),
    as_json: bool = typer.Option(False, "--json", help="The report's figures as JSON, the same the page shows."),
) -> None:
    """The calibration report: KPIs, win rate per segment, funnel, response times, signal lift, the threshold curve.

    Writes one self-contained HTML file (opens offline, can be mailed as it is) and prints its path; with --json
    prints the figures instead (or writes them to --out). Reads the local database only (no HubSpot calls)."""
    from hubsync.jobs.report import report_data  # noqa: PLC0415  (see config_check)
    from hubsync.jobs.report_file import report_json, write_html, write_text  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    day = since_option(since) if since is not None else None  # before the database: a typo is reported as such
    inv = invocation(ctx)
    settings = inv.settings()
    engine = open_database(settings.database_url)
    try:
        data = report_data(engine, settings, now=inv.clock()(), since=day)
    finally:
        engine.dispose()
    if as_json and out is None:
        typer.echo(report_json(data))
        return
    path = write_text(Path(out), report_json(data)) if as_json and out else write_html(data, settings, out=out)
    typer.echo(str(path))


@app.command("preview")
def preview(
    ctx: typer.Context,
    candidate: str = typer.Option(
        ..., "--config", "-c", help="The candidate config file (the live one is the global --config or its default)."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Score both models as of a past day or time (UTC)."),
    as_json: bool = typer.Option(False, "--json", help="Print the preview as JSON (the same the text and page show)."),
    out: str | None = typer.Option(None, "--out", help="Also write the preview as one self-contained HTML page here."),
) -> None:
    """What a candidate config would change, on the local database: the model change in words, who changes segment
    and status, the tasks it would create now with today's capacity, and a backtest of both models on the outcomes.

    Run it before putting the candidate in place (then `hubsync config check`). No HubSpot call, nothing written."""
    import json  # noqa: PLC0415  (see config_check)
    import os  # noqa: PLC0415

    from hubsync.jobs.preview import preview as preview_job  # noqa: PLC0415
    from hubsync.jobs.report_file import write_text  # noqa: PLC0415
    from hubsync.render.preview import preview_text  # noqa: PLC0415
    from hubsync.render.report.preview_page import preview_html  # noqa: PLC0415
    from hubsync.settings import load_settings  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    now = as_of_option(as_of)  # before anything is read: a typo is reported as such
    inv = invocation(ctx)
    settings = inv.settings()
    # Validated exactly as the live config is: a mistake names the candidate's file and key (exit 2).
    proposed = load_settings(os.environ, candidate)
    engine = open_database(settings.database_url)
    try:
        data = preview_job(
            engine,
            settings.config,
            proposed.config,
            now=now or inv.clock()(),
            sources=(settings.config_source, proposed.config_source),
        )
    finally:
        engine.dispose()
    if out is not None:
        path = write_text(Path(out), preview_html(data))
    typer.echo(json.dumps(data) if as_json else preview_text(data), nl=as_json)
    if out is not None and not as_json:
        typer.echo(f"page written to {path}")
