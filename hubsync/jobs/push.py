"""Write-back: the hubsync property values of every scored contact and company, diffed against what HubSpot last
confirmed (`pushed_values`), sent in batches of up to 100 — then the sales tasks (`jobs/handoff.py`).

Plan, then apply. The plan is the changes (`planned_changes`): the score tables read in id order, page by page, so
a million contacts never sit in memory at once, each page diffed against the stored pushed values. Applying a page
sends what changed and stores what HubSpot confirmed after every batch, so a stop (quota, crash) loses at most the
batch in flight. A dry run only sums the plan up.

Which rows are diffed: an incremental cycle diffs only the score rows still `push_pending` (every score write sets
it; it is cleared once a page is applied, for each record HubSpot holds: nothing changed, or the change landed), so
its cost follows what was rescored, not the portal. A record whose write failed, or was cut by a stop or a kill
before it was stored as pushed, stays pending and is diffed again by the next run. Every row is diffed by the daily
full rescore's cycle, by `hubsync push`, by a webhook batch's records (`only`), and whenever the push configuration
writes otherwise than the stored pushed values were written (`written_with`: property names, lifecycle advance).

A record that HubSpot refuses (207 partial failure, or a 400 for a batch, which is split until the bad record is
alone) is logged with its error and returned in the result, and is not stored as pushed: the next push sends it
again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import structlog

from hubsync.batching import batches
from hubsync.errors import FatalHubSpotError, SetupRequired, StoppedForNow
from hubsync.hubspot.batch_update import BATCH_MAX, missing_property, update_batch
from hubsync.hubspot.properties import COMPANIES, CONTACTS
from hubsync.jobs.handoff import handoff, preview_handoff
from hubsync.jobs.properties import LIFECYCLE, company_values, contact_values, lifecycle_advance, property_names
from hubsync.store import pushed as pushed_store
from hubsync.store.db import transaction

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.jobs.handoff import TaskResult
    from hubsync.settings import PushConfig, Settings

log = structlog.get_logger(__name__)

# Score rows read per database round trip: large enough to fill many batches, small enough to stay flat in memory.
READ_PAGE: Final = 5_000
YIELDING_PAGE: Final = 1_000
SAMPLE_SIZE: Final = 5


# -- the plan -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordChange:
    object_type: str
    object_id: int
    # Only what changed: what is sent.
    changes: Mapping[str, str]
    # Everything hubsync wrote to the record once this change is confirmed: what is stored as pushed.
    values: Mapping[str, str]


def diff(new: Mapping[str, str], old: Mapping[str, str] | None) -> dict[str, str]:
    """The properties whose value differs from the last one HubSpot confirmed (all of them for a new record)."""
    base = old or {}
    return {name: value for name, value in new.items() if base.get(name) != value}


def record_changes(
    object_type: str, rows: Sequence[Mapping[Any, Any]], old: Mapping[int, Mapping[str, str]], config: PushConfig
) -> list[RecordChange]:
    """The changes of one page of score rows against the values last pushed (`old`, by record id)."""
    names = property_names(config, object_type)
    out = []
    for row in rows:
        if object_type == CONTACTS:
            object_id = int(row["contact_id"])
            values = contact_values(row, names)
            if config.advance_lifecycle_stage:
                stage = lifecycle_advance(str(row["status"]), row["lifecyclestage"])
                if stage is not None:
                    values[LIFECYCLE] = stage
        else:
            object_id = int(row["company_id"])
            values = company_values(row, names)
        changes = diff(values, old.get(object_id))
        if changes:
            out.append(RecordChange(object_type, object_id, changes, {**old.get(object_id, {}), **values}))
    return out


def written_with(config: PushConfig) -> str:
    """What decides the values push writes besides the scores: the property names and the lifecycle stage rule. The
    stored pushed values say what HubSpot holds only under what they were written with."""
    properties = {t: {str(p): name for p, name in property_names(config, t).items()} for t in (CONTACTS, COMPANIES)}
    return json.dumps({"properties": properties, "advance_lifecycle_stage": config.advance_lifecycle_stage})


@dataclass(frozen=True, slots=True)
class PlannedPage:
    """One page of the plan: its changes, and every record it diffed (id → the `as_of` of the score row read)."""

    object_type: str
    changes: list[RecordChange]
    diffed: Mapping[int, datetime]


_READERS: Final = {
    CONTACTS: (pushed_store.contact_scores, "contact_id"),
    COMPANIES: (pushed_store.company_scores, "company_id"),
}


def planned_changes(
    engine: Engine,
    config: PushConfig,
    *,
    page: int = READ_PAGE,
    only: Mapping[str, Collection[int]] | None = None,
    pending: bool = False,
) -> Iterator[PlannedPage]:
    """The changes of every scored contact, then every company, one page of score rows at a time; with `only`
    (object type → ids), of those records alone; with `pending`, of the rows still pending alone."""
    for object_type in (CONTACTS, COMPANIES):
        read, key = _READERS[object_type]
        selections = [None] if only is None else batches(sorted(only.get(object_type, ())), page)
        for ids in selections:
            after = 0
            while True:
                with transaction(engine) as conn:
                    rows = read(conn, after=after, limit=page, ids=ids, pending=pending)
                    if not rows:
                        break
                    found = [int(r[key]) for r in rows]
                    old = pushed_store.pushed_values(conn, object_type, found)
                diffed = {object_id: row["as_of"] for object_id, row in zip(found, rows, strict=True)}
                yield PlannedPage(object_type, record_changes(object_type, rows, old, config), diffed)
                if len(rows) < page:
                    break
                after = found[-1]


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What the plan changes: records, per property, and the first few changes; and how many records it diffed."""

    records_changed: int = 0
    properties_changed: Mapping[str, int] = field(default_factory=dict)
    sample: tuple[RecordChange, ...] = ()
    records_diffed: int = 0

    def add(self, page: PlannedPage) -> PlanSummary:
        changes = page.changes
        counts = Counter(self.properties_changed)
        for change in changes:
            counts.update(change.changes.keys())
        room = max(0, SAMPLE_SIZE - len(self.sample))
        return PlanSummary(
            self.records_changed + len(changes),
            dict(counts),
            (*self.sample, *changes[:room]),
            self.records_diffed + len(page.diffed),
        )


# -- applying it ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushFailure:
    object_type: str
    object_id: int
    error: str


@dataclass(frozen=True, slots=True)
class Sent:
    """What sending some changes did."""

    records_pushed: int = 0
    updates_sent: int = 0
    failures: tuple[PushFailure, ...] = ()

    def __add__(self, other: Sent) -> Sent:
        return Sent(
            self.records_pushed + other.records_pushed,
            self.updates_sent + other.updates_sent,
            (*self.failures, *other.failures),
        )


def _require_properties(error: str, batch: Sequence[RecordChange]) -> None:
    """A hubsync property that does not exist fails every record alike: stop with one message, not thousands."""
    name = missing_property(error)
    if name is not None and any(name in c.changes for c in batch):
        raise SetupRequired(
            f"the property {name} does not exist on {batch[0].object_type} in this portal: run "
            "`hubsync setup` once to create hubsync's properties, then sync again",
            status=400,
            category="PROPERTY_DOESNT_EXIST",
        )


def send_changes(client: HubSpotClient, engine: Engine, batch: Sequence[RecordChange], *, now: datetime) -> Sent:
    """Send one batch, store what landed. A 400 for the whole batch (real HubSpot refuses a batch that holds one
    invalid value) is split in halves until the bad records stand alone, so the valid ones still land."""
    object_type = batch[0].object_type
    try:
        failed = update_batch(client, object_type, {c.object_id: c.changes for c in batch})
    except FatalHubSpotError as err:
        if err.status != 400:  # noqa: PLR2004 -- HTTP 400: the request (some record in it) is invalid
            raise
        _require_properties(str(err), batch)
        if len(batch) > 1:
            half = len(batch) // 2
            first = send_changes(client, engine, batch[:half], now=now)
            return Sent(updates_sent=1) + first + send_changes(client, engine, batch[half:], now=now)
        failed = {batch[0].object_id: str(err)}
    else:
        for error in set(failed.values()):
            _require_properties(error, batch)
    landed = [c for c in batch if c.object_id not in failed]
    with transaction(engine) as conn:
        pushed_store.record_pushed(conn, object_type, {c.object_id: c.values for c in landed}, now=now)
    log.info("push.batch_sent", object_type=object_type, inputs=len(batch), landed=len(landed), failed=len(failed))
    for object_id, error in failed.items():
        log.warning("push.record_failed", object_type=object_type, object_id=object_id, error=error)
    failures = tuple(PushFailure(object_type, object_id, error) for object_id, error in failed.items())
    return Sent(records_pushed=len(landed), updates_sent=1, failures=failures)


def push_properties(
    client: HubSpotClient,
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    only: Mapping[str, Collection[int]] | None = None,
    incremental: bool = False,
    between_pages: Callable[[], None] | None = None,
) -> tuple[PlanSummary, Sent]:
    """Diff every scored contact and company (or `only` those; or, `incremental`, those still pending, unless the
    push configuration changed since the stored values were written) against what was last pushed, and send the
    changes page by page. `between_pages` is called after each page is sent, before the next is read and diffed
    (where a cycle lets a webhook batch in: what the batch pushes is then diffed as pushed)."""
    config = written_with(settings.config.push)
    pending = False
    if only is None and incremental:
        with transaction(engine) as conn:
            pending = pushed_store.written_with(conn) == config
    summary, sent = PlanSummary(), Sent()
    # Smaller pages when a batch may come in between: it waits for one page at most.
    page = READ_PAGE if between_pages is None else YIELDING_PAGE
    for planned in planned_changes(engine, settings.config.push, page=page, only=only, pending=pending):
        summary = summary.add(planned)
        page_sent = Sent()
        for batch in batches(planned.changes, BATCH_MAX):
            page_sent += send_changes(client, engine, batch, now=now)
        # After the page's values are stored: a kill in between leaves them pending, diffed (and found equal) again.
        failed = {f.object_id for f in page_sent.failures}
        with transaction(engine) as conn:
            pushed_store.settle(conn, planned.object_type, {i: a for i, a in planned.diffed.items() if i not in failed})
        sent += page_sent
        if between_pages is not None:
            between_pages()
    if only is None and not pending:
        with transaction(engine) as conn:
            pushed_store.record_written_with(conn, config, now=now)
    return summary, sent


def preview_properties(engine: Engine, settings: Settings) -> PlanSummary:
    """The dry run: what push would change, nothing sent."""
    summary = PlanSummary()
    for planned in planned_changes(engine, settings.config.push):
        summary = summary.add(planned)
    return summary


# -- the step -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushResult:
    dry_run: bool
    records_changed: int
    records_pushed: int
    updates_sent: int
    properties_changed: Mapping[str, int]
    failures: tuple[PushFailure, ...]
    sample: tuple[RecordChange, ...]
    tasks: TaskResult | None
    # Why HubSpot stopped it for now (the daily quota or hubsync's reserve of it, a long Retry-After): the rest is
    # pushed next run.
    stopped: str | None = None
    # Score rows read and diffed: every one, or (an incremental cycle) those still pending.
    records_diffed: int = 0

    @property
    def tasks_created(self) -> int:
        return self.tasks.created if self.tasks else 0

    @property
    def effective_threshold(self) -> int | None:
        return self.tasks.effective_threshold if self.tasks else None

    @property
    def free_capacity(self) -> int | None:
        return self.tasks.free_capacity if self.tasks else None


def push(
    client: HubSpotClient,
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    dry_run: bool = False,
    tasks: bool = True,
    local_tasks: bool = False,
    only: Mapping[str, Collection[int]] | None = None,
    incremental: bool = False,
    between_pages: Callable[[], None] | None = None,
) -> PushResult:
    """The write-back step of a cycle: properties, then sales tasks. `now` is the cycle's instant (due dates). A dry
    run reads HubSpot and the database and writes nothing. `local_tasks`: the handoff takes where the tasks stand
    from the database instead of searching HubSpot's (a webhook batch; every cycle reads HubSpot's). `only` (object
    type → ids): diff and write those records' properties alone (what a webhook batch rescored). `incremental`: diff
    only the score rows still pending (a cycle without a full rescore; see the module's docstring). `between_pages`:
    see `push_properties`; the handoff after the properties is one unit."""
    stopped = None
    summary, sent = PlanSummary(), Sent()
    task_result = None
    try:
        if dry_run:
            summary = preview_properties(engine, settings)
            task_result = preview_handoff(client, engine, settings, now=now) if tasks else None
        else:
            summary, sent = push_properties(
                client, engine, settings, now=now, only=only, incremental=incremental, between_pages=between_pages
            )
            task_result = handoff(client, engine, settings, now=now, local=local_tasks) if tasks else None
    except StoppedForNow as err:
        # What was confirmed is stored batch by batch; the next run picks up from there.
        stopped = str(err)
        log.warning("push.stopped", reason=type(err).__name__, message=stopped)
    log.info(
        "push.done",
        dry_run=dry_run,
        records_diffed=summary.records_diffed,
        records_changed=summary.records_changed,
        records_pushed=sent.records_pushed,
        updates_sent=sent.updates_sent,
        failures=len(sent.failures),
        tasks_created=task_result.created if task_result else 0,
        effective_threshold=task_result.effective_threshold if task_result else None,
        free_capacity=task_result.free_capacity if task_result else None,
    )
    return PushResult(
        dry_run=dry_run,
        records_changed=summary.records_changed,
        records_pushed=sent.records_pushed,
        updates_sent=sent.updates_sent,
        properties_changed=dict(summary.properties_changed),
        failures=sent.failures,
        sample=summary.sample,
        tasks=task_result,
        stopped=stopped,
        records_diffed=summary.records_diffed,
    )
