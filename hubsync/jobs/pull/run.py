"""One pull: its streams, its options, what it counts and touches as it goes, and what it reports at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import structlog
from sqlalchemy.engine import Connection, Engine

from hubsync.errors import StoppedForNow
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.streams import crm
from hubsync.jobs.pull.pipelined import Prefetch
from hubsync.jobs.work_lock import WorkLock
from hubsync.records import EngagementType
from hubsync.scoring.model import ScoringModel
from hubsync.settings import SyncConfig
from hubsync.store.pending import Scored, mark_pending

log = structlog.get_logger(__name__)

ENGAGEMENT_STREAMS: Final = tuple(f"engagement_{crm.ENGAGEMENT_OBJECTS[t]}" for t in EngagementType)
CRM_STREAMS: Final = ("companies", "contacts", "deals", *ENGAGEMENT_STREAMS)
LOG_STREAMS: Final = ("email_events", "form_submissions", "web_events")
# The order of a run: later streams use what earlier ones stored (e-mail addresses, changed ids).
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

# Streams read whole (owners) or re-read every run whether anything changed (associations): what they store is
# re-checked, not news.
RECHECKED_STREAMS: Final = ("associations", "owners")

_Page = TypeVar("_Page")

Progress = Callable[[str, int, int | None], None]


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
    # What a contact's scores read from its company (scoring.contact.company_inputs): a changed company has its
    # contacts rescored only when that changed. None: whenever the company changed.
    scoring: ScoringModel | None = None

    @classmethod
    def from_config(
        cls,
        sync: SyncConfig,
        *,
        contact_properties: Iterable[str] = (),
        company_properties: Iterable[str] = (),
        streams: Iterable[str] | None = None,
        scoring: ScoringModel | None = None,
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
            scoring=scoring,
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
    activity, merges, deletions, association changes; the contacts of a company whose inputs to their scores
    changed); the companies of touched contacts are not among them, the rescore aggregates those again anyway.
    `stopped` is set when HubSpot stopped the run for now (the daily quota, a Retry-After beyond the cap; every
    stored page's cursor is saved: the next run resumes)."""

    counts: Mapping[str, StreamCounts]
    touched_contacts: frozenset[int]
    touched_companies: frozenset[int]
    api_calls: int
    started_at: datetime
    stopped: StoppedForNow | None = None
    # Deals new or changed in this run: their contacts' outcomes (won, lost) may have changed.
    changed_deals: frozenset[int] = frozenset()

    @property
    def stored(self) -> int:
        return sum(c.stored for c in self.counts.values())

    @property
    def rechecked_by_stream(self) -> dict[str, int]:
        """What RECHECKED_STREAMS stored (read again, changed or not), per stream that ran."""
        return {s: self.counts[s].stored for s in RECHECKED_STREAMS if s in self.counts}

    @property
    def rechecked(self) -> int:
        return sum(self.rechecked_by_stream.values())

    @property
    def records(self) -> int:
        """Records and activities pulled, without the re-checks: what a run log calls "pulled"."""
        return self.stored - self.rechecked


@dataclass
class Run:
    """What the stream handlers of one pull share: its collaborators, and what it has counted and touched."""

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
    # Set while the contacts stream runs: a contact converted inside its window means a form was submitted.
    conversions_since: datetime | None = None
    saw_conversion: bool = False
    # The service's work lock when a cycle of `hubsync run` pulls: webhook batches get in between pages.
    work: WorkLock | None = None
    # Streams whose fetching started before their turn to store (jobs/pull/__init__.py): their pages, in order, for
    # their storing to take.
    ahead: dict[str, Prefetch[Any]] = field(default_factory=dict)
    # Set from the associations on: while the stream being stored waits for its next page, a group of pages another
    # stream fetched ahead is stored (returns whether there was one). Storing then keeps up with fetching instead of
    # leaving the store-bound streams' pages to the end, when nothing is left to fetch meanwhile.
    meanwhile: Callable[[Prefetch[Any]], bool] | None = None

    def count(self, stream: str) -> StreamCounts:
        return self.counts.setdefault(stream, StreamCounts())

    def page_done(self, stream: str, stored: int, total: int | None = None) -> None:
        counts = self.count(stream)
        counts.pages += 1
        counts.stored += stored
        log.info("pull.page_stored", stream=stream, rows=stored)
        if self.progress is not None:
            self.progress(stream, stored, total)
        if self.work is not None:
            self.work.between_units()

    def fetched(self, pages: Iterator[_Page]) -> Iterator[_Page]:
        """`pages`, read ahead by a fetching thread, with the work lock let go while the next one is awaited: a
        webhook batch may store a newer version of a record meanwhile, which the page's older one leaves alone
        (`store_page`: newer wins)."""
        try:
            while True:
                if self.meanwhile is not None and isinstance(pages, Prefetch):
                    while pages.waiting() and self.meanwhile(pages):
                        pass
                if self.work is None:
                    page = next(pages, None)
                else:
                    with self.work.released():
                        page = next(pages, None)
                if page is None:
                    return
                yield page
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def touch(self, conn: Connection, object_type: str, ids: set[int]) -> None:
        """Note records whose scores may change: contacts and companies are rescored, other types are not.

        Noted in the store too, in `conn`'s transaction (the page's), so the rescore owes them even if this run dies
        before it gets there."""
        kind: Scored
        if object_type == "contacts":
            self.contacts |= ids
            kind = "contacts"
        elif object_type == "companies":
            self.companies |= ids
            kind = "companies"
        else:
            return
        if ids:
            mark_pending(conn, kind, ids, now=self.started)
