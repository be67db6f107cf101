"""CRM objects: owners (read whole), and contacts, companies, deals and engagements, read page by page since their
cursor (a listing on the first run, then windows of modified dates, or a listing again where that is faster:
hubspot/relist.py) and stored with the cursor after each page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy.engine import Connection

from hubsync.errors import MalformedAnswer
from hubsync.hubspot import cursors, relist
from hubsync.hubspot.activity_mapping import engagement_to_activities
from hubsync.hubspot.cursors import CrmCursor, DeletionsCursor
from hubsync.hubspot.mapping import company_from_hubspot, contact_from_hubspot, deal_from_hubspot
from hubsync.hubspot.streams import associations, crm, log_skips, owners
from hubsync.hubspot.streams.crm import property_chunks
from hubsync.hubspot.values import Skip, engagement_created_at, engagement_owner_id, parse_id, parse_timestamp
from hubsync.jobs.pull.company_inputs import contacts_of_changed_companies
from hubsync.jobs.pull.pipelined import Prefetch
from hubsync.jobs.pull.run import Run
from hubsync.records import Activity, ActivityKind, Company, Contact, Deal, EngagementType, ProfileField
from hubsync.store.activities import replace_engagement_activities, store_activities
from hubsync.store.crm import (
    apply_merges,
    archive_owners_except,
    compare_with_stored,
    held_count,
    store_compared,
    store_engagements,
    store_owners,
)
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import transaction

log = structlog.get_logger(__name__)

_MAPPERS: Final[dict[str, Callable[[Any], Contact | Company | Deal | Skip]]] = {
    "contacts": contact_from_hubspot,
    "companies": company_from_hubspot,
    "deals": deal_from_hubspot,
}


def map_record(object_type: str, raw: Any) -> Contact | Company | Deal | Skip:
    """A contact, company or deal as HubSpot sent it → its record."""
    return _MAPPERS[object_type](raw)


def pull_owners(run: Run, stream: str) -> None:
    """The active owners every run; the archived list (deactivated users, and owners of old records never seen
    active, whose names outputs show) on the first run and every `full_reconcile_every`. In between, an owner the
    active list no longer names is stored as archived, so a cycle with nothing new makes one request for owners."""
    key = cursors.deletions_key(stream)
    with transaction(run.engine) as conn:
        state = DeletionsCursor.from_json(load_cursor(conn, key))
    found, skipped = owners.read_list(run.client, archived=False)
    sweep = cursors.due(state.swept_at, run.started, run.options.full_reconcile_every)
    active = {owner.id for owner in found}
    if sweep:
        archived, skipped_archived = owners.read_list(run.client, archived=True)
        found, skipped = [*found, *archived], skipped + skipped_archived
    with transaction(run.engine) as conn:
        store_owners(conn, found)
        archive_owners_except(conn, active)
        if sweep:
            save_cursor(conn, key, DeletionsCursor(swept_at=run.started).to_json(), now=run.started)
    run.count(stream).skipped += skipped
    run.page_done(stream, len(found))


def object_spec(run: Run, stream: str) -> crm.ObjectSpec:
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
    cursor: CrmCursor
    total: int | None


def pull_changes(run: Run, spec: crm.ObjectSpec) -> datetime | None:
    """Every page of the stream since its cursor, each stored with the cursor after it. Returns what the deletions
    count is cut at: the start of the run's first window (also when it was listed instead, `relist`), the start of
    an interrupted relisting; None when the run listed a stream never read before."""
    with transaction(run.engine) as conn:
        cursor = CrmCursor.from_json(load_cursor(conn, spec.stream))
        # A window may be listed instead; what hubsync holds of the stream is what a listing would read.
        stored = held_count(conn, spec.object_type) if cursor.mode == "incremental" else 0
    first = cursors.plan(cursor, run_started=run.started, overlap=run.options.overlap)
    run.conversions_since = None
    if isinstance(first, cursors.Listing) and cursor.synced_to is not None and spec.object_type == "contacts":
        # An interrupted relisting: conversions are looked for since the stream was synced, as its window did.
        run.conversions_since = cursor.synced_to - run.options.overlap
    for page in run.fetched(Prefetch(_pages(run, spec, cursor, stored), stream=spec.stream, start=False)):
        with transaction(run.engine) as conn:
            stored = store_page(run, conn, spec, page.results, page.contact_links)
            save_cursor(conn, spec.stream, page.cursor.to_json(), now=run.started)
        run.page_done(spec.stream, stored, page.total)
    if isinstance(first, cursors.Window):
        return first.since
    return first.started if cursor.synced_to is not None else None


def _pages(run: Run, spec: crm.ObjectSpec, cursor: CrmCursor, stored: int) -> Iterator[_CrmPage]:
    """The pages of a CRM stream and the cursor after each; fetching needs no database, so it runs ahead.
    `stored`: how many records of the stream hubsync holds (a window may be listed instead)."""
    seen = 0
    listed: int | None = None
    rates = relist.Rates.of(run.client.settings)
    while True:
        step = cursors.plan(cursor, run_started=run.started, overlap=run.options.overlap)
        if isinstance(step, cursors.Listing):
            if step.after is None and listed is None and run.progress is not None and spec.engagement is None:
                # A listing has no total; a person watching the first sync gets one for its bar and ETA (one
                # search call per stream, made only when a progress bar shows). Engagements are counted as the
                # activities they make, one per contact: no total to compare with.
                listed = crm.count_created_before(run.client, spec, run.started)
            results, following = crm.list_page(run.client, spec, step.after)
            after = cursors.next_cursor(cursor, cursors.ListPage(following), run.started)
            contact_links, total = None, listed
        else:
            if cursor.window is None:
                cursor = cursors.start_window(cursor, step)
            if spec.object_type == "contacts" and run.conversions_since is None:
                run.conversions_since = step.since
            results, more, remaining = crm.search_page(run.client, spec, step.since, step.until, step.after_id)
            if (
                step.after_id == 0
                and more
                and relist.faster_to_list(
                    remaining,
                    stored,
                    chunks=len(property_chunks(spec.properties)),
                    engagement=spec.engagement is not None,
                    rates=rates,
                )
            ):
                # The page read is dropped (the listing reads it again) and nothing is saved yet: a run stopped
                # before the first list page is stored reads the same window again and decides the same.
                log.info("pull.relisting", stream=spec.stream, matching=remaining, stored=stored)
                listed = max(stored, remaining or 0)
                cursor = cursors.relisting(cursor, run.started)
                continue
            total = None if remaining is None else seen + remaining
            ids = [i for r in results if (i := parse_id(r.get("id"))) is not None]
            after = cursors.next_cursor(
                cursor, cursors.WindowPage(_keyset_position(spec, results, more), more), run.started
            )
            # Search results carry no associations: read the engagements' contacts separately.
            contact_links = (
                associations.contacts_of(run.client, spec.object_type, ids) if spec.engagement and ids else None
            )
        seen += len(results)
        yield _CrmPage(results, contact_links, after, total)
        cursor = after
        # Done once a window (or a listing) that reaches this run's start is closed; an older one (resumed from
        # an interrupted run) is followed by a window up to now.
        closed = cursor.window is None and cursor.mode == "incremental"
        reached = step.started if isinstance(step, cursors.Listing) else step.until
        if closed and reached >= run.started:
            return


def _keyset_position(spec: crm.ObjectSpec, results: list[dict[str, Any]], more: bool) -> int | None:
    """The highest id of a search page, where the next page starts. Ids are read as HubSpot sorted them, so an id
    hubsync rejects as a record (beyond 64 bits) still moves the page on; a full page without a single id could not,
    and would be asked for again forever: the stream fails instead."""
    positions = [int(text) for r in results if (text := str(r.get("id", "")).strip()).isdigit()]
    if more and not positions:
        raise MalformedAnswer(f"{spec.object_type} search: a page of {len(results)} records without one numeric id")
    return max(positions, default=None)


def store_page(
    run: Run,
    conn: Connection,
    spec: crm.ObjectSpec,
    results: list[dict[str, Any]],
    contact_links: Mapping[int, list[int]] | None,
) -> int:
    """A page of live records as HubSpot sent them → stored; returns how many were stored."""
    if spec.engagement is not None:
        return _store_engagements(
            run, conn, spec, engagement=spec.engagement, results=results, contact_links=contact_links
        )
    records: list[Contact | Company | Deal] = []
    skips: list[Skip] = []
    for raw in results:
        mapped = map_record(spec.object_type, raw)
        if isinstance(mapped, Skip):
            skips.append(mapped)
        else:
            records.append(mapped)
    run.count(spec.stream).skipped += log_skips(spec.stream, skips)
    # Compared before storing, in one read: a page fetched before a webhook batch stored a later version (or one from
    # a lagging search index) leaves that version alone (newer wins); of the rest, only real changes are rescored, not
    # records read again because hubsync itself wrote their scores (which moves their modified date). Every record
    # read still has its associations re-checked.
    compared = compare_with_stored(conn, records)
    records = [r for r in records if r.id not in compared.older]
    fresh = compared.changed
    contacts = [r for r in records if isinstance(r, Contact)]
    # Read before the page is stored: a change is the stored value against the one that arrives.
    changes = profile_changes(contacts, compared.profiles)
    inputs_changed = contacts_of_changed_companies(run, conn, [r for r in records if isinstance(r, Company)], fresh)
    store_compared(conn, records, compared)
    ids = {r.id for r in records}
    fresh |= store_activities(conn, changes)
    run.changed.setdefault(spec.stream, set()).update(ids)
    if spec.object_type == "contacts":
        run.touch(conn, "contacts", fresh | _contacts_stored(run, conn, [r for r in records if isinstance(r, Contact)]))
    elif spec.object_type == "companies":
        run.touch(conn, "companies", fresh)
        run.touch(conn, "contacts", inputs_changed)
    return len(records)


def _store_engagements(
    run: Run,
    conn: Connection,
    spec: crm.ObjectSpec,
    *,
    engagement: EngagementType,
    results: list[dict[str, Any]],
    contact_links: Mapping[int, list[int]] | None,
) -> int:
    """One activity per associated contact; the engagement's previous activities are replaced (its contacts may
    have changed)."""
    activities: list[Activity] = []
    skips: list[Skip] = []
    created: dict[int, datetime | None] = {}
    owners: dict[int, int | None] = {}
    for raw in results:
        engagement_id = parse_id(raw.get("id"))
        if engagement_id is None:
            skips.append(Skip(f"{engagement.value} without a usable id", str(raw.get("id"))))
            continue
        created[engagement_id] = engagement_created_at(raw)
        owners[engagement_id] = engagement_owner_id(raw)
        links = contact_links.get(engagement_id, []) if contact_links is not None else None
        for item in engagement_to_activities(raw, engagement_type=engagement, contact_ids=links):
            if isinstance(item, Skip):
                skips.append(item)
            else:
                activities.append(item)
    run.count(spec.stream).skipped += log_skips(spec.stream, skips)
    run.touch(conn, "contacts", replace_engagement_activities(conn, engagement, created, activities))
    store_engagements(conn, spec.object_type, created, owners=owners)
    return len(activities)


def profile_changes(contacts: Iterable[Contact], held: Mapping[int, tuple[str | None, int | None]]) -> list[Activity]:
    """A `profile_change` activity for each held contact that arrives with another job title or primary company,
    dated with its modified date. A first sighting is no change, nor is a value filled in or emptied: a job change
    needs an old and a new value."""
    found = []
    for contact in contacts:
        if contact.id not in held:
            continue
        old_title, old_company = held[contact.id]
        at = contact.updated_at or contact.created_at
        if at is None:
            continue
        title = (contact.jobtitle or "").strip()
        if (old_title or "").strip() and title and title.casefold() != (old_title or "").strip().casefold():
            found.append(_change(contact.id, ProfileField.JOBTITLE, f"{(old_title or '').strip()} → {title}", at))
        if old_company is not None and contact.company_id is not None and contact.company_id != old_company:
            found.append(
                _change(contact.id, ProfileField.COMPANY, f"company {old_company} → company {contact.company_id}", at)
            )
    return found


def _change(contact_id: int, field: ProfileField, text: str, at: datetime) -> Activity:
    # Keyed by contact, field and time: the same change read again is the same activity.
    key = f"{ActivityKind.PROFILE_CHANGE}:{contact_id}:{field}:{int(at.timestamp() * 1000)}"
    return Activity(key, contact_id, ActivityKind.PROFILE_CHANGE, at, event_type=field.value, title=text)


def _contacts_stored(run: Run, conn: Connection, contacts: list[Contact]) -> set[int]:
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
    return apply_merges(conn, merges)
