"""The `hubsync` command. Each sub-command parses its options, then calls one function.

Exit codes (documented in the README): 0 success; 1 unexpected error; 2 configuration error; 3 database error;
4 HubSpot error; 5 access token rejected; 6 missing scope; 7 daily quota (or hubsync's reserve) used up.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import typer

from hubsync import __version__, logs
from hubsync.errors import HubsyncError
from hubsync.settings import Settings, load_settings

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
    from hubsync.summary import config_summary  # noqa: PLC0415  (keeps `hubsync --version` fast)

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


# --- pull commands (sync, backfill): added below this line -------------------------------------------------------

# --- push commands (setup, push): added below this line ----------------------------------------------------------

# --- end of commands ----------------------------------------------------------------------------------------------


def main() -> None:
    try:
        app()
    except HubsyncError as err:
        # One line, never a traceback; redacted in case a message quotes something token-shaped.
        message = logs.Redactor().text(str(err))
        typer.echo(f"hubsync: {message}", err=True)
        sys.exit(err.exit_code)
