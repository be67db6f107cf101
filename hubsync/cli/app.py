"""The root of the `hubsync` command: the Typer apps, the root options, and what every command shares.

Exit codes (documented in the README): 0 success; 1 unexpected error; 2 configuration or usage error, or the portal
not set up; 3 database error; 4 HubSpot error; 5 access token rejected; 6 missing scope; 7 stopped for now: daily
quota (or hubsync's reserve) used up, or a Retry-After beyond `[portal] max_retry_after_seconds`; 10 another hubsync
process holds the sync lease; 11 what the command line names is not in the local database.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

import structlog
import typer

from hubsync import __version__, logs
from hubsync.clock import Clock, make_clock
from hubsync.errors import ConfigError, HubsyncError
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
class _Output:
    """What `main` needs to know once the command has failed: whether `--log-level debug` asked for tracebacks."""

    tracebacks: bool = False


_output = _Output()


@dataclass
class Invocation:
    """What the root options said; settings are loaded on first use so `--version` needs no config."""

    config_path: str | None
    log_level: str
    log_json: bool | None
    # The `--log-file` file; None: standard error.
    log_stream: TextIO | None = None
    # Whether `--log-level` was given (else the level is the default for where the log goes).
    level_given: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(os.environ, self.config_path)
            secrets = [s.reveal() for s in (self._settings.access_token, self._settings.webhook_secret) if s]
            # Now that the secrets are known, redact them by value too (not only the token by its pat-… shape).
            logs.configure(
                secrets=secrets,
                level=self.log_level,
                json=self.log_json,
                stream=self.log_stream,
            )
        return self._settings

    def quiet_log(self, level: str) -> None:
        """Log at `level` unless `--log-level` said otherwise: a command whose output tells the whole story."""
        if not self.level_given:
            self.log_level = level
            logs.configure(level=level, json=self.log_json, stream=self.log_stream)

    @property
    def interactive(self) -> bool:
        """A person watches standard error: long commands show progress bars there."""
        return sys.stderr.isatty()

    def clock(self) -> Clock:
        """The one clock of this command: the system's, or the sandbox portal's (HUBSYNC_CLOCK=sandbox)."""
        settings = self.settings()
        return make_clock(settings.clock, settings.api_base_url)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hubsync {__version__}")
        raise typer.Exit


@app.callback()
def _root(  # noqa: PLR0917  (typer passes every root option as a parameter)
    ctx: typer.Context,
    config: str | None = typer.Option(
        None, "--config", "-c", help="Config file (default: $HUBSYNC_CONFIG, else config/hubsync.toml)."
    ),
    log_level: str | None = typer.Option(
        None, "--log-level", help="debug, info, warning or error (default: warning at a terminal, else info)."
    ),
    log_json: bool | None = typer.Option(
        None, "--log-json/--log-console", help="Log format (default: JSON unless the log goes to a terminal)."
    ),
    log_file: str | None = typer.Option(
        None, "--log-file", envvar="HUBSYNC_LOG_FILE", help="Append the log to this file instead of standard error."
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Lead scoring for HubSpot."""
    del version  # handled by its eager callback
    if log_level is not None and log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise typer.BadParameter("expected debug, info, warning or error", param_hint="--log-level")
    stream = _log_file(log_file) if log_file else None
    level = log_level or logs.default_level(stream)
    logs.configure(level=level, json=log_json, stream=stream)
    _output.tracebacks = level.upper() == "DEBUG"
    ctx.obj = Invocation(
        config_path=config, log_level=level, log_json=log_json, log_stream=stream, level_given=log_level is not None
    )


def _log_file(path: str) -> TextIO:
    try:
        return logs.open_log_file(path)
    except OSError as err:
        raise ConfigError("command line", "--log-file", f"cannot append to {path}: {err.strerror}") from None


def invocation(ctx: typer.Context) -> Invocation:
    inv = ctx.find_root().obj
    if not isinstance(inv, Invocation):
        raise TypeError("the root callback did not run")
    return inv


def as_of_option(value: str | None) -> datetime | None:
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


def since_option(value: str) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}", param_hint="--since") from None
    return day.replace(tzinfo=UTC) if day.tzinfo is None else day.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Connected:
    settings: Settings
    engine: Engine
    client: HubSpotClient
    # The sync lease's holder id, for a command that writes (its runs carry it).
    holder: str | None = None


@contextmanager
def connected(ctx: typer.Context, stop: threading.Event | None = None) -> Iterator[Connected]:
    """Settings, an up-to-date database and a HubSpot client: what every command that talks to HubSpot needs."""
    from hubsync.hubspot.client import HubSpotClient  # noqa: PLC0415  (see config_check)
    from hubsync.hubspot.client_settings import client_settings  # noqa: PLC0415  (see config_check)
    from hubsync.store.db import open_database  # noqa: PLC0415

    settings = invocation(ctx).settings()
    client_config = client_settings(settings)  # fails early, before the database, when the token is missing
    engine = open_database(settings.database_url)
    try:
        with HubSpotClient(client_config, stop=stop) as client:
            yield Connected(settings, engine, client)
    finally:
        engine.dispose()


@contextmanager
def writing(ctx: typer.Context, command: str, stop: threading.Event) -> Iterator[Connected]:
    """`connected`, holding the sync lease for as long as the command runs: one writer per database (see
    hubsync/jobs/lease.py). Waits for another holder up to `[schedule] lease_wait_seconds`, then exits 10."""
    from hubsync.jobs.lease import writer_lease  # noqa: PLC0415  (see config_check)

    with connected(ctx, stop) as c:
        schedule = c.settings.config.schedule
        clock = invocation(ctx).clock()
        with writer_lease(c.engine, schedule, command=command, clock=clock, stop=stop) as held:
            yield Connected(c.settings, c.engine, c.client, held.holder)


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


# Commands whose own --config names another file (`preview --config CANDIDATE`): theirs stays with them.
_OWN_CONFIG = frozenset({"preview"})
# Root options that take a value: the word after them is not the command.
_ROOT_VALUES = frozenset({"--config", "-c", "--log-level", "--log-file"})


def config_first(argv: list[str]) -> list[str]:
    """`hubsync status --config FILE` means `hubsync --config FILE status`: the root option is moved to the front,
    so an admin may put it where commands usually take their options. Nothing after `--` is touched, nor anything
    after a command with a --config of its own (`hubsync --config live.toml preview --config candidate.toml`)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    command_seen = False
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if not command_seen and not arg.startswith("-") and (i == 0 or argv[i - 1] not in _ROOT_VALUES):
            if arg in _OWN_CONFIG:
                rest.extend(argv[i:])
                break
            command_seen = True
        if arg in ("--config", "-c") and i + 1 < len(argv):
            front.extend(argv[i : i + 2])
            i += 2
            continue
        (front if arg.startswith("--config=") else rest).append(arg)
        i += 1
    return front + rest


def main() -> None:
    try:
        app(args=config_first(sys.argv[1:]))
    except HubsyncError as err:
        _fail(err, str(err), err.exit_code)
    except Exception as err:  # noqa: BLE001  (anything else is a bug: one line here, the traceback on request)
        detail = " ".join(str(err).split())[:300]
        what = f"{type(err).__name__}: {detail}" if detail else type(err).__name__
        _fail(err, f"unexpected error: {what} (run with --log-level debug for the traceback)", 1)


def _fail(err: BaseException, message: str, exit_code: int) -> None:
    # One line, a traceback only with --log-level debug; redacted in case something quotes a token-shaped string.
    redactor = logs.Redactor()
    if _output.tracebacks:
        typer.echo(redactor.text("".join(traceback.format_exception(err))), err=True, nl=False)
    typer.echo(f"hubsync: {redactor.text(message)}", err=True)
    sys.exit(exit_code)
