"""Processing a batch of stored webhook events: read again what they name, store it, rescore, push, hand over.

The events only name records (`webhooks/plan.py` turns a batch into the ids to read, coalesced); what changed is
read with targeted calls through the same gateway, pacer and daily quota as the cycle, and stored through the
pull's own page handling (`jobs/pull/crm.py: store_page`), so a record read here is stored exactly as the cycle
would store it: content compared before it is rescored, job changes noted, merges applied, pending marks written
in the page's transaction. Then the pending work is rescored (each contact once per batch, however many events
named it) and pushed: the properties of those records alone, then the sales handoff as a cycle runs it, with the
open tasks as the database has them (the next cycle diffs every record and reads HubSpot's tasks again).

Form submissions have no per-contact endpoint. A contact whose `recent_conversion_date` is later than the newest
submission hubsync holds for it has submitted a form (compared with the submissions, not with the stored contact: a
cycle's pull may have stored the contact, and not yet its submissions, just before the batch); the form it names in
`recent_conversion_event_name` (every form, when that names none) is read newest first down to the submission, and
what is found is stored as the pull stores it (same activity ids: the cycle's own read later stores nothing twice).
The forms cursor is left alone: the cycle still reads every form's window, and stays the safety net for whatever a
webhook cannot show (page views and email events fire none).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import structlog
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.cursors import FormsCursor
from hubsync.hubspot.streams import associations, crm, forms
from hubsync.hubspot.values import parse_id, parse_timestamp
from hubsync.jobs.cycle import pull_options
from hubsync.jobs.pull.crm import object_spec, store_page
from hubsync.jobs.pull.run import ENGAGEMENT_STREAMS, Run
from hubsync.jobs.push import push
from hubsync.jobs.rescore import rescore
from hubsync.records import WebhookEvent
from hubsync.settings import Settings
from hubsync.store.activities import store_activities
from hubsync.store.associations import delete_associations_from, replace_associations
from hubsync.store.crm import contact_ids_by_email, mark_archived
from hubsync.store.cursors import load_cursor
from hubsync.store.db import transaction
from hubsync.store.pending import pending_work
from hubsync.store.reads import company_ids_of_contacts
from hubsync.store.webhook_events import latest_submissions
from hubsync.webhooks.plan import Reads, plan_reads

log = structlog.get_logger(__name__)

CONVERSION_DATE: Final = "recent_conversion_date"
CONVERSION_NAME: Final = "recent_conversion_event_name"
# A submission is read from a little before the contact's conversion date: HubSpot stamps the contact with the
# submission's time, and a rounded millisecond must not hide it.
_SUBMISSION_MARGIN: Final = timedelta(seconds=1)
# A conversion dated well before the events is old news (an imported contact): the cycle reads it, not a webhook.
_CONVERSION_RECENT: Final = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    events: int
    contacts_read: int = 0
    companies_read: int = 0
    forms_read: int = 0
    # Counted by the rescore as it scores, not planned: each contact once per batch.
    contacts_scored: int = 0
    companies_scored: int = 0
    tasks_created: int = 0
    api_calls: int = 0
    # Why HubSpot stopped the push for now (quota, a long Retry-After); the cycle pushes the rest.
    stopped: str | None = None


@dataclass(frozen=True, slots=True)
class Conversion:
    """A contact that submitted a form since hubsync last read it: when, and the form's name as HubSpot gave it."""

    contact_id: int
    at: datetime
    event_name: str | None


def process_events(
    settings: Settings,
    engine: Engine,
    client: HubSpotClient,
    events: Sequence[WebhookEvent],
    *,
    clock: Callable[[], datetime],
    stop: threading.Event | None = None,
    lock_wait: float = 0.0,
) -> WebhookResult:
    """Read, store, rescore and push what `events` name. Raises what the gateway raises (the caller keeps the
    events for a later try); each step commits its own work, so a retry repeats reads and writes nothing twice.
    `lock_wait`: how long the batch waited for the work lock (seconds), logged with the time of each step."""
    reads = plan_reads(events)
    calls_before = client.stats().total
    timer = _Timer()
    started = clock()
    # Milliseconds, as the pull keeps them (pending marks and archive times are stamped with it).
    run = Run(
        client, engine, pull_options(settings), started.replace(microsecond=started.microsecond // 1000 * 1000), None
    )
    recent = min((e.occurred_at for e in events), default=started) - _CONVERSION_RECENT
    conversions = _read_contacts(run, reads, recent=recent)
    _read_objects(run, "companies", reads.companies, reads.deleted_companies)
    _read_company_links(run, reads.contact_links)
    _read_engagements(run, reads.engagements)
    forms_read = _read_submissions(run, conversions)
    timer.lap("read")
    with engine.connect() as conn:
        work = pending_work(conn)
    # One scoring instant per batch, as per cycle.
    now = clock()
    scored = pushed = None
    if work.contacts or work.companies:
        scored = rescore(
            engine, settings.config.scoring, now=now, contact_ids=work.contacts, company_ids=work.companies, stop=stop
        )
        timer.lap("score")
    # What was rescored, and what the events named even when nothing changed: a batch processed again after a crash
    # between its rescore and its push finds nothing pending, and must still push and hand over.
    contacts = set(work.contacts) | reads.contacts | reads.contact_links | reads.engagements
    if contacts or work.companies or reads.companies:
        with engine.connect() as conn:
            companies = set(work.companies) | reads.companies | company_ids_of_contacts(conn, contacts)
        # Only these records are diffed (a diff of every record costs as much as the portal is large), and the open
        # tasks are taken from the database (searching HubSpot's costs a search per 200 of them, at 5 a second): the
        # next cycle diffs every record still pending a push and reads HubSpot's tasks again.
        pushed = push(
            client, engine, settings, now=now, local_tasks=True, only={"contacts": contacts, "companies": companies}
        )
        timer.lap("push")
    result = WebhookResult(
        events=len(events),
        contacts_read=len(reads.contacts),
        companies_read=len(reads.companies),
        forms_read=forms_read,
        contacts_scored=scored.contacts_scored if scored else 0,
        companies_scored=scored.companies_scored if scored else 0,
        tasks_created=pushed.tasks_created if pushed else 0,
        api_calls=client.stats().total - calls_before,
        stopped=pushed.stopped if pushed else None,
    )
    log.info(
        "webhooks.batch_processed",
        events=result.events,
        ignored=reads.ignored,
        contacts_read=result.contacts_read,
        companies_read=result.companies_read,
        forms_read=result.forms_read,
        contacts_scored=result.contacts_scored,
        companies_scored=result.companies_scored,
        tasks_created=result.tasks_created,
        api_calls=result.api_calls,
        lock_wait_ms=round(lock_wait * 1000),
        **timer.laps,
    )
    return result


class _Timer:
    """Milliseconds per step of a batch, for the log (where a slow batch spends its time)."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.laps: dict[str, int] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[f"{name}_ms"] = round((now - self._last) * 1000)
        self._last = now


# -- contacts and companies -------------------------------------------------------------------------------------


def _read_contacts(run: Run, reads: Reads, *, recent: datetime) -> list[Conversion]:
    """Read and store the contacts; which of them submitted a form that hubsync does not hold yet."""
    ids = sorted(reads.contacts)
    if not ids:
        return []
    with transaction(run.engine) as conn:
        held = latest_submissions(conn, ids)
    results = _read_objects(run, "contacts", ids, reads.deleted_contacts, extra=(CONVERSION_NAME,))
    # HubSpot stamps the contact with the submission's time, rounded: a submission that close is that one.
    before = {i: at + _SUBMISSION_MARGIN for i, at in held.items()}
    return list(conversions(results, before, recent=recent))


def _read_objects(
    run: Run,
    stream: str,
    ids: Collection[int],
    deleted: Collection[int],
    *,
    extra: Sequence[str] = (),
) -> Sequence[Mapping[str, Any]]:
    """Read records by id with the pull's properties (and `extra`, which are looked at, not stored) and store them
    as the pull does; those named by a deletion that HubSpot no longer has live are archived. Returns what was read."""
    if not ids:
        return []
    spec = object_spec(run, stream)
    wanted = sorted(ids)
    found = crm.read_live(
        run.client, spec.object_type, wanted, (*spec.properties, *extra), operation=f"webhook read {stream}"
    )
    stored = [_without(raw, extra) for raw in found]
    live = {i for raw in found if (i := parse_id(raw.get("id"))) is not None}
    gone = set(deleted) - live
    with transaction(run.engine) as conn:
        store_page(run, conn, spec, stored, None)
        if gone:
            # As the pull's deletions do: the record is archived, keeps no associations of its own, is rescored.
            mark_archived(conn, spec.object_type, gone, run.started)
            delete_associations_from(conn, spec.object_type, gone)
            run.touch(conn, spec.object_type, gone)
    return found


def _without(raw: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    if not names:
        return dict(raw)
    props = raw.get("properties")
    if not isinstance(props, Mapping):
        return dict(raw)
    return {**raw, "properties": {k: v for k, v in props.items() if k not in names}}


def conversions(
    results: Iterable[Mapping[str, Any]], before: Mapping[int, datetime | None], *, recent: datetime
) -> Iterable[Conversion]:
    """The contacts among `results` whose conversion date is later than `before` (per contact: what hubsync holds)
    and recent (pure)."""
    for raw in results:
        contact_id = parse_id(raw.get("id"))
        props = raw.get("properties")
        if contact_id is None or not isinstance(props, Mapping):
            continue
        at = parse_timestamp(props.get(CONVERSION_DATE))
        held = before.get(contact_id)
        if at is None or at < recent or (held is not None and at <= held):
            continue
        name = props.get(CONVERSION_NAME)
        yield Conversion(contact_id, at, name if isinstance(name, str) and name.strip() else None)


def _read_company_links(run: Run, contact_ids: Collection[int]) -> None:
    """The contacts' company associations, read again and replaced, as the pull's reconciliation does."""
    ids = sorted(contact_ids)
    for start in range(0, len(ids), associations.BATCH):
        chunk = ids[start : start + associations.BATCH]
        found = associations.read(run.client, "contacts", "companies", chunk)
        with transaction(run.engine) as conn:
            changed_from, changed_to = replace_associations(conn, "contacts", "companies", chunk, found)
            run.touch(conn, "contacts", changed_from)
            run.touch(conn, "companies", changed_to)


def _read_engagements(run: Run, contact_ids: Collection[int]) -> None:
    """The contacts' calls, emails, meetings, notes and tasks: their ids through the associations, the records by
    id, each engagement's contacts, stored as the pull stores an engagement page."""
    ids = sorted(contact_ids)
    if not ids:
        return
    for stream in ENGAGEMENT_STREAMS:
        spec = object_spec(run, stream)
        linked = associations.read(run.client, "contacts", spec.object_type, ids)
        engagement_ids = sorted({link.to_id for link in linked})
        if not engagement_ids:
            continue
        found = crm.read_live(
            run.client, spec.object_type, engagement_ids, spec.properties, operation=f"webhook read {stream}"
        )
        links = associations.contacts_of(run.client, spec.object_type, engagement_ids)
        with transaction(run.engine) as conn:
            store_page(run, conn, spec, found, links)


# -- form submissions -------------------------------------------------------------------------------------------


def forms_to_read(names: Mapping[str, str], event_name: str | None) -> list[str]:
    """The forms (guid → name) a conversion named: those whose name its event name contains, longest name first
    (HubSpot may prefix the page title); every form when it names none of them (pure)."""
    if event_name:
        folded = event_name.casefold()
        named = [guid for guid, name in names.items() if name and name.casefold() in folded]
        if named:
            longest = max(len(names[g]) for g in named)
            return sorted(g for g in named if len(names[g]) == longest)
    return sorted(names)


def _read_submissions(run: Run, found: Sequence[Conversion]) -> int:
    """The new submissions of the forms the conversions name, stored; how many form pages were read."""
    if not found:
        return 0
    with transaction(run.engine) as conn:
        names = FormsCursor.from_json(load_cursor(conn, "form_submissions")).forms
        by_email = contact_ids_by_email(conn)
    if not names:
        names = forms.list_forms(run.client)
    since: dict[str, datetime] = {}
    for conversion in found:
        for guid in forms_to_read(names, conversion.event_name):
            since[guid] = min(since.get(guid, conversion.at), conversion.at)
    pages = 0
    for guid, first in sorted(since.items()):
        position: Any = None
        while True:
            activities, _skipped, position = forms.submissions_page(
                run.client,
                form_id=guid,
                form_name=names.get(guid),
                since=first - _SUBMISSION_MARGIN,
                position=position,
                contact_id_by_email=by_email,
            )
            pages += 1
            with transaction(run.engine) as conn:
                run.touch(conn, "contacts", store_activities(conn, activities))
            if position is None:
                break
    return pages
