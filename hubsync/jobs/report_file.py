"""Writing the calibration report to a file: for `hubsync report`, the scheduled report of `hubsync run` and the demo.

The numbers come from `jobs/report.py::report_data` alone and the page is drawn from that dict alone, so the page
and `hubsync report --json` can never disagree. The file is replaced in one step (written beside it, then renamed),
so whoever opens or mails it while a new one is written sees the old report or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from hubsync.errors import HubsyncError
from hubsync.jobs.report import report_data
from hubsync.render.report.page import report_html
from hubsync.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WrittenReport:
    path: Path
    data: dict[str, Any]


def write_report(
    engine: Engine, settings: Settings, *, now: datetime, since: datetime | None = None, out: str | Path | None = None
) -> WrittenReport:
    """The HTML report of the database as of `now`, written to `out` (default: `[report] out`)."""
    data = report_data(engine, settings, now=now, since=since)
    return WrittenReport(write_html(data, settings, out=out), data)


def write_html(data: dict[str, Any], settings: Settings, *, out: str | Path | None = None) -> Path:
    path = write_text(Path(out) if out is not None else default_out(settings), report_html(data))
    log.info("report.written", path=str(path), since=data.get("since"), until=data.get("until"))
    return path


def default_out(settings: Settings) -> Path:
    return Path(settings.config.report.out)


def report_json(data: dict[str, Any]) -> str:
    """Exactly what `hubsync report --json` prints: the report dict, as it is."""
    return json.dumps(data)


def write_text(path: Path, text: str) -> Path:
    """`text` to `path` (its folder made if missing), replacing the old file in one step. Returns the path."""
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            # mkstemp makes the file readable by its owner only; a report is meant to be opened and shared.
            Path(temporary).chmod(0o644)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise HubsyncError(f"cannot write the report to {path}: {err.strerror or err}") from None
    return path.resolve()
