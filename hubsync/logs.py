"""Logging: structlog, JSON lines when the output is not a terminal, readable console output when it is.

Logs go to standard error, so a command's own output on standard output (a report, `status --json`) stays clean,
or to a file (`--log-file`). At a terminal the default level is warning: a person reads the command's own output,
and a service (not a terminal) keeps its info-level JSON lines. Standard error is looked up at every write, so
while a progress bar holds the terminal (rich swaps `sys.stderr` for a proxy) log lines print above the bar instead
of breaking it up.

Events are flat and namespaced (`pull.page_stored`, `push.batch_sent`). A redaction step runs after exceptions
are rendered to text and before anything is written, so the access token — and anything shaped like a HubSpot
token or a bearer header — never reaches the output, whether it sits in an event field, a message or a traceback.
Records from the standard library's `logging` (urllib3, alembic) go through the same chain.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from hubsync.secret import redact_tokens

REDACTED = "***"


class Redactor:
    """Replaces known secrets and token-shaped strings in every value of an event, recursively."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        return redact_tokens(value, REDACTED)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        if isinstance(value, int | float | bool) or value is None:
            return value
        # Anything else is rendered by the renderer with str()/repr(): redact that text now.
        return self.text(repr(value) if not isinstance(value, BaseException) else str(value))

    def __call__(self, _logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
        return {k: self.value(v) for k, v in event.items()}


class _Stderr:
    """Standard error as it is at the moment of each write (see the module's docstring)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def default_level(stream: TextIO | None = None) -> str:
    """The level when none was asked for: warning at a terminal, info otherwise (a service, a pipe, a file)."""
    return "warning" if (stream or sys.stderr).isatty() else "info"


def open_log_file(path: str) -> TextIO:
    """The file `--log-file` names, appended to, a line at a time (a `tail -f` sees each event as it happens)."""
    # Open for the life of the process: every command logs until it exits.
    return Path(path).open("a", encoding="utf-8", buffering=1)


def configure(
    *,
    secrets: Iterable[str] = (),
    level: str | None = None,
    json: bool | None = None,
    stream: TextIO | None = None,
) -> None:
    """Set up structlog and stdlib logging. `json=None` chooses JSON unless `stream` (default: standard error)
    is a terminal; `level=None` is `default_level`."""
    out: TextIO = stream or _Stderr()  # type: ignore[assignment]  # write/flush/isatty is all the renderers use
    level = level or default_level(out)
    use_json = not out.isatty() if json is None else json
    redact = Redactor(secrets)
    renderer: Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Render tracebacks to text first, so the redactor sees them.
        structlog.processors.format_exc_info,
        redact,
    ]
    level_no = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, _stdlib_event_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries are chatty at INFO (alembic prints every migration step); hubsync logs what matters itself.
    root.setLevel(max(level_no, logging.WARNING))


def _stdlib_event_name(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    # Keep events namespaced even when they come from a library: `lib.urllib3` with the message as a field.
    logger_name = str(event.pop("logger", "lib"))
    message = event.get("event")
    event["event"] = f"lib.{logger_name.split('.', maxsplit=1)[0]}"
    event["message"] = message
    return event


def bind_run(**fields: Any) -> None:
    """Attach fields (run id, portal) to every event logged in this context."""
    structlog.contextvars.bind_contextvars(**fields)


def clear_run() -> None:
    structlog.contextvars.clear_contextvars()


__all__ = ["REDACTED", "Redactor", "bind_run", "clear_run", "configure", "default_level", "open_log_file"]
