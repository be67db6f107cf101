"""The pull: an incremental, checkpointed, rate-aware sync of everything scoring needs.

Streams, in this order (later ones use what earlier ones stored: e-mail addresses, changed ids):
owners → companies → contacts → deals → engagements (emails, calls, meetings, notes, tasks) → associations →
email events → form submissions → marketing event participations → web events (page views).

Each page is stored together with the stream's cursor in one transaction, so a crash at any moment loses at most
the page in flight and duplicates nothing (every write is an upsert or a replacement). Cursor arithmetic lives in
`hubspot/cursors.py`, endpoints in `hubspot/streams/`, SQL in `store/`; this package sequences them:
`crm.py` (CRM objects and owners), `deletions.py` (archives, deletions for good, restores), `associations.py`,
`activity_logs.py` (email, web, form and marketing event activity), `pipelined.py` (fetching pages ahead) and
`run.py` (what the handlers of one run share). Once the contacts are stored, every activity stream starts fetching
(`_fetch_ahead`), each up to a bounded number of records ahead; from the associations on, whenever the stream being
stored waits for its next page, pages another stream fetched ahead are stored meanwhile (`store_meanwhile`). So the
store-bound streams (email and web events) are stored while the call-bound ones (associations, form submissions,
marketing events) wait for the pacer, instead of after them with nothing left to fetch. Each stream still stores its
pages in order, each group with the cursor after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, Final

import structlog
from sqlalchemy.engine import Engine

from hubsync.errors import StoppedForNow
from hubsync.hubspot import cursors
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.cursors import AssociationsCursor, CrmCursor, FormsCursor, LogCursor, MarketingEventsCursor
from hubsync.jobs.pull.activity_logs import (
    ACTIVITY_STREAMS,
    pull_email_events,
    pull_form_submissions,
    pull_marketing_events,
    pull_web_events,
    start_fetching,
    step_size,
    store_meanwhile,
)
from hubsync.jobs.pull.associations import ASSOCIATION_PAIRS, pull_associations
from hubsync.jobs.pull.crm import object_spec, pull_changes, pull_owners
from hubsync.jobs.pull.deletions import reconcile_deletions
from hubsync.jobs.pull.pipelined import prefetch
from hubsync.jobs.pull.run import (
    CRM_STREAMS,
    ENGAGEMENT_STREAMS,
    LOG_STREAMS,
    STREAMS,
    Progress,
    PullOptions,
    PullResult,
    Run,
    StreamCounts,
)
from hubsync.jobs.work_lock import WorkLock
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import refresh_statistics, transaction

__all__ = [
    "ASSOCIATION_PAIRS",
    "CRM_STREAMS",
    "ENGAGEMENT_STREAMS",
    "LOG_STREAMS",
    "STREAMS",
    "Progress",
    "PullOptions",
    "PullResult",
    "StreamCounts",
    "backfill",
    "pull",
]

log = structlog.get_logger(__name__)


def pull(
    client: HubSpotClient,
    engine: Engine,
    options: PullOptions,
    *,
    now: Callable[[], datetime],
    progress: Progress | None = None,
    work: WorkLock | None = None,
) -> PullResult:
    """Pull every selected stream once. `now` is the clock (HubSpot's modified dates are compared with it); `work`,
    the service's work lock, is offered to waiting webhook batches between pages (`Run.page_done`, `Run.fetched`).

    HubsyncErrors other than StoppedForNow propagate (what was stored so far stays stored, cursors included);
    StoppedForNow (the daily quota, a Retry-After beyond the cap) ends the run early and is returned in
    `PullResult.stopped`.
    """
    # Cursors keep milliseconds (as HubSpot's dates do): the run's start is cut to them, so a window closed at
    # the run's start compares equal to it after a round trip through the cursor.
    started = now()
    run = Run(
        client, engine, options, started.replace(microsecond=started.microsecond // 1000 * 1000), progress, work=work
    )
    before = client.stats().total
    log.info("pull.started", streams=sorted(options.streams), run_started=cursors.iso(run.started))
    stopped: StoppedForNow | None = None
    selected = [s for s in STREAMS if s in options.streams]
    try:
        after_contacts = [s for s in selected if STREAMS.index(s) > STREAMS.index("contacts")]
        for stream in selected:
            if after_contacts and stream == after_contacts[0]:
                _fetch_ahead(run, after_contacts[1:])
            if STREAMS.index(stream) >= STREAMS.index("associations"):
                # Not before: the associations pick the contacts they re-check from what the run touched and the
                # activity stored before them (recently active contacts).
                run.meanwhile = partial(store_meanwhile, run)
            _STREAM_FUNCTIONS[stream](run, stream)
    except StoppedForNow as err:
        log.warning("pull.stopped", reason=type(err).__name__, message=str(err))
        stopped = err
    finally:
        for pages in run.ahead.values():
            pages.close()
        run.ahead.clear()
    refresh_statistics(engine)  # what was just stored, planned with statistics by the rescore and the next pull
    result = PullResult(
        counts=dict(run.counts),
        touched_contacts=frozenset(run.contacts),
        touched_companies=frozenset(run.companies),
        api_calls=client.stats().total - before,
        started_at=run.started,
        stopped=stopped,
        changed_deals=frozenset(run.changed.get("deals", set())),
    )
    log.info(
        "pull.finished",
        stored=result.stored,
        api_calls=result.api_calls,
        touched_contacts=len(result.touched_contacts),
        touched_companies=len(result.touched_companies),
        stopped=stopped is not None,
    )
    return result


def _fetch_ahead(run: Run, following: list[str]) -> None:
    """Once the contacts are stored (as the first stream after them starts), start fetching every activity stream of
    `following`: an activity stream's fetching reads contacts (e-mail addresses, conversions) and its own
    cursor, nothing a later stream stores. Each stream's fetching runs up to `RECORDS_AHEAD` records ahead of its
    storing, so the request pipe is kept busy by whichever has room while the pull stores (a store-bound stream's
    storing overlaps the call-bound ones' fetching). Each stream's pages are still stored in order, each with its
    cursor: in its turn, or earlier while another stream waits for a page (`store_meanwhile`)."""
    for name in following:
        if name in ACTIVITY_STREAMS:
            steps = start_fetching(run, name)
            if steps is not None:
                run.ahead[name] = prefetch(steps, stream=name, size=step_size)


def backfill(engine: Engine, streams: Iterable[str], *, since: datetime, now: datetime) -> None:
    """Point the cursors of `streams` back to `since`, so that the next pull re-reads from there. The pull then
    checkpoints as usual: a backfill interrupted at any point resumes where it stopped, and re-running it is
    harmless (every write is an upsert)."""
    with transaction(engine) as conn:
        for stream in streams:
            state = _reopened(stream, load_cursor(conn, stream), since=since, now=now)
            if state is not None:
                save_cursor(conn, stream, state, now=now)


def _reopened(
    stream: str, stored: Mapping[str, Any] | None, *, since: datetime, now: datetime
) -> dict[str, Any] | None:
    """A stream's cursor pointed back to `since`; None for a stream a backfill leaves alone (owners)."""
    if stream in CRM_STREAMS:
        return cursors.backfill_state(CrmCursor.from_json(stored), since, now).to_json()
    if stream == "form_submissions":
        forms = cursors.log_backfill_state(FormsCursor.from_json(stored), since, now)
        return replace(forms, poll=True).to_json()
    if stream in LOG_STREAMS:
        return cursors.log_backfill_state(LogCursor.from_json(stored), since, now).to_json()
    # Neither reads by time: a backfill makes the next run reconcile everything.
    if stream == "associations":
        return replace(AssociationsCursor.from_json(stored), reconciled_at=None).to_json()
    if stream == "marketing_events":
        return replace(MarketingEventsCursor.from_json(stored), reconciled_at=None, fingerprints={}).to_json()
    return None


def _crm_objects(run: Run, stream: str) -> None:
    spec = object_spec(run, stream)
    cutoff = pull_changes(run, spec)
    reconcile_deletions(run, spec, cutoff)


_STREAM_FUNCTIONS: Final[dict[str, Callable[[Run, str], None]]] = {
    "owners": pull_owners,
    **dict.fromkeys(CRM_STREAMS, _crm_objects),
    "associations": pull_associations,
    "email_events": pull_email_events,
    "form_submissions": pull_form_submissions,
    "marketing_events": pull_marketing_events,
    "web_events": pull_web_events,
}
