"""The pull: an incremental, checkpointed, rate-aware sync of everything scoring needs.

Streams, in this order (later ones use what earlier ones stored: e-mail addresses, changed ids):
owners → companies → contacts → deals → engagements (emails, calls, meetings, notes, tasks) → associations →
email events → form submissions → marketing event participations → web events (page views).

Each page is stored together with the stream's cursor in one transaction, so a crash at any moment loses at most
the page in flight and duplicates nothing (every write is an upsert or a replacement). Cursor arithmetic lives in
`cursors.py`, endpoints in `streams/`, SQL in `store/writes.py`; this module only sequences them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from hubsync.errors import FatalHubSpotError, MissingScopes, QuotaExhausted
from hubsync.hubspot import cursors
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.mapping import (
    Skip,
    company_from_hubspot,
    contact_from_hubspot,
    deal_from_hubspot,
    engagement_created_at,
    engagement_to_activities,
    parse_id,
    parse_timestamp,
)
from hubsync.hubspot.streams import associations, crm, email_events, forms, marketing_events, owners, web_events
from hubsync.records import Activity, Company, Contact, Deal, EngagementType
from hubsync.settings import SyncConfig
from hubsync.store import writes
from hubsync.store.db import transaction
from hubsync.store.state import load_cursor, save_cursor
from hubsync.store.tables import company_t, contact_t, deal_t, engagement_t

log = structlog.get_logger(__name__)

ENGAGEMENT_STREAMS: Final = tuple(f"engagement_{crm.ENGAGEMENT_OBJECTS[t]}" for t in EngagementType)
CRM_STREAMS: Final = ("companies", "contacts", "deals", *ENGAGEMENT_STREAMS)
LOG_STREAMS: Final = ("email_events", "form_submissions", "web_events")
STREAMS: Final = (
    "owners",
    "companies",
    "contacts",
    "deals",
    *ENGAGEMENT_STREAMS,
    "associations",
    "email_events",
    "form_submissions",
    "marketing_events",
    "web_events",
)
# The associations read per run; contacts→companies feeds the buying center, deals the closed-won feedback.
ASSOCIATION_PAIRS: Final = (("contacts", "companies"), ("deals", "contacts"), ("deals", "companies"))
_HTTP_FORBIDDEN: Final = 403
_HTTP_NOT_FOUND: Final = 404

Progress = Callable[[str, int, int | None], None]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class PullOptions:
    """What the pull needs from the configuration, as frozen data."""

    overlap: timedelta = timedelta(minutes=10)
    history: timedelta = timedelta(days=730)
    recent: timedelta = timedelta(days=30)
    recent_checks_per_run: int = 2_000
    full_reconcile_every: timedelta = timedelta(days=7)
    page_views: bool = True
    # Extra properties to pull (e.g. those the scoring model's profile rules name).
    contact_properties: tuple[str, ...] = ()
    company_properties: tuple[str, ...] = ()
    streams: frozenset[str] = frozenset(STREAMS)

    @classmethod
    def from_config(
        cls,
        sync: SyncConfig,
        *,
        contact_properties: Iterable[str] = (),
        company_properties: Iterable[str] = (),
        streams: Iterable[str] | None = None,
    ) -> PullOptions:
        return cls(
            overlap=timedelta(minutes=sync.overlap_minutes),
            history=timedelta(days=sync.history_days),
            recent=timedelta(days=sync.recent_days),
            recent_checks_per_run=sync.recent_checks_per_run,
            full_reconcile_every=timedelta(days=sync.full_reconcile_days),
            page_views=sync.page_views,
            contact_properties=tuple(contact_properties),
            company_properties=tuple(company_properties),
            streams=frozenset(streams) if streams is not None else frozenset(STREAMS),
        )


@dataclass(slots=True)
class StreamCounts:
    stored: int = 0
    deleted: int = 0
    skipped: int = 0
    pages: int = 0


@dataclass(frozen=True, slots=True)
class PullResult:
    """What one pull did. `touched_*` are the ids whose scores may have changed (new or changed records, new
    activity, merges, deletions, association changes); `stopped` is set when the daily quota ended the run early
    (every stored page's cursor is saved: the next run resumes)."""

    counts: Mapping[str, StreamCounts]
    touched_contacts: frozenset[int]
    touched_companies: frozenset[int]
    api_calls: int
    started_at: datetime
    stopped: QuotaExhausted | None = None

    @property
    def stored(self) -> int:
        return sum(c.stored for c in self.counts.values())


@dataclass
class _Run:
    client: HubSpotClient
    engine: Engine
    options: PullOptions
    started: datetime
    progress: Progress | None
    counts: dict[str, StreamCounts] = field(default_factory=dict)
    contacts: set[int] = field(default_factory=set)
    companies: set[int] = field(default_factory=set)
    # Ids changed in this run, for the association reconciliation.
    changed: dict[str, set[int]] = field(default_factory=dict)
    conversions_since: datetime | None = None
    saw_conversion: bool = False

    def count(self, stream: str) -> StreamCounts:
        return self.counts.setdefault(stream, StreamCounts())

    def page_done(self, stream: str, stored: int, total: int | None = None) -> None:
        counts = self.count(stream)
        counts.pages += 1
        counts.stored += stored
        log.info("pull.page_stored", stream=stream, rows=stored)
        if self.progress is not None:
            self.progress(stream, stored, total)


def pull(
    client: HubSpotClient,
    engine: Engine,
    options: PullOptions,
    *,
    now: Callable[[], datetime],
    progress: Progress | None = None,
) -> PullResult:
    """Pull every selected stream once. `now` is the clock (HubSpot's modified dates are compared with it).

    HubsyncErrors other than QuotaExhausted propagate (what was stored so far stays stored, cursors included);
    QuotaExhausted ends the run early and is returned in `PullResult.stopped`.
    """
    # Cursors keep milliseconds (as HubSpot's dates do): the run's start is cut to them, so a window closed at
    # the run's start compares equal to it after a round trip through the cursor.
    started = now()
    run = _Run(client, engine, options, started.replace(microsecond=started.microsecond // 1000 * 1000), progress)
    before = client.stats().total
    log.info("pull.started", streams=sorted(options.streams), run_started=cursors.iso(run.started))
    stopped: QuotaExhausted | None = None
    try:
        for stream in STREAMS:
            if stream in options.streams:
                _STREAM_FUNCTIONS[stream](run, stream)
    except QuotaExhausted as err:
        log.warning("pull.stopped", reason="daily quota", message=str(err))
        stopped = err
    with transaction(engine) as conn:
        companies = run.companies | writes.companies_of(conn, run.contacts)
    result = PullResult(
        counts=dict(run.counts),
        touched_contacts=frozenset(run.contacts),
        touched_companies=frozenset(companies),
        api_calls=client.stats().total - before,
        started_at=run.started,
        stopped=stopped,
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


def backfill(engine: Engine, streams: Iterable[str], *, since: datetime, now: datetime) -> None:
    """Point the cursors of `streams` back to `since`, so that the next pull re-reads from there. The pull then
    checkpoints as usual: a backfill interrupted at any point resumes where it stopped, and re-running it is
    harmless (every write is an upsert)."""
    with transaction(engine) as conn:
        for stream in streams:
            prev = load_cursor(conn, stream)
            if stream in CRM_STREAMS:
                state = cursors.backfill_state(prev, since, now)
            elif stream in LOG_STREAMS:
                state = cursors.log_backfill_state(prev, since, now)
                if stream == "form_submissions":
                    state["poll"] = True
            elif stream in ("associations", "marketing_events"):
                # Neither reads by time: a backfill makes the next run reconcile everything.
                state = {**(prev or {}), "reconciled_at": None, "fingerprints": {}}
            else:
                continue
            save_cursor(conn, stream, state, now=now)


# -- CRM objects ------------------------------------------------------------------------------------------------


def _spec(run: _Run, stream: str) -> crm.ObjectSpec:
    if stream == "contacts":
        return crm.ObjectSpec(stream, "contacts", (*crm.CONTACT_PROPERTIES, *run.options.contact_properties))
    if stream == "companies":
        return crm.ObjectSpec(stream, "companies", (*crm.COMPANY_PROPERTIES, *run.options.company_properties))
    if stream == "deals":
        return crm.ObjectSpec(stream, "deals", crm.DEAL_PROPERTIES)
    engagement = next(t for t, name in crm.ENGAGEMENT_OBJECTS.items() if stream == f"engagement_{name}")
    return crm.ObjectSpec(stream, crm.ENGAGEMENT_OBJECTS[engagement], crm.ENGAGEMENT_PROPERTIES[engagement], engagement)


@dataclass(frozen=True, slots=True)
class _CrmPage:
    results: list[dict[str, Any]]
    contact_links: Mapping[int, list[int]] | None
    state: cursors.State
    total: int | None


def _crm_stream(run: _Run, stream: str) -> None:
    spec = _spec(run, stream)
    with transaction(run.engine) as conn:
        state = load_cursor(conn, stream)
    first = cursors.plan(state, run_started=run.started, overlap=run.options.overlap)
    run.conversions_since = None
    for page in _pipelined(_crm_pages(run, spec, state)):
        with transaction(run.engine) as conn:
            stored = _store_crm_page(run, conn, spec, page.results, page.contact_links)
            save_cursor(conn, stream, page.state, now=run.started)
        run.page_done(stream, stored, page.total)
    _deletions(run, spec, first.since if isinstance(first, cursors.Window) else None)


def _crm_pages(run: _Run, spec: crm.ObjectSpec, state: cursors.State | None) -> Iterator[_CrmPage]:
    """The pages of a CRM stream and the cursor after each; fetching needs no database, so it runs ahead."""
    seen = 0
    while True:
        step = cursors.plan(state, run_started=run.started, overlap=run.options.overlap)
        if isinstance(step, cursors.Listing):
            results, following = crm.list_page(run.client, spec, step.after)
            new_state = cursors.next_cursor(state, cursors.ListPage(following), run.started)
            contact_links, total = None, None
        else:
            if not (state or {}).get("window"):
                state = cursors.start_window(state, step)
            if spec.object_type == "contacts" and run.conversions_since is None:
                run.conversions_since = step.since
            results, more, remaining = crm.search_page(run.client, spec, step.since, step.until, step.after_id)
            total = None if remaining is None else seen + remaining
            ids = [i for r in results if (i := parse_id(r.get("id"))) is not None]
            new_state = cursors.next_cursor(state, cursors.WindowPage(max(ids, default=None), more), run.started)
            # Search results carry no associations: read the engagements' contacts separately.
            contact_links = (
                associations.contacts_of(run.client, spec.object_type, ids) if spec.engagement and ids else None
            )
        seen += len(results)
        yield _CrmPage(results, contact_links, new_state, total)
        state = new_state
        # Done once a window (or a listing) that reaches this run's start is closed; an older one (resumed from
        # an interrupted run) is followed by a window up to now.
        closed = "window" not in state and state.get("mode") == "incremental"
        reached = step.started if isinstance(step, cursors.Listing) else step.until
        if closed and reached >= run.started:
            return


def _pipelined(pages: Iterator[_T]) -> Iterator[_T]:
    """`pages`, produced one ahead in a worker thread: the next page is fetched (and waits for the pacer) while
    this one is mapped and stored. Errors of the worker (a failed call, the quota) come out here, in order; a
    page fetched but not yet stored when something fails is simply fetched again by the next run."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    cancelled = threading.Event()
    worker = threading.Thread(target=_produce, args=(pages, handoff, cancelled), name="pull-fetch", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        cancelled.set()
        worker.join()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_END: Final = object()


def _produce(pages: Iterator[Any], handoff: queue.Queue[Any], cancelled: threading.Event) -> None:
    try:
        for page in pages:
            if not _offer(handoff, page, cancelled):
                return
    except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, which re-raises it
        _offer(handoff, _Failed(exc), cancelled)
        return
    _offer(handoff, _END, cancelled)


def _offer(handoff: queue.Queue[Any], item: object, cancelled: threading.Event) -> bool:
    """Put `item` once there is room, unless the consumer gave up (then the worker ends)."""
    while not cancelled.is_set():
        try:
            handoff.put(item, timeout=0.1)
        except queue.Full:
            continue
        return True
    return False


def _store_crm_page(
    run: _Run,
    conn: Connection,
    spec: crm.ObjectSpec,
    results: list[dict[str, Any]],
    contact_links: Mapping[int, list[int]] | None,
) -> int:
    if spec.engagement is not None:
        return _store_engagements(
            run, conn, spec, engagement=spec.engagement, results=results, contact_links=contact_links
        )
    counts = run.count(spec.stream)
    records = []
    for raw in results:
        mapped = _MAPPERS[spec.object_type](raw)
        if isinstance(mapped, Skip):
            counts.skipped += 1
        else:
            records.append(mapped)
    # Compared before storing: only real changes are rescored, not records read again because hubsync itself wrote
    # their scores (which moves their modified date). Every record read still has its associations re-checked.
    fresh = writes.content_changed(conn, records)
    ids = writes.store_objects(conn, records)
    run.changed.setdefault(spec.stream, set()).update(ids)
    if spec.object_type == "contacts":
        run.contacts |= fresh
        run.contacts |= _contacts_stored(run, conn, [r for r in records if isinstance(r, Contact)])
    elif spec.object_type == "companies":
        run.companies |= fresh
    return len(records)


def _store_engagements(
    run: _Run,
    conn: Connection,
    spec: crm.ObjectSpec,
    *,
    engagement: EngagementType,
    results: list[dict[str, Any]],
    contact_links: Mapping[int, list[int]] | None,
) -> int:
    """One activity per associated contact; the engagement's previous activities are replaced (its contacts may
    have changed)."""
    counts = run.count(spec.stream)
    activities: list[Activity] = []
    created: dict[int, datetime | None] = {}
    for raw in results:
        engagement_id = parse_id(raw.get("id"))
        if engagement_id is None:
            counts.skipped += 1
            continue
        created[engagement_id] = engagement_created_at(raw)
        links = contact_links.get(engagement_id, []) if contact_links is not None else None
        for item in engagement_to_activities(raw, engagement_type=engagement, contact_ids=links):
            if isinstance(item, Skip):
                counts.skipped += 1
            else:
                activities.append(item)
    run.contacts |= writes.replace_engagement_activities(conn, engagement, created, activities)
    writes.store_engagements(conn, spec.object_type, created)
    return len(activities)


def _contacts_stored(run: _Run, conn: Connection, contacts: list[Contact]) -> set[int]:
    """Merges named by survivors (`hs_merged_object_ids`, "id1;id2"), applied in the page's transaction; and
    whether a contact converted (a form submission) inside this run's window. Returns the contacts touched."""
    merges: dict[int, list[int]] = {}
    for contact in contacts:
        old = [parse_id(x) for x in contact.properties.get("hs_merged_object_ids", "").split(";")]
        if any(x is not None for x in old):
            merges[contact.id] = [x for x in old if x is not None]
        conversion = parse_timestamp(contact.properties.get("recent_conversion_date"))
        if conversion is not None and run.conversions_since is not None and conversion >= run.conversions_since:
            run.saw_conversion = True
    return writes.apply_merges(conn, merges)


def _deletions(run: _Run, spec: crm.ObjectSpec, cutoff: datetime | None) -> None:
    """Changes no modified date shows: archives, deletions for good, restores. Archiving moves no modified date, so
    search never shows it; the archived list does, at a request per 100 records (HubSpot keeps them 90 days), so it
    is read only when needed: on the first run, every `full_reconcile_every`, and when HubSpot counts fewer live
    records created before `cutoff` than hubsync holds. (The cutoff is the start of the run's window, so records
    created while the run goes cannot hide a deletion.) If the counts still disagree after that, the ids are
    compared: deletions for good are in no list, and a restore need not move the modified date."""
    key = f"{spec.stream}.deletions"
    with transaction(run.engine) as conn:
        state = load_cursor(conn, key) or {}
    if cutoff is None:
        remote, held = None, set()
    else:
        remote, held = crm.count_created_before(run.client, spec, cutoff), _live_held(run, spec, cutoff)
    suspected = remote is not None and len(held) > remote
    if suspected:
        log.info("pull.deletions_suspected", stream=spec.stream, hubspot=remote, hubsync=len(held))
    if suspected or cursors.due(state.get("swept_at"), run.started, run.options.full_reconcile_every):
        _archived(run, spec)
        with transaction(run.engine) as conn:
            save_cursor(conn, key, {"swept_at": cursors.iso(run.started)}, now=run.started)
        if cutoff is not None:
            held = _live_held(run, spec, cutoff)
    if cutoff is not None and remote is not None and len(held) != remote:
        _compare_ids(run, spec, cutoff, held)


def _live_held(run: _Run, spec: crm.ObjectSpec, cutoff: datetime) -> set[int]:
    """The ids of the stream's records hubsync holds live, created before `cutoff`."""
    table, kind = _held(spec)
    with transaction(run.engine) as conn:
        return writes.live_created_before(conn, table, cutoff, object_type=kind)


def _held(spec: crm.ObjectSpec) -> tuple[sa.Table, str | None]:
    """Where hubsync holds a stream's records: its own table, or (engagements) the engagement table by type."""
    if spec.engagement is not None:
        return engagement_t, spec.object_type
    return _TABLES[spec.object_type], None


def _compare_ids(run: _Run, spec: crm.ObjectSpec, cutoff: datetime, held: set[int]) -> None:
    """When the counts still disagree, hubsync's live records against HubSpot's, by id (search, 200 per page).
    Held records HubSpot does not list were deleted for good (a GDPR deletion, a purged recycle bin) if a batch
    read confirms it (search may lag a fresh change); records HubSpot lists that hubsync does not hold live were
    restored from the recycle bin (which need not move their modified date) and are read and stored."""
    live: set[int] = set()
    after, more = 0, True
    while more:
        ids, more = crm.ids_created_before(run.client, spec, cutoff, after)
        live.update(ids)
        after = max(ids, default=after)
        more = more and bool(ids)
    missing, unknown = sorted(held - live), sorted(live - held)
    found = crm.read_live(run.client, spec.object_type, missing + unknown, spec.properties)
    found_ids = {i for r in found if (i := parse_id(r.get("id"))) is not None}
    gone = set(missing) - found_ids
    restored = found_ids.intersection(unknown)
    log.info("pull.ids_compared", stream=spec.stream, missing=len(missing), gone=len(gone), restored=len(restored))
    table, kind = _held(spec)
    links = associations.contacts_of(run.client, spec.object_type, found_ids) if spec.engagement and found else None
    with transaction(run.engine) as conn:
        writes.mark_archived(conn, table, gone, run.started, object_type=kind)
        _forget(run, conn, spec, gone)
        if found:
            stored = _store_crm_page(run, conn, spec, found, links)
    if found:
        run.page_done(spec.stream, stored)


def _archived(run: _Run, spec: crm.ObjectSpec) -> None:
    """Every page of the archived list: its records are stored as archived, and those newly gone are forgotten."""
    after: str | None = None
    counts = run.count(spec.stream)
    table, kind = _held(spec)
    while True:
        results, after = crm.list_page(run.client, spec, after, archived=True)
        when: dict[int, datetime] = {}
        records: list[Contact | Company | Deal] = []  # contacts, companies, deals: stored whole
        created: dict[int, datetime | None] = {}  # engagements: registered by id
        for raw in results:
            if kind is None:
                mapped = _MAPPERS[spec.object_type](raw)
                if isinstance(mapped, Skip):
                    counts.skipped += 1
                    continue
                records.append(mapped)
                record_id = mapped.id
            else:
                engagement_id = parse_id(raw.get("id"))
                if engagement_id is None:
                    counts.skipped += 1
                    continue
                created[engagement_id] = engagement_created_at(raw)
                record_id = engagement_id
            when[record_id] = parse_timestamp(raw.get("archivedAt")) or run.started
        with transaction(run.engine) as conn:
            new = set(when) - writes.already_archived(conn, table, when, object_type=kind)
            if kind is None:
                writes.store_objects(conn, records, archived_at=when)
            else:
                writes.store_engagements(conn, kind, created, archived_at=when)
            _forget(run, conn, spec, new)
        if after is None:
            return


def _forget(run: _Run, conn: Connection, spec: crm.ObjectSpec, ids: set[int]) -> None:
    """After records were marked archived: an engagement's activities go; a record keeps no associations of its
    own (they are no longer reconciled). Whose scores change is noted for the rescore."""
    if spec.engagement is not None:
        run.contacts |= writes.delete_engagement_activities(conn, spec.engagement, ids)
    else:
        writes.delete_associations_from(conn, spec.object_type, ids)
        _touch(run, spec.object_type, ids)
    run.count(spec.stream).deleted += len(ids)


# -- owners -----------------------------------------------------------------------------------------------------


def _owners(run: _Run, stream: str) -> None:
    found, skipped = owners.read_all(run.client)
    with transaction(run.engine) as conn:
        writes.store_owners(conn, found)
    run.count(stream).skipped += skipped
    run.page_done(stream, len(found))


# -- associations -----------------------------------------------------------------------------------------------


def _associations(run: _Run, stream: str) -> None:
    """Reconcile associations (their changes touch neither record's modified date): all of them every
    `full_reconcile_every`; else those of the records changed or with new activity in this run, plus the next
    `recent_checks_per_run` contacts active within `recent`, in turn, so an idle run costs a request or two and
    a change converges within len(recent) / recent_checks_per_run runs."""
    with transaction(run.engine) as conn:
        state = load_cursor(conn, stream) or {}
        full = cursors.due(state.get("reconciled_at"), run.started, run.options.full_reconcile_every)
        live = {
            "contacts": set(writes.live_ids(conn, contact_t)),
            "deals": set(writes.live_ids(conn, deal_t)),
        }
        # Contacts with new CRM activity in this run are the ones reps are working on now: re-checked every run.
        changed = {
            "contacts": (run.changed.get("contacts", set()) | run.contacts) & live["contacts"],
            "deals": run.changed.get("deals", set()) & live["deals"],
        }
        recent = sorted(writes.recently_active_contacts(conn, run.started - run.options.recent) & live["contacts"])
    after = int(state.get("recent_after") or 0)
    if full:
        # Archived records keep no associations of their own (see _archived): only live ones are read.
        from_ids = live
    else:
        turn, after = cursors.rolling_slice(recent, after=after, size=run.options.recent_checks_per_run)
        from_ids = {"contacts": changed["contacts"] | set(turn), "deals": changed["deals"]}
        log.info("pull.associations_in_turn", checked=len(turn), recent=len(recent), changed=len(changed["contacts"]))
    run.count(stream)  # reported even when no association was read
    for from_type, to_type in ASSOCIATION_PAIRS:
        ids = sorted(from_ids[from_type])
        for start in range(0, len(ids), associations.BATCH):
            chunk = ids[start : start + associations.BATCH]
            found = associations.read(run.client, from_type, to_type, chunk)
            with transaction(run.engine) as conn:
                changed_from, changed_to = writes.replace_associations(conn, from_type, to_type, chunk, found)
            _touch(run, from_type, changed_from)
            _touch(run, to_type, changed_to)
            run.page_done(stream, len(found))
    reconciled = cursors.iso(run.started) if full else state.get("reconciled_at")
    with transaction(run.engine) as conn:
        save_cursor(conn, stream, {**state, "reconciled_at": reconciled, "recent_after": after}, now=run.started)


def _touch(run: _Run, object_type: str, ids: set[int]) -> None:
    if object_type == "contacts":
        run.contacts |= ids
    elif object_type == "companies":
        run.companies |= ids


# -- time-windowed logs: email events, web events ---------------------------------------------------------------


def _email_events(run: _Run, stream: str) -> None:
    with transaction(run.engine) as conn:
        by_email = writes.contact_ids_by_email(conn)

    def fetch(window: cursors.LogWindow, position: Any) -> tuple[list[Activity], int, Any]:
        return email_events.page(run.client, window.since, window.until, position, by_email)

    _log_stream(run, stream, fetch)


def _web_events(run: _Run, stream: str) -> None:
    if not run.options.page_views:
        return
    with transaction(run.engine) as conn:
        state = load_cursor(conn, stream) or {}
    if state.get("unavailable") and not cursors.due(
        state.get("checked_at"), run.started, run.options.full_reconcile_every
    ):
        return

    def fetch(window: cursors.LogWindow, position: Any) -> tuple[list[Activity], int, Any]:
        return web_events.page(run.client, window.since, window.until, position)

    try:
        _log_stream(run, stream, fetch)
    except FatalHubSpotError as err:
        if isinstance(err, MissingScopes) or err.status not in (_HTTP_FORBIDDEN, _HTTP_NOT_FOUND):
            raise
        if not state.get("unavailable"):
            log.warning(
                "pull.page_views_unavailable",
                status=err.status,
                message="the events API is not available for this portal (it needs an Enterprise hub): "
                "scoring goes on without page views",
            )
        with transaction(run.engine) as conn:
            save_cursor(
                conn, stream, {**state, "unavailable": True, "checked_at": cursors.iso(run.started)}, now=run.started
            )


def _log_stream(
    run: _Run, stream: str, fetch: Callable[[cursors.LogWindow, Any], tuple[list[Activity], int, Any]]
) -> None:
    with transaction(run.engine) as conn:
        state = load_cursor(conn, stream)
    state = {k: v for k, v in (state or {}).items() if k not in {"unavailable", "checked_at"}}
    for activities, skipped, new_state in _pipelined(_log_pages(run, state, fetch)):
        _store_activity_page(run, stream, activities, skipped, new_state)


def _store_activity_page(
    run: _Run, stream: str, activities: list[Activity], skipped: int, new_state: cursors.State
) -> None:
    """A page of an activity stream and the cursor after it, in one transaction."""
    with transaction(run.engine) as conn:
        run.contacts |= writes.store_activities(conn, activities)
        save_cursor(conn, stream, new_state, now=run.started)
    run.count(stream).skipped += skipped
    run.page_done(stream, len(activities))


def _log_pages(
    run: _Run, state: cursors.State, fetch: Callable[[cursors.LogWindow, Any], tuple[list[Activity], int, Any]]
) -> Iterator[tuple[list[Activity], int, cursors.State]]:
    while True:
        window = cursors.plan_log(
            state, run_started=run.started, overlap=run.options.overlap, history_start=run.started - run.options.history
        )
        activities, skipped, position = fetch(window, window.position)
        state = cursors.next_log_cursor(state, window, position, run.started)
        yield activities, skipped, state
        if position is None and window.until >= run.started:
            return


# -- form submissions -------------------------------------------------------------------------------------------


def _form_submissions(run: _Run, stream: str) -> None:
    """Submissions per form, newest first, down to the window's start. Polled only when it can find something:
    on the first run, on a full reconciliation, on a backfill, or when the contacts stream saw a contact whose
    `recent_conversion_date` is inside the window (HubSpot sets it on every form submission)."""
    with transaction(run.engine) as conn:
        state = load_cursor(conn, stream) or {}
        by_email = writes.contact_ids_by_email(conn)
    refresh = cursors.due(state.get("forms_at"), run.started, run.options.full_reconcile_every)
    poll = refresh or state.get("poll") or state.get("window") is not None or run.saw_conversion
    if not poll:
        # Nothing can have been submitted since the last poll (no contact converted): the window is covered.
        with transaction(run.engine) as conn:
            save_cursor(conn, stream, {**state, "synced_to": cursors.iso(run.started)}, now=run.started)
        return
    if refresh or not isinstance(state.get("forms"), dict):
        state = {**state, "forms": forms.list_forms(run.client), "forms_at": cursors.iso(run.started)}
    while True:
        window = cursors.plan_log(
            state, run_started=run.started, overlap=run.options.overlap, history_start=run.started - run.options.history
        )
        state = _forms_window(run, stream, state, window, by_email)
        # A window left by an interrupted run ends before this run's start: read on up to it.
        if window.until >= run.started:
            return


def _forms_window(
    run: _Run, stream: str, state: dict[str, Any], window: cursors.LogWindow, by_email: Mapping[str, int]
) -> dict[str, Any]:
    names: dict[str, str] = state["forms"]
    form_ids = sorted(names)
    index = int(state.get("form_index") or 0) if state.get("window") else 0
    position = window.position
    done = {k: v for k, v in state.items() if k not in {"window", "form_index", "position", "poll"}} | {
        "synced_to": cursors.iso(min(window.until, run.started))
    }
    if index >= len(form_ids):
        with transaction(run.engine) as conn:
            save_cursor(conn, stream, done, now=run.started)
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
        new_state = done
        if index < len(form_ids):
            window_bounds = [cursors.iso(window.since), cursors.iso(window.until)]
            new_state = {**state, "window": window_bounds, "form_index": index, "position": position}
        _store_activity_page(run, stream, activities, skipped, new_state)
        state = new_state
    return state


# -- marketing event participations -----------------------------------------------------------------------------


def _marketing_events(run: _Run, stream: str) -> None:
    """Participations of the events whose counters changed since they were last read (none filter by time)."""
    with transaction(run.engine) as conn:
        state = load_cursor(conn, stream) or {}
    seen: dict[str, str] = dict(state.get("fingerprints") or {})
    if cursors.due(state.get("reconciled_at"), run.started, run.options.full_reconcile_every):
        seen = {}
        state = {**state, "reconciled_at": cursors.iso(run.started)}
    current = marketing_events.list_events(run.client)
    for event_id in sorted(current, key=lambda e: (len(e), e)):
        if seen.get(event_id) == current[event_id]:
            continue
        position = state.get("position") if state.get("event") == event_id else None
        while True:
            activities, skipped, position = marketing_events.participations_page(run.client, event_id, position)
            if position is None:
                seen[event_id] = current[event_id]
                new_state = {**state, "fingerprints": dict(seen), "event": None, "position": None}
            else:
                new_state = {**state, "fingerprints": dict(seen), "event": event_id, "position": position}
            _store_activity_page(run, stream, activities, skipped, new_state)
            state = new_state
            if position is None:
                break
    # Events that disappeared are forgotten, so a re-created id is read again.
    with transaction(run.engine) as conn:
        save_cursor(
            conn,
            stream,
            {**state, "fingerprints": {k: v for k, v in seen.items() if k in current}},
            now=run.started,
        )


_MAPPERS: Final[dict[str, Callable[[Any], Contact | Company | Deal | Skip]]] = {
    "contacts": contact_from_hubspot,
    "companies": company_from_hubspot,
    "deals": deal_from_hubspot,
}
_TABLES: Final = {"contacts": contact_t, "companies": company_t, "deals": deal_t}
_STREAM_FUNCTIONS: Final[dict[str, Callable[[_Run, str], None]]] = {
    "owners": _owners,
    **dict.fromkeys(CRM_STREAMS, _crm_stream),
    "associations": _associations,
    "email_events": _email_events,
    "form_submissions": _form_submissions,
    "marketing_events": _marketing_events,
    "web_events": _web_events,
}
