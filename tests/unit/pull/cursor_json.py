"""The cursor functions as the database sees them: JSON in, JSON out, through the typed cursors' `from_json` and
`to_json`. The cursor tests are written against the stored JSON, so they also pin the shapes `sync_cursor` holds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hubsync.hubspot import cursors
from hubsync.hubspot.cursors import (
    CrmCursor,
    FormsCursor,
    Listing,
    ListPage,
    LogCursor,
    LogWindow,
    Window,
    WindowPage,
    iso,
    parse_iso,
    rolling_slice,
)

__all__ = [
    "ListPage",
    "Listing",
    "LogWindow",
    "Window",
    "WindowPage",
    "backfill_state",
    "due",
    "iso",
    "log_backfill_state",
    "next_cursor",
    "next_log_cursor",
    "parse_iso",
    "plan",
    "plan_log",
    "rolling_slice",
    "start_window",
]

State = Mapping[str, Any] | None


def plan(state: State, *, run_started: datetime, overlap: timedelta) -> Listing | Window:
    return cursors.plan(CrmCursor.from_json(state), run_started=run_started, overlap=overlap)


def next_cursor(prev: State, page: ListPage | WindowPage, run_started: datetime) -> dict[str, Any]:
    return cursors.next_cursor(CrmCursor.from_json(prev), page, run_started).to_json()


def start_window(prev: State, window: Window) -> dict[str, Any]:
    return cursors.start_window(CrmCursor.from_json(prev), window).to_json()


def backfill_state(prev: State, since: datetime, run_started: datetime) -> dict[str, Any]:
    return cursors.backfill_state(CrmCursor.from_json(prev), since, run_started).to_json()


def plan_log(state: State, *, run_started: datetime, overlap: timedelta, history_start: datetime) -> LogWindow:
    return cursors.plan_log(
        LogCursor.from_json(state), run_started=run_started, overlap=overlap, history_start=history_start
    )


def next_log_cursor(prev: State, window: LogWindow, position: Any, run_started: datetime) -> dict[str, Any]:
    return cursors.next_log_cursor(LogCursor.from_json(prev), window, position, run_started).to_json()


def log_backfill_state(prev: State, since: datetime, run_started: datetime) -> dict[str, Any]:
    # The widest log cursor: the form submissions' keeps its forms through a backfill.
    return cursors.log_backfill_state(FormsCursor.from_json(prev), since, run_started).to_json()


def due(last: str | None, now: datetime, every: timedelta) -> bool:
    return cursors.due(parse_iso(last), now, every)
