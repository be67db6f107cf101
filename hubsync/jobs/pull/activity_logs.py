"""The activity streams: email events and web events (time-windowed logs), form submissions (per form, newest
first) and marketing event participations (per event, when its counters changed). Each page of activities is
stored with the stream's cursor after it, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import replace
from typing import Final, NamedTuple

import structlog

from hubsync.errors import FatalHubSpotError, MissingScopes
from hubsync.hubspot import cursors
from hubsync.hubspot.cursors import FormsCursor, LogCursor, LogWindow, MarketingEventsCursor, Token
from hubsync.hubspot.streams import email_events, forms, marketing_events, web_events
from hubsync.jobs.pull.pipelined import Prefetch, prefetch
from hubsync.jobs.pull.run import Run
from hubsync.records import Activity
from hubsync.store.activities import store_activities
from hubsync.store.crm import contact_ids_by_email
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import transaction

log = structlog.get_logger(__name__)

_HTTP_FORBIDDEN: Final = 403
_HTTP_NOT_FOUND: Final = 404
# Activities stored in one transaction at most when pages wait to be stored (a store-bound stream): fewer commits,
# and a table page that several of them touch is written once (SQLite's WAL, its checkpoints); a webhook batch
# waits for one such group at most.
GROUP_RECORDS: Final = 5_000

# A page of a log window: its activities, how many raw events were skipped, and the position after it.
_Fetch = Callable[[LogWindow, Token], tuple[list[Activity], int, Token]]
_Cursor = LogCursor | FormsCursor | MarketingEventsCursor


class Step(NamedTuple):
    """What an activity stream's fetching hands to its storing: a page of activities and the cursor after it, or
    (`activities` None) only a cursor to save."""

    activities: list[Activity] | None
    skipped: int
    cursor: _Cursor


def step_size(step: Step) -> int:
    return len(step.activities) if step.activities is not None else 0


def start_fetching(run: Run, stream: str) -> Iterator[Step] | None:
    """The steps of an activity stream, read from HubSpot from the stream's cursor on; what fetching needs from the
    database is read here and now (the caller's thread), the rest runs wherever the steps are taken. None: the
    stream has nothing to read in this run."""
    return _STARTS[stream](run, stream)


def store_steps(run: Run, stream: str, steps: Prefetch[Step]) -> None:
    """The pages in order, each with the cursor after it: one transaction stores a page and whichever pages after it
    were already fetched (up to `GROUP_RECORDS` activities), with the last one's cursor. A crash loses the group
    and keeps the cursor before it; a failed fetch comes out only after the pages before it are stored."""
    for step in run.fetched(steps):
        _store_group(run, stream, [step, *steps.ready(GROUP_RECORDS - step_size(step))])


def store_meanwhile(run: Run, taking: Prefetch[object]) -> bool:
    """While `taking` (the stream being stored) has no page ready: the pages another activity stream fetched ahead
    has ready, up to `GROUP_RECORDS` activities, stored with its cursor (the first such stream in the run's order).
    Whether there were any. Each stream's pages are still stored in order, each group with the cursor after it; a
    failed fetch stays where it is for the stream's own turn to report."""
    for stream, steps in run.ahead.items():
        if steps is taking:
            continue
        group = steps.ready(GROUP_RECORDS)
        if group:
            _store_group(run, stream, group)
            return True
    return False


def _store_group(run: Run, stream: str, group: list[Step]) -> None:
    pages = [step for step in group if step.activities is not None]
    with transaction(run.engine) as conn:
        if pages:
            activities = [activity for page in pages for activity in page.activities or ()]
            run.touch(conn, "contacts", store_activities(conn, activities))
        save_cursor(conn, stream, group[-1].cursor.to_json(), now=run.started)
    for page in pages:
        run.count(stream).skipped += page.skipped
        run.page_done(stream, step_size(page))


def _save(run: Run, stream: str, cursor: _Cursor) -> None:
    with transaction(run.engine) as conn:
        save_cursor(conn, stream, cursor.to_json(), now=run.started)


def _pull(run: Run, stream: str) -> None:
    """A stream fetched ahead of its storing: by the fetching the pull started while the stream before stored
    (`Run.ahead`), else from here."""
    steps = run.ahead.pop(stream, None)
    if steps is None:
        started = start_fetching(run, stream)
        if started is None:
            return
        steps = prefetch(started, stream=stream, size=step_size)
    store_steps(run, stream, steps)


# -- time-windowed logs: email events, web events ---------------------------------------------------------------


def pull_email_events(run: Run, stream: str) -> None:
    _pull(run, stream)


def _email_event_steps(run: Run, stream: str) -> Iterator[Step]:
    with transaction(run.engine) as conn:
        by_email = contact_ids_by_email(conn)

    def fetch(window: LogWindow, position: Token) -> tuple[list[Activity], int, Token]:
        return email_events.page(run.client, window.since, window.until, position, by_email)

    return _log_steps(run, stream, fetch)


def pull_web_events(run: Run, stream: str) -> None:
    # As it was before this run (fetching ahead stores nothing): what an unavailable API is noted on.
    with transaction(run.engine) as conn:
        cursor = LogCursor.from_json(load_cursor(conn, stream))
    try:
        _pull(run, stream)
    except FatalHubSpotError as err:
        if isinstance(err, MissingScopes) or err.status not in (_HTTP_FORBIDDEN, _HTTP_NOT_FOUND):
            raise
        if not cursor.unavailable:
            log.warning(
                "pull.page_views_unavailable",
                status=err.status,
                message="the events API is not available for this portal (it needs an Enterprise hub): "
                "scoring goes on without page views",
            )
        _save(run, stream, replace(cursor, unavailable=True, checked_at=run.started))


def _web_event_steps(run: Run, stream: str) -> Iterator[Step] | None:
    if not run.options.page_views:
        return None
    with transaction(run.engine) as conn:
        cursor = LogCursor.from_json(load_cursor(conn, stream))
    if cursor.unavailable and not cursors.due(cursor.checked_at, run.started, run.options.full_reconcile_every):
        return None

    def fetch(window: LogWindow, position: Token) -> tuple[list[Activity], int, Token]:
        return web_events.page(run.client, window.since, window.until, position)

    return _log_steps(run, stream, fetch)


def _log_steps(run: Run, stream: str, fetch: _Fetch) -> Iterator[Step]:
    with transaction(run.engine) as conn:
        cursor = LogCursor.from_json(load_cursor(conn, stream))
    cursor = replace(cursor, unavailable=False, checked_at=None)
    return _log_pages(run, cursor, fetch)


def _log_pages(run: Run, cursor: LogCursor, fetch: _Fetch) -> Iterator[Step]:
    while True:
        window = _plan(run, cursor)
        activities, skipped, position = fetch(window, window.position)
        cursor = cursors.next_log_cursor(cursor, window, position, run.started)
        yield Step(activities, skipped, cursor)
        if position is None and window.until >= run.started:
            return


def _plan(run: Run, cursor: LogCursor | FormsCursor) -> LogWindow:
    return cursors.plan_log(
        cursor, run_started=run.started, overlap=run.options.overlap, history_start=run.started - run.options.history
    )


# -- form submissions -------------------------------------------------------------------------------------------


def pull_form_submissions(run: Run, stream: str) -> None:
    """Submissions per form, newest first, down to the window's start. Polled only when it can find something:
    on the first run, on a full reconciliation, on a backfill, or when the contacts stream saw a contact whose
    `recent_conversion_date` is inside the window (HubSpot sets it on every form submission)."""
    _pull(run, stream)


def _form_submission_steps(run: Run, stream: str) -> Iterator[Step]:
    with transaction(run.engine) as conn:
        cursor = FormsCursor.from_json(load_cursor(conn, stream))
        by_email = contact_ids_by_email(conn)
    return _form_steps(run, cursor, by_email)


def _form_steps(run: Run, cursor: FormsCursor, by_email: Mapping[str, int]) -> Iterator[Step]:
    refresh = cursors.due(cursor.forms_at, run.started, run.options.full_reconcile_every)
    poll = refresh or cursor.poll or cursor.window is not None or run.saw_conversion
    if not poll:
        # Nothing can have been submitted since the last poll (no contact converted): the window is covered.
        yield Step(None, 0, replace(cursor, synced_to=run.started))
        return
    if refresh or cursor.forms is None:
        cursor = replace(cursor, forms=forms.list_forms(run.client), forms_at=run.started)
    while True:
        window = _plan(run, cursor)
        cursor = yield from _forms_window(run, cursor, window, by_email)
        # A window left by an interrupted run ends before this run's start: read on up to it.
        if window.until >= run.started:
            return


def _forms_window(
    run: Run, cursor: FormsCursor, window: LogWindow, by_email: Mapping[str, int]
) -> Generator[Step, None, FormsCursor]:
    names = cursor.forms or {}
    form_ids = sorted(names)
    index = (cursor.form_index or 0) if cursor.window is not None else 0
    position = window.position
    done = replace(
        cursor, window=None, form_index=None, position=None, poll=False, synced_to=min(window.until, run.started)
    )
    if index >= len(form_ids):
        yield Step(None, 0, done)
        return done
    while index < len(form_ids):
        form_id = form_ids[index]
        activities, skipped, following = forms.submissions_page(
            run.client,
            form_id=form_id,
            form_name=names.get(form_id),
            since=window.since,
            position=position,
            contact_id_by_email=by_email,
        )
        if following is None:
            index, position = index + 1, None
        else:
            position = following
        after = done
        if index < len(form_ids):
            after = replace(cursor, window=(window.since, window.until), form_index=index, position=position)
        yield Step(activities, skipped, after)
        cursor = after
    return cursor


# -- marketing event participations -----------------------------------------------------------------------------


def pull_marketing_events(run: Run, stream: str) -> None:
    """Participations of the events whose counters changed since they were last read (none filter by time)."""
    _pull(run, stream)


def _marketing_event_steps(run: Run, stream: str) -> Iterator[Step]:
    with transaction(run.engine) as conn:
        cursor = MarketingEventsCursor.from_json(load_cursor(conn, stream))
    return _marketing_steps(run, cursor)


def _marketing_steps(run: Run, cursor: MarketingEventsCursor) -> Iterator[Step]:
    seen = dict(cursor.fingerprints)
    if cursors.due(cursor.reconciled_at, run.started, run.options.full_reconcile_every):
        seen = {}
        cursor = replace(cursor, reconciled_at=run.started)
    current = marketing_events.list_events(run.client)
    for event_id in sorted(current, key=lambda e: (len(e), e)):
        if seen.get(event_id) == current[event_id]:
            continue
        position = cursor.position if cursor.event == event_id else None
        while True:
            activities, skipped, position = marketing_events.participations_page(run.client, event_id, position)
            if position is None:
                seen[event_id] = current[event_id]
            cursor = replace(
                cursor, fingerprints=dict(seen), event=None if position is None else event_id, position=position
            )
            yield Step(activities, skipped, cursor)
            if position is None:
                break
    # Events that disappeared are forgotten, so a re-created id is read again.
    yield Step(None, 0, replace(cursor, fingerprints={k: v for k, v in seen.items() if k in current}))


ACTIVITY_STREAMS: Final = ("email_events", "form_submissions", "marketing_events", "web_events")
_STARTS: Final[dict[str, Callable[[Run, str], Iterator[Step] | None]]] = {
    "email_events": _email_event_steps,
    "form_submissions": _form_submission_steps,
    "marketing_events": _marketing_event_steps,
    "web_events": _web_event_steps,
}
