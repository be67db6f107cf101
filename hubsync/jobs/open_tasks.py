"""Where hubsync's sales tasks stand, the first half of a handoff (`jobs/handoff.py` is the second):

1. Settle intents (`reconcile_intents`). A task row in state "intent" is committed before a task is created, and
   turned "open" with HubSpot's id right after (`record_created`). An intent still there means a run stopped in
   between: hubsync looks at the tasks of the intents' contacts and companies in HubSpot, through their
   associations, in batches; an open hubsync task found there is adopted, any other intent is dropped and its
   contact or company decided again.
2. Read the load (`read_open_tasks`, applied by `apply_open_tasks`). HubSpot's open hubsync tasks (subject starting
   with the marker, status not COMPLETED) are kept in `open_task` with their owners, which the load per owner is
   counted from. A read takes from a HubSpot search only the hubsync tasks modified since the last read began (less
   the overlap: search lags behind writes), whatever their status, so its cost follows what changed, not how many
   tasks are open: a completed task and a reopened one move their modified date. Every `full_reconcile_days`, and
   when there is no last read (the first run, a lost database), it searches every open hubsync task instead and
   replaces `open_task`: a deleted task moves no modified date and is seen there (so is a subject that lost the
   marker's word). Local "open" rows that neither this search nor `open_task` shows open (tasks created since the
   last read, which search may not show yet) are read by id, and those completed or deleted in HubSpot become
   "done". Open hubsync tasks hubsync has no row for (a lost database) are adopted through their contact
   association (an account task through its company's), and "done" rows whose task a rep reopened are open again,
   so a contact (or a company) never gets a second one. What the read found and its cursor (`tasks.open`) are
   committed together, after the read, so a run killed before that reads the same changes again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from hubsync.hubspot import tasks_api
from hubsync.hubspot.cursors import OPEN_TASKS_KEY, OpenTasksCursor
from hubsync.hubspot.values import parse_id, parse_timestamp
from hubsync.render.task_text import MARKER
from hubsync.scoring.handoff import HandoffState, handed_over
from hubsync.store import tasks as task_store
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import transaction
from hubsync.store.tasks import AdoptedTask, ClosedTask, LocalTask

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.settings import SyncConfig

log = structlog.get_logger(__name__)


def is_hubsync_open(properties: Mapping[str, Any]) -> bool:
    """An open task hubsync created: its subject carries the marker and it is not completed."""
    return tasks_api.is_open(properties, MARKER)


def find_open_tasks(
    client: HubSpotClient, targets: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], tuple[int, dict[str, Any]]]:
    """hubsync's open task (task id, properties) on each of these contacts and companies ("contacts", id) /
    ("companies", id) that has one; a few requests for all of them."""
    by_type: dict[str, list[int]] = {}
    for object_type, object_id in targets:
        by_type.setdefault(object_type, []).append(object_id)
    return {
        (object_type, object_id): found
        for object_type, ids in sorted(by_type.items())
        for object_id, found in tasks_api.open_tasks_on(client, object_type, sorted(set(ids)), MARKER).items()
    }


def record_created(engine: Engine, created: Sequence[tuple[int, int, datetime]], *, adopted: bool = False) -> None:
    """Turn intents into open tasks, (row id, HubSpot task id, created at) each, in one transaction, and start each
    contact's or account's episode (scoring's `handed_over`): the step a crash right after the create would skip,
    and `reconcile_intents` makes up for."""
    if not created:
        return
    with transaction(engine) as conn:
        for row_id, task_id, created_at in created:
            episode = handed_over(HandoffState(), now=created_at)
            task_store.record_created(
                conn, row_id, task_id, created_at=created_at, armed=episode.armed, handed_over_at=created_at
            )
    for row_id, task_id, _ in created:
        log.info("push.task_recorded", row_id=row_id, task_id=task_id, adopted=adopted)


def record_failed(engine: Engine, failed: Mapping[int, str]) -> None:
    """Intents HubSpot refused, with its error (row id → error), in one transaction."""
    if not failed:
        return
    with transaction(engine) as conn:
        for row_id, error in failed.items():
            task_store.record_failed(conn, row_id, error)


# -- 1. intents -----------------------------------------------------------------------------------------------


def reconcile_intents(client: HubSpotClient, engine: Engine, *, now: datetime) -> int:
    """Settle the intents a stopped run left behind; how many tasks were found and adopted."""
    with transaction(engine) as conn:
        pending = task_store.intents(conn)
        known = task_store.known_task_ids(conn)
    if not pending:
        return 0
    found = find_open_tasks(client, (row.target for row in pending))
    adopted = []
    for row in pending:
        hit = found.get(row.target)
        if hit is not None and str(hit[0]) not in known:
            adopted.append((row.id, hit[0], parse_timestamp(hit[1].get("hs_createdate")) or now))
            log.info("push.task_reconciled", on=row.target[0], object_id=row.target[1], task_id=hit[0])
        else:
            # The run stopped between its intent and the create: nothing reached HubSpot, so nothing is kept (a row
            # marked failed would differ from a run that was never stopped); the log says what happened.
            with transaction(engine) as conn:
                task_store.drop_intent(conn, row.id)
            log.info("push.task_intent_dropped", on=row.target[0], object_id=row.target[1])
    record_created(engine, adopted, adopted=True)
    return len(adopted)


# -- 2. the load ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenTasks:
    """Open hubsync tasks as HubSpot has them, and what that changes in the local rows."""

    # Open hubsync tasks per owner id.
    by_owner: Mapping[int, int]
    # Contacts with an open hubsync task (or an intent, left only in a dry run): never a second one.
    contacts: frozenset[int]
    # Rows whose task was completed or deleted in HubSpot: "done".
    done: tuple[int, ...] = ()
    # "done" rows whose task a rep reopened in HubSpot: open again.
    reopened: tuple[int, ...] = ()
    # Open hubsync tasks in HubSpot without a row (a lost or restored database): recorded, not created.
    adopted: tuple[AdoptedTask, ...] = ()
    # How the `done` rows' tasks ended (completed when, or deleted), for the outcomes.
    closed: tuple[ClosedTask, ...] = ()
    # Companies with an open account task (or an intent, left only in a dry run): never a second one.
    companies: frozenset[int] = frozenset()
    # What the read saw of HubSpot's open hubsync tasks, for `open_task`: open ones (task id → owner id), and ones
    # no longer open; `full`: the open ones are all there are.
    seen_open: Mapping[int, int | None] = field(default_factory=dict)
    seen_closed: tuple[int, ...] = ()
    full: bool = False
    # The read's cursor, committed with what it found; None: nothing was read from HubSpot.
    cursor: OpenTasksCursor | None = None


def read_open_tasks(client: HubSpotClient, engine: Engine, sync: SyncConfig, *, now: datetime) -> OpenTasks:
    """Step 2, read only: HubSpot's hubsync tasks changed since the last read (all open ones on a full read) against
    the local rows and `open_task`."""
    with transaction(engine) as conn:
        cursor = OpenTasksCursor.from_json(load_cursor(conn, OPEN_TASKS_KEY))
        believed = task_store.open_task_owners(conn)
        local = task_store.live_tasks(conn)
    since = cursor.changed_since(
        now, overlap=timedelta(minutes=sync.overlap_minutes), full_every=timedelta(days=sync.full_reconcile_days)
    )
    full = since is None
    if since is None:
        found = tasks_api.search_open_tasks(client, MARKER)
        believed = {}
    else:
        found = tasks_api.search_changed_tasks(client, MARKER, since)
    log.info("push.open_tasks_read", full=full, found=len(found))
    in_hubspot = {t: p for t, p in found.items() if is_hubsync_open(p)}
    by_task = {
        int(r.hubspot_task_id): r
        for r in local
        if r.state == "open" and r.hubspot_task_id is not None and r.hubspot_task_id.isdigit()
    }
    unseen = [t for t in by_task if t not in found and t not in believed]
    read = {**(tasks_api.read_tasks(client, unseen) if unseen else {}), **found}
    # Read and not open: completed, deleted (absent from the read by id), or no longer marked.
    seen_closed = {t for t in [*read, *unseen] if not is_hubsync_open(read.get(t, {}))}
    gone = [t for t in by_task if t in seen_closed]
    done = tuple(by_task[t].id for t in gone)
    closed = tuple(_closed(by_task[t].id, read.get(t)) for t in gone)
    seen_open = {t: parse_id(p.get("hubspot_owner_id")) for t, p in read.items() if t not in seen_closed}
    owners = {**{t: o for t, o in believed.items() if t not in seen_closed}, **seen_open}
    # What has an open task: ("contacts", id), or ("companies", id) for an account task.
    claimed = {r.target for r in local if r.id not in set(done)}
    reopened: tuple[int, ...] = ()
    adopted: tuple[AdoptedTask, ...] = ()
    strangers = [t for t in in_hubspot if t not in by_task]
    if strangers:
        with transaction(engine) as conn:
            known = task_store.known_task_ids(conn)
            done_rows = task_store.done_tasks(conn, strangers)
        reopened = _reopen(done_rows, claimed)
        unknown = [t for t in strangers if str(t) not in known]
        on_contacts = tasks_api.task_links(client, unknown, tasks_api.CONTACTS) if unknown else {}
        # An account task is on a company only.
        rest = [t for t in unknown if not on_contacts.get(t)]
        on_companies = tasks_api.task_links(client, rest, tasks_api.COMPANIES) if rest else {}
        adopted = _adopt({**on_companies, **on_contacts}, set(on_companies), in_hubspot, claimed, now=now)
    return OpenTasks(
        dict(Counter(o for o in owners.values() if o is not None)),
        frozenset(i for kind, i in claimed if kind == tasks_api.CONTACTS),
        done,
        reopened,
        adopted,
        closed,
        frozenset(i for kind, i in claimed if kind == tasks_api.COMPANIES),
        seen_open,
        tuple(sorted(seen_closed)),
        full,
        cursor.after_read(now, full=full),
    )


def local_open_tasks(engine: Engine) -> OpenTasks:
    """Where hubsync's tasks stand as the local rows have them: the load the last handoff stored, with what it
    created since, and the open rows. A webhook batch uses this between cycles, which read HubSpot's own
    (`read_open_tasks`): a task a rep closed in the meantime still counts as open until the next cycle, which only
    ever holds a second task back."""
    with transaction(engine) as conn:
        local = task_store.live_tasks(conn)
        load = task_store.owner_load(conn)
    claimed = {r.target for r in local}
    return OpenTasks(
        load,
        frozenset(i for kind, i in claimed if kind == tasks_api.CONTACTS),
        companies=frozenset(i for kind, i in claimed if kind == tasks_api.COMPANIES),
    )


def _closed(row_id: int, properties: Mapping[str, Any] | None) -> ClosedTask:
    """A task gone from the open ones: deleted (HubSpot no longer has it), completed (with HubSpot's completion
    date), or neither (its subject lost the marker)."""
    if properties is None:
        return ClosedTask(row_id, "deleted", None)
    if properties.get("hs_task_status") == tasks_api.COMPLETED:
        return ClosedTask(row_id, "completed", parse_timestamp(properties.get("hs_task_completion_date")))
    return ClosedTask(row_id, None, None)


def _reopen(done_rows: Sequence[LocalTask], claimed: set[tuple[str, int]]) -> tuple[int, ...]:
    """The "done" rows to open again (their task is open in HubSpot), one per contact or company without an open
    task; `claimed` gains what they are on."""
    reopened = []
    for row in done_rows:
        if row.target in claimed:
            continue
        claimed.add(row.target)
        reopened.append(row.id)
    return tuple(reopened)


def _adopt(
    links: Mapping[int, Sequence[int]],
    on_companies: Collection[int],
    in_hubspot: Mapping[int, Mapping[str, Any]],
    claimed: set[tuple[str, int]],
    *,
    now: datetime,
) -> tuple[AdoptedTask, ...]:
    """Rows for the open hubsync tasks without one, one per contact (or, for the tasks `on_companies`, per company)
    without an open task, by the first record a task is associated with; `claimed` gains what they are on."""
    adopted = []
    for task_id, linked in links.items():
        props = in_hubspot[task_id]
        kind = tasks_api.COMPANIES if task_id in on_companies else tasks_api.CONTACTS
        if not linked or (kind, linked[0]) in claimed:
            continue
        claimed.add((kind, linked[0]))
        adopted.append(
            AdoptedTask(
                contact_id=linked[0] if kind == tasks_api.CONTACTS else None,
                company_id=linked[0] if kind == tasks_api.COMPANIES else None,
                owner_id=parse_id(props.get("hubspot_owner_id")),
                hubspot_task_id=task_id,
                subject=str(props.get("hs_task_subject") or ""),
                created_at=parse_timestamp(props.get("hs_createdate")) or now,
                due_at=parse_timestamp(props.get("hs_timestamp")),
            )
        )
    return tuple(adopted)


def apply_open_tasks(engine: Engine, open_tasks: OpenTasks) -> None:
    """Store what step 2 found: done, reopened and adopted rows, and the load per owner."""
    with transaction(engine) as conn:
        task_store.reopen(conn, open_tasks.reopened)
        task_store.mark_done(conn, open_tasks.done)
        task_store.record_closed(conn, open_tasks.closed)
        task_store.adopt(conn, open_tasks.adopted)
        task_store.store_owner_load(conn, open_tasks.by_owner)
        cursor = open_tasks.cursor
        if cursor is not None and cursor.read_at is not None:
            task_store.store_open_tasks(conn, open_tasks.seen_open, open_tasks.seen_closed, replace=open_tasks.full)
            save_cursor(conn, OPEN_TASKS_KEY, cursor.to_json(), now=cursor.read_at)
    for row_id in open_tasks.reopened:
        log.info("push.task_reopened", row_id=row_id)
    for row_id in open_tasks.done:
        log.info("push.task_done", row_id=row_id)
