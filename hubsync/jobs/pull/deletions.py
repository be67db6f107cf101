"""Changes no modified date shows: archives, deletions for good, restores.

Archiving moves no modified date, so search never shows it; the archived list does, at a request per 100 records
(HubSpot keeps them 90 days), so it is read only when needed: on the first run, every `full_reconcile_every`, and
when HubSpot counts fewer live records created before the cutoff than hubsync holds. (The cutoff is the start of
the run's window, so records created while the run goes cannot hide a deletion.) If the counts still disagree
after that, the ids are compared: deletions for good are in no list, and a restore need not move the modified date.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.engine import Connection

from hubsync.hubspot import cursors
from hubsync.hubspot.cursors import DeletionsCursor
from hubsync.hubspot.streams import associations, crm, log_skips
from hubsync.hubspot.values import Skip, engagement_created_at, parse_id, parse_timestamp
from hubsync.jobs.pull.crm import map_record, store_page
from hubsync.jobs.pull.run import Run
from hubsync.records import Company, Contact, Deal
from hubsync.store.activities import delete_engagement_activities
from hubsync.store.associations import delete_associations_from
from hubsync.store.crm import already_archived, live_created_before, mark_archived, store_engagements, store_objects
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import transaction
from hubsync.store.reads import contact_ids_of_companies

log = structlog.get_logger(__name__)


def reconcile_deletions(run: Run, spec: crm.ObjectSpec, cutoff: datetime | None) -> None:
    """After a CRM stream's changes were read: its archives, deletions for good and restores, when any can be
    suspected (see the module's docstring). `cutoff` None (the run listed everything) compares no counts."""
    key = cursors.deletions_key(spec.stream)
    with transaction(run.engine) as conn:
        state = DeletionsCursor.from_json(load_cursor(conn, key))
    if cutoff is None:
        remote, held = None, set()
    else:
        remote, held = crm.count_created_before(run.client, spec, cutoff), _live_held(run, spec, cutoff)
    suspected = remote is not None and len(held) > remote
    if suspected:
        log.info("pull.deletions_suspected", stream=spec.stream, hubspot=remote, hubsync=len(held))
    if suspected or cursors.due(state.swept_at, run.started, run.options.full_reconcile_every):
        _archived(run, spec)
        with transaction(run.engine) as conn:
            save_cursor(conn, key, DeletionsCursor(swept_at=run.started).to_json(), now=run.started)
        if cutoff is not None:
            held = _live_held(run, spec, cutoff)
    if cutoff is not None and remote is not None and len(held) != remote:
        _compare_ids(run, spec, cutoff, held)


def _live_held(run: Run, spec: crm.ObjectSpec, cutoff: datetime) -> set[int]:
    """The ids of the stream's records hubsync holds live, created before `cutoff`."""
    with transaction(run.engine) as conn:
        return live_created_before(conn, spec.object_type, cutoff)


def _compare_ids(run: Run, spec: crm.ObjectSpec, cutoff: datetime, held: set[int]) -> None:
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
    links = associations.contacts_of(run.client, spec.object_type, found_ids) if spec.engagement and found else None
    with transaction(run.engine) as conn:
        mark_archived(conn, spec.object_type, gone, run.started)
        _forget(run, conn, spec, gone)
        if found:
            stored = store_page(run, conn, spec, found, links)
    if found:
        run.page_done(spec.stream, stored)


def _archived(run: Run, spec: crm.ObjectSpec) -> None:
    """Every page of the archived list: its records are stored as archived, and those newly gone are forgotten."""
    after: str | None = None
    counts = run.count(spec.stream)
    while True:
        results, after = crm.list_page(run.client, spec, after, archived=True)
        when: dict[int, datetime] = {}
        records: list[Contact | Company | Deal] = []  # contacts, companies, deals: stored whole
        created: dict[int, datetime | None] = {}  # engagements: registered by id
        skips: list[Skip] = []
        for raw in results:
            if spec.engagement is None:
                mapped = map_record(spec.object_type, raw)
                if isinstance(mapped, Skip):
                    skips.append(mapped)
                    continue
                records.append(mapped)
                record_id = mapped.id
            else:
                engagement_id = parse_id(raw.get("id"))
                if engagement_id is None:
                    skips.append(Skip(f"archived {spec.object_type} without a usable id", str(raw.get("id"))))
                    continue
                created[engagement_id] = engagement_created_at(raw)
                record_id = engagement_id
            when[record_id] = parse_timestamp(raw.get("archivedAt")) or run.started
        counts.skipped += log_skips(spec.stream, skips)
        with transaction(run.engine) as conn:
            new = set(when) - already_archived(conn, spec.object_type, when)
            if spec.engagement is None:
                store_objects(conn, records, archived_at=when)
            else:
                store_engagements(conn, spec.object_type, created, archived_at=when)
            _forget(run, conn, spec, new)
        if after is None:
            return


def _forget(run: Run, conn: Connection, spec: crm.ObjectSpec, ids: set[int]) -> None:
    """After records were marked archived: an engagement's activities go; a record keeps no associations of its
    own (they are no longer reconciled). Whose scores change is noted for the rescore."""
    if spec.engagement is not None:
        run.touch(conn, "contacts", delete_engagement_activities(conn, spec.engagement, ids))
    else:
        delete_associations_from(conn, spec.object_type, ids)
        run.touch(conn, spec.object_type, ids)
        if spec.object_type == "companies":
            # Their contacts are scored without them from now on.
            run.touch(conn, "contacts", contact_ids_of_companies(conn, ids))
    run.count(spec.stream).deleted += len(ids)
