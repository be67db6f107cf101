"""Cursor logic as small pure functions: what a stream reads next, and the cursor state after a page.

Cursor states are JSON objects stored per stream in `sync_cursor` (saved in the same transaction as the page they
cover). Two shapes:

* CRM object streams (contacts, companies, deals, engagements):
  - `{"mode": "full", "after": <list token or null>, "started": <iso>}` while the first listing runs;
  - `{"mode": "incremental", "synced_to": <iso>}` between runs;
  - `{"mode": "incremental", "synced_to": <iso>, "window": [<since>, <until>], "after_id": <id>}` inside a window.
  Windows are read with search sorted by `hs_object_id` and keyset-paged on it (`hs_object_id > after_id`, always
  the first page), so the 10,000-result cap is never reached and equal modified dates can never loop.
* Time-windowed logs (email events, web events, form submissions):
  `{"synced_to": <iso>}` between runs; `{"synced_to": …, "window": [since, until], "position": <token>}` inside one.

No function here reads the clock: `run_started` is passed in, and `synced_to` never moves past it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

State = dict[str, Any]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# -- CRM object streams -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listing:
    """Read everything with the list endpoint, from `after` (None: the first page)."""

    after: str | None
    started: datetime


@dataclass(frozen=True, slots=True)
class Window:
    """Read records modified in [since, until) with search, ids above `after_id`."""

    since: datetime
    until: datetime
    after_id: int


def plan(state: State | None, *, run_started: datetime, overlap: timedelta) -> Listing | Window:
    """What a CRM object stream reads first in this run."""
    if not state or state.get("mode") != "incremental":
        started = parse_iso((state or {}).get("started")) or run_started
        # A listing resumed by a later run keeps its first start: changes after it may be behind the pages read.
        return Listing(after=(state or {}).get("after"), started=min(started, run_started))
    window = state.get("window")
    if isinstance(window, list) and len(window) == 2:  # noqa: PLR2004 -- [since, until]
        since, until = parse_iso(window[0]), parse_iso(window[1])
        if since is not None and until is not None:
            return Window(since, until, int(state.get("after_id") or 0))
    synced_to = parse_iso(state.get("synced_to")) or run_started
    until = run_started
    since = min(synced_to, until) - overlap
    return Window(since, until, 0)


@dataclass(frozen=True, slots=True)
class ListPage:
    """A list page was stored; `next_after` is the token of the following page (None: the last page)."""

    next_after: str | None


@dataclass(frozen=True, slots=True)
class WindowPage:
    """A search page was stored; `max_id` is the highest id on it, `more` whether the window holds more."""

    max_id: int | None
    more: bool


def next_cursor(prev: State | None, page: ListPage | WindowPage, run_started: datetime) -> State:
    """The cursor after `page`, for a stream whose cursor was `prev`. `synced_to` never passes `run_started`."""
    current = plan(prev, run_started=run_started, overlap=timedelta(0))
    if isinstance(page, ListPage):
        started = current.started if isinstance(current, Listing) else run_started
        if page.next_after is not None:
            return {"mode": "full", "after": page.next_after, "started": iso(started)}
        return {"mode": "incremental", "synced_to": iso(min(started, run_started))}
    if not isinstance(current, Window):
        raise TypeError("a search page needs an incremental cursor")
    # The window as planned from `prev` (with its overlap already applied) is what the page belongs to.
    window = (prev or {}).get("window")
    since = parse_iso(window[0]) if isinstance(window, list) and window else None
    until = parse_iso(window[1]) if isinstance(window, list) and len(window) > 1 else None
    since = since or current.since
    until = min(until or run_started, run_started)
    synced_to = parse_iso((prev or {}).get("synced_to")) or until
    if page.more and page.max_id is not None:
        return {
            "mode": "incremental",
            "synced_to": iso(min(synced_to, run_started)),
            "window": [iso(since), iso(until)],
            "after_id": max(page.max_id, current.after_id),
        }
    return {"mode": "incremental", "synced_to": iso(until)}


def start_window(prev: State | None, window: Window) -> State:
    """The cursor that names `window` before its first page (so a crash resumes the same window)."""
    synced_to = parse_iso((prev or {}).get("synced_to")) or window.until
    return {
        "mode": "incremental",
        "synced_to": iso(min(synced_to, window.until)),
        "window": [iso(window.since), iso(window.until)],
        "after_id": window.after_id,
    }


def backfill_state(prev: State | None, since: datetime, run_started: datetime) -> State:
    """A CRM cursor that makes the next run re-read everything modified from `since` (the backfill)."""
    synced_to = parse_iso((prev or {}).get("synced_to"))
    if prev and prev.get("mode") == "full":
        return dict(prev)  # a listing still running already reads everything
    return {
        "mode": "incremental",
        "synced_to": iso(synced_to or run_started),
        "window": [iso(since), iso(run_started)],
        "after_id": 0,
    }


# -- time-windowed logs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogWindow:
    since: datetime
    until: datetime
    position: Any


def plan_log(state: State | None, *, run_started: datetime, overlap: timedelta, history_start: datetime) -> LogWindow:
    """The window of a log stream (email events, web events, form submissions) for this run."""
    window = (state or {}).get("window")
    if isinstance(window, list) and len(window) == 2:  # noqa: PLR2004 -- [since, until]
        since, until = parse_iso(window[0]), parse_iso(window[1])
        if since is not None and until is not None:
            return LogWindow(since, until, (state or {}).get("position"))
    synced_to = parse_iso((state or {}).get("synced_to"))
    if synced_to is None:
        return LogWindow(min(history_start, run_started), run_started, None)
    return LogWindow(min(synced_to, run_started) - overlap, run_started, None)


def next_log_cursor(prev: State | None, window: LogWindow, position: Any, run_started: datetime) -> State:
    """After a page of a log window: keep the window and the next position, or close it (position None)."""
    extra = {k: v for k, v in (prev or {}).items() if k not in {"window", "position", "synced_to"}}
    until = min(window.until, run_started)
    if position is None:
        return {**extra, "synced_to": iso(until)}
    synced_to = parse_iso((prev or {}).get("synced_to"))
    out: State = {**extra, "window": [iso(window.since), iso(until)], "position": position}
    if synced_to is not None:
        out["synced_to"] = iso(min(synced_to, until))
    return out


def log_backfill_state(prev: State | None, since: datetime, run_started: datetime) -> State:
    extra = {k: v for k, v in (prev or {}).items() if k not in {"window", "position"}}
    return {**extra, "window": [iso(since), iso(run_started)], "position": None}


def due(last: object, now: datetime, every: timedelta) -> bool:
    """Whether a periodic job last done at `last` (iso or None) is due at `now`."""
    when = parse_iso(last)
    return when is None or now - when >= every


def rolling_slice(ids: Sequence[int], *, after: int, size: int) -> tuple[list[int], int]:
    """The next `size` of the sorted `ids` after `after`, wrapping around to the start, and the position to go on
    from next time. Each id comes at most once; taking the slice every run visits all of them in turn, however
    the set changes between runs."""
    if len(ids) <= size:
        return list(ids), 0
    start = bisect.bisect_right(ids, after)
    taken = list(ids[start : start + size])
    if len(taken) < size:
        taken += ids[: size - len(taken)]
    return taken, taken[-1]
