"""Cursor state, typed: one frozen dataclass per kind of stream, and the small pure functions that move it.

A cursor is stored per stream in `sync_cursor` as a JSON object, saved in the same transaction as the page it
covers. `from_json` reads what is stored, `to_json` writes the same shapes (and key order) hubsync has always
written, so an existing database keeps working:

* `CrmCursor` — contacts, companies, deals, engagements:
  - `{"mode": "full", "after": <list token>, "started": <iso>}` while the first listing runs; a listing that
    replaces a window (`relisting`) also keeps the stream's `"synced_to"`;
  - `{"mode": "incremental", "synced_to": <iso>}` between runs;
  - `{"mode": "incremental", "synced_to": <iso>, "window": [<since>, <until>], "after_id": <id>}` inside a window.
  Windows are read with search sorted by `hs_object_id` and keyset-paged on it (`hs_object_id > after_id`, always
  the first page), so the 10,000-result cap is never reached and equal modified dates can never loop.
* `LogCursor` — the time-windowed logs (email events, web events): `{"synced_to": <iso>}` between runs;
  `{"window": [since, until], "position": <token>, "synced_to": …}` inside one; web events add
  `"unavailable": true, "checked_at": <iso>` while the portal has no events API.
* `FormsCursor` — form submissions: `{"forms": {guid: name}, "forms_at": <iso>, "synced_to": <iso>}`, inside a
  window also `"window"`, `"form_index"`, `"position"`; `"poll": true` after a backfill.
* `MarketingEventsCursor` — `{"reconciled_at": <iso>, "fingerprints": {event id: counters}, "event": <id>,
  "position": <token>}`.
* `AssociationsCursor` — `{"reconciled_at": <iso>, "recent_after": <contact id>}`.
* `DeletionsCursor` — `{"swept_at": <iso>}`, stored as `<stream>.deletions` (`deletions_key`); owners too (their
  archived list).
* `OpenTasksCursor` — `{"read_at": <iso>, "full_at": <iso>}`, stored as `tasks.open`: the handoff's read of its open
  tasks.

No function here reads the clock: `run_started` is passed in, and `synced_to` never moves past it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

Json = dict[str, Any]
# A page token as HubSpot sends it (an offset, a string token); stored as is.
Token = Any


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


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def _window(value: object) -> tuple[datetime, datetime] | None:
    """A stored `[since, until]`; None unless both ends parse."""
    if not isinstance(value, list) or len(value) != 2:  # noqa: PLR2004 -- [since, until]
        return None
    since, until = parse_iso(value[0]), parse_iso(value[1])
    return None if since is None or until is None else (since, until)


def _window_json(window: tuple[datetime, datetime]) -> list[str]:
    return [iso(window[0]), iso(window[1])]


# -- CRM object streams -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrmCursor:
    """Where a CRM object stream is. `mode` None: never read (or unreadable): the stream starts with a listing."""

    mode: Literal["full", "incremental"] | None = None
    after: str | None = None  # full: the token of the next list page
    started: datetime | None = None  # full: when the listing began
    # incremental: everything modified before this is stored; full: set when the listing replaced a window (a
    # stream read before), so what it was synced to still holds
    synced_to: datetime | None = None
    window: tuple[datetime, datetime] | None = None  # incremental: the window being read
    after_id: int = 0  # inside a window: the highest id stored

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> CrmCursor:
        state = state or {}
        mode = state.get("mode")
        after = state.get("after")
        return cls(
            mode=mode if mode in ("full", "incremental") else None,
            after=None if after is None else str(after),
            started=parse_iso(state.get("started")),
            synced_to=parse_iso(state.get("synced_to")),
            window=_window(state.get("window")),
            after_id=int(state.get("after_id") or 0),
        )

    def to_json(self) -> Json:
        if self.mode == "full":
            listing: Json = {"mode": "full", "after": self.after, "started": _iso_or_none(self.started)}
            return listing if self.synced_to is None else {**listing, "synced_to": iso(self.synced_to)}
        if self.mode is None:
            return {}
        out: Json = {"mode": "incremental"}
        if self.synced_to is not None:
            out["synced_to"] = iso(self.synced_to)
        if self.window is not None:
            out["window"] = _window_json(self.window)
            out["after_id"] = self.after_id
        return out


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


def plan(cursor: CrmCursor, *, run_started: datetime, overlap: timedelta) -> Listing | Window:
    """What a CRM object stream reads first in this run."""
    if cursor.mode != "incremental":
        started = cursor.started or run_started
        # A listing resumed by a later run keeps its first start: changes after it may be behind the pages read.
        return Listing(after=cursor.after, started=min(started, run_started))
    if cursor.window is not None:
        return Window(*cursor.window, cursor.after_id)
    synced_to = cursor.synced_to or run_started
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


def next_cursor(prev: CrmCursor, page: ListPage | WindowPage, run_started: datetime) -> CrmCursor:
    """The cursor after `page`, for a stream whose cursor was `prev`. `synced_to` never passes `run_started`."""
    current = plan(prev, run_started=run_started, overlap=timedelta(0))
    if isinstance(page, ListPage):
        started = current.started if isinstance(current, Listing) else run_started
        if page.next_after is not None:
            return CrmCursor(mode="full", after=page.next_after, started=started, synced_to=prev.synced_to)
        return CrmCursor(mode="incremental", synced_to=min(started, run_started))
    if not isinstance(current, Window):
        raise TypeError("a search page needs an incremental cursor")
    # The window as planned from `prev` (with its overlap already applied) is what the page belongs to.
    since, until = prev.window or (current.since, run_started)
    until = min(until, run_started)
    synced_to = prev.synced_to or until
    if page.more and page.max_id is not None:
        return CrmCursor(
            mode="incremental",
            synced_to=min(synced_to, run_started),
            window=(since, until),
            after_id=max(page.max_id, current.after_id),
        )
    return CrmCursor(mode="incremental", synced_to=until)


def start_window(prev: CrmCursor, window: Window) -> CrmCursor:
    """The cursor that names `window` before its first page (so a crash resumes the same window)."""
    synced_to = prev.synced_to or window.until
    return CrmCursor(
        mode="incremental",
        synced_to=min(synced_to, window.until),
        window=(window.since, window.until),
        after_id=window.after_id,
    )


def relisting(prev: CrmCursor, run_started: datetime) -> CrmCursor:
    """The cursor of a stream that lists everything instead of reading its window (`relist`): the listing begins
    after `run_started`, so it holds every change made before; its end moves `synced_to` to `run_started`, and the
    next window (with its overlap) reads whatever changed while it ran."""
    return CrmCursor(mode="full", after=None, started=run_started, synced_to=prev.synced_to)


def backfill_state(prev: CrmCursor, since: datetime, run_started: datetime) -> CrmCursor:
    """A CRM cursor that makes the next run re-read everything modified from `since` (the backfill)."""
    if prev.mode == "full":
        return prev  # a listing still running already reads everything
    return CrmCursor(
        mode="incremental", synced_to=prev.synced_to or run_started, window=(since, run_started), after_id=0
    )


# -- time-windowed logs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogCursor:
    """Where a time-windowed log (email events, web events) is."""

    synced_to: datetime | None = None
    window: tuple[datetime, datetime] | None = None
    position: Token = None  # inside a window: the next page
    # Web events: the portal has no events API (it needs an Enterprise hub), as found at `checked_at`.
    unavailable: bool = False
    checked_at: datetime | None = None

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> LogCursor:
        state = state or {}
        return cls(
            synced_to=parse_iso(state.get("synced_to")),
            window=_window(state.get("window")),
            position=state.get("position"),
            unavailable=bool(state.get("unavailable")),
            checked_at=parse_iso(state.get("checked_at")),
        )

    def to_json(self) -> Json:
        out: Json = {}
        if self.window is not None:
            out["window"] = _window_json(self.window)
            out["position"] = self.position
        if self.synced_to is not None:
            out["synced_to"] = iso(self.synced_to)
        if self.unavailable:
            out["unavailable"] = True
        if self.checked_at is not None:
            out["checked_at"] = iso(self.checked_at)
        return out


@dataclass(frozen=True, slots=True)
class FormsCursor:
    """Where form submissions are: a log window read form by form (newest first), and the forms it reads."""

    forms: Mapping[str, str] | None = None  # guid → name, as listed at `forms_at`
    forms_at: datetime | None = None
    synced_to: datetime | None = None
    window: tuple[datetime, datetime] | None = None
    form_index: int | None = None  # inside a window: the form being read (in guid order)
    position: Token = None  # inside a window: the next page of that form
    poll: bool = False  # a backfill asks for the next run to read, whatever the contacts showed

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> FormsCursor:
        state = state or {}
        forms = state.get("forms")
        form_index = state.get("form_index")
        return cls(
            forms=dict(forms) if isinstance(forms, dict) else None,
            forms_at=parse_iso(state.get("forms_at")),
            synced_to=parse_iso(state.get("synced_to")),
            window=_window(state.get("window")),
            form_index=None if form_index is None else int(form_index),
            position=state.get("position"),
            poll=bool(state.get("poll")),
        )

    def to_json(self) -> Json:
        out: Json = {}
        if self.forms is not None:
            out["forms"] = dict(self.forms)
        if self.forms_at is not None:
            out["forms_at"] = iso(self.forms_at)
        if self.synced_to is not None:
            out["synced_to"] = iso(self.synced_to)
        if self.window is not None:
            out["window"] = _window_json(self.window)
            if self.form_index is not None:
                out["form_index"] = self.form_index
            out["position"] = self.position
        if self.poll:
            out["poll"] = True
        return out


_Log = TypeVar("_Log", LogCursor, FormsCursor)


@dataclass(frozen=True, slots=True)
class LogWindow:
    since: datetime
    until: datetime
    position: Token


def plan_log(
    cursor: LogCursor | FormsCursor, *, run_started: datetime, overlap: timedelta, history_start: datetime
) -> LogWindow:
    """The window of a log stream (email events, web events, form submissions) for this run."""
    if cursor.window is not None:
        return LogWindow(*cursor.window, cursor.position)
    if cursor.synced_to is None:
        return LogWindow(min(history_start, run_started), run_started, None)
    return LogWindow(min(cursor.synced_to, run_started) - overlap, run_started, None)


def next_log_cursor(prev: LogCursor, window: LogWindow, position: Token, run_started: datetime) -> LogCursor:
    """After a page of a log window: keep the window and the next position, or close it (position None)."""
    until = min(window.until, run_started)
    if position is None:
        return replace(prev, synced_to=until, window=None, position=None)
    synced_to = None if prev.synced_to is None else min(prev.synced_to, until)
    return replace(prev, synced_to=synced_to, window=(window.since, until), position=position)


def log_backfill_state(prev: _Log, since: datetime, run_started: datetime) -> _Log:
    """A log cursor that makes the next run re-read everything from `since` (the backfill)."""
    return replace(prev, window=(since, run_started), position=None)


# -- streams that are reconciled rather than read by time -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketingEventsCursor:
    """Which marketing events' participations are stored (by a fingerprint of their counters), and the event
    being read."""

    reconciled_at: datetime | None = None  # when every event was last read again
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    event: str | None = None
    position: Token = None  # the next page of `event`

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> MarketingEventsCursor:
        state = state or {}
        return cls(
            reconciled_at=parse_iso(state.get("reconciled_at")),
            fingerprints=dict(state.get("fingerprints") or {}),
            event=state.get("event"),
            position=state.get("position"),
        )

    def to_json(self) -> Json:
        return {
            "reconciled_at": _iso_or_none(self.reconciled_at),
            "fingerprints": dict(self.fingerprints),
            "event": self.event,
            "position": self.position,
        }


@dataclass(frozen=True, slots=True)
class AssociationsCursor:
    reconciled_at: datetime | None = None  # when every association was last read
    recent_after: int = 0  # the recently active contacts are checked in turn, in id order, after this one

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> AssociationsCursor:
        state = state or {}
        return cls(
            reconciled_at=parse_iso(state.get("reconciled_at")), recent_after=int(state.get("recent_after") or 0)
        )

    def to_json(self) -> Json:
        return {"reconciled_at": _iso_or_none(self.reconciled_at), "recent_after": self.recent_after}


def deletions_key(stream: str) -> str:
    """Where a stream's sweeps of archived records (`DeletionsCursor`) are recorded, beside its own cursor."""
    return f"{stream}.deletions"


@dataclass(frozen=True, slots=True)
class DeletionsCursor:
    swept_at: datetime | None = None  # when a CRM stream's archived list was last read

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> DeletionsCursor:
        return cls(swept_at=parse_iso((state or {}).get("swept_at")))

    def to_json(self) -> Json:
        return {"swept_at": _iso_or_none(self.swept_at)}


OPEN_TASKS_KEY = "tasks.open"


@dataclass(frozen=True, slots=True)
class OpenTasksCursor:
    """The handoff's read of hubsync's open tasks (`jobs/open_tasks.py`), stored as `tasks.open`: when the last read
    began, and when the last full one did. None: never (or a lost database): the next read is a full one."""

    read_at: datetime | None = None
    full_at: datetime | None = None

    @classmethod
    def from_json(cls, state: Mapping[str, Any] | None) -> OpenTasksCursor:
        state = state or {}
        return cls(read_at=parse_iso(state.get("read_at")), full_at=parse_iso(state.get("full_at")))

    def to_json(self) -> Json:
        return {"read_at": _iso_or_none(self.read_at), "full_at": _iso_or_none(self.full_at)}

    def changed_since(self, now: datetime, *, overlap: timedelta, full_every: timedelta) -> datetime | None:
        """From when a read at `now` takes the changed tasks; None: it reads every open task (the first read, and
        every `full_every`: deletions move no modified date)."""
        if self.read_at is None or due(self.full_at, now, full_every):
            return None
        # A clock that went back must not skip the changes in between.
        return min(self.read_at, now) - overlap

    def after_read(self, now: datetime, *, full: bool) -> OpenTasksCursor:
        return OpenTasksCursor(read_at=now, full_at=now if full else self.full_at)


# -- periodic work ----------------------------------------------------------------------------------------------


def due(last: datetime | None, now: datetime, every: timedelta) -> bool:
    """Whether a periodic job last done at `last` (None: never) is due at `now`."""
    return last is None or now - last >= every


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
