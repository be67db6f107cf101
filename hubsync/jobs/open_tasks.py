"""Where hubsync's sales tasks stand, the first half of a handoff (`jobs/handoff.py` is the second):

1. Settle intents (`reconcile_intents`). A task row in state "intent" is committed before a task is created, and
   turned "open" with HubSpot's id right after (`record_created`). An intent still there means a run stopped in
   between: hubsync looks at the contact's tasks in HubSpot; its open hubsync task, if there is one, is adopted,
   otherwise the intent is closed as "failed" and the contact is decided again.
2. Read the load (`read_open_tasks`, applied by `apply_open_tasks`). Open hubsync tasks (subject starting with the
   marker, status not COMPLETED) come from a HubSpot search; local "open" rows the search does not show (search lags
   behind writes) are read by id, and those completed or deleted in HubSpot become "done". Open hubsync tasks
   hubsync has no row for (a lost database) are adopted through their contact association, and "done" rows whose
   task a rep reopened are open again, so a contact never gets a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from hubsync.hubspot import tasks_api
from hubsync.hubspot.values import parse_id, parse_timestamp
from hubsync.render.task_text import MARKER
from hubsync.scoring.handoff import HandoffState, handed_over
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction
from hubsync.store.tasks import AdoptedTask

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient

log = structlog.get_logger(__name__)


def is_hubsync_open(properties: Mapping[str, Any]) -> bool:
    """An open task hubsync created: its subject carries the marker and it is not completed."""
    return tasks_api.is_open(properties, MARKER)


def find_open_task(client: HubSpotClient, contact_id: int) -> tuple[int, dict[str, Any]] | None:
    """hubsync's open task on a contact (task id, properties), or None."""
    return tasks_api.find_open_task(client, contact_id, MARKER)


def record_created(engine: Engine, row_id: int, task_id: int, *, created_at: datetime, adopted: bool = False) -> None:
    """Turn an intent into an open task, and start the contact's episode (scoring's `handed_over`): the step a crash
    right after the create would skip, and `reconcile_intents` makes up for."""
    episode = handed_over(HandoffState(), now=created_at)
    with transaction(engine) as conn:
        task_store.record_created(
            conn, row_id, task_id, created_at=created_at, armed=episode.armed, handed_over_at=created_at
        )
    log.info("push.task_recorded", row_id=row_id, task_id=task_id, adopted=adopted)


def record_failed(engine: Engine, row_id: int, error: str) -> None:
    with transaction(engine) as conn:
        task_store.record_failed(conn, row_id, error)


# -- 1. intents -----------------------------------------------------------------------------------------------


def reconcile_intents(client: HubSpotClient, engine: Engine, *, now: datetime) -> int:
    """Settle the intents a stopped run left behind; how many tasks were found and adopted."""
    with transaction(engine) as conn:
        pending = task_store.intents(conn)
        known = task_store.known_task_ids(conn)
    adopted = 0
    for row_id, contact_id in pending:
        found = find_open_task(client, contact_id)
        if found is not None and str(found[0]) not in known:
            created_at = parse_timestamp(found[1].get("hs_createdate")) or now
            record_created(engine, row_id, found[0], created_at=created_at, adopted=True)
            adopted += 1
            log.info("push.task_reconciled", contact_id=contact_id, task_id=found[0])
        else:
            # The run stopped between its intent and the create: nothing reached HubSpot, so nothing is kept (a row
            # marked failed would differ from a run that was never stopped); the log says what happened.
            with transaction(engine) as conn:
                task_store.drop_intent(conn, row_id)
            log.info("push.task_intent_dropped", contact_id=contact_id)
    return adopted


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


def read_open_tasks(client: HubSpotClient, engine: Engine, *, now: datetime) -> OpenTasks:
    """Step 2, read only: HubSpot's open hubsync tasks against the local rows."""
    in_hubspot = tasks_api.search_open_tasks(client, MARKER)
    with transaction(engine) as conn:
        local = task_store.live_tasks(conn)
    by_task = {
        int(r.hubspot_task_id): r
        for r in local
        if r.state == "open" and r.hubspot_task_id is not None and r.hubspot_task_id.isdigit()
    }
    unseen = [t for t in by_task if t not in in_hubspot]
    still_open = tasks_api.read_tasks(client, unseen) if unseen else {}
    done = tuple(by_task[t].id for t in unseen if not is_hubsync_open(still_open.get(t, {})))
    open_tasks = {**{t: p for t, p in still_open.items() if is_hubsync_open(p)}, **in_hubspot}
    contacts = frozenset(r.contact_id for r in local if r.id not in set(done))
    reopened: tuple[int, ...] = ()
    adopted: tuple[AdoptedTask, ...] = ()
    strangers = [t for t in in_hubspot if t not in by_task]
    if strangers:
        with transaction(engine) as conn:
            known = task_store.known_task_ids(conn)
            done_rows = task_store.done_tasks(conn, strangers)
        reopened, contacts = _reopen(done_rows, contacts)
        links = tasks_api.task_contacts(client, [t for t in strangers if str(t) not in known])
        adopted, contacts = _adopt(links, in_hubspot, contacts, now=now)
    return OpenTasks(_per_owner(open_tasks.values()), contacts, done, reopened, adopted)


def _per_owner(tasks: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for props in tasks:
        owner = parse_id(props.get("hubspot_owner_id"))
        if owner is not None:
            counts[owner] = counts.get(owner, 0) + 1
    return counts


def _reopen(done_rows: Sequence[tuple[int, int]], contacts: frozenset[int]) -> tuple[tuple[int, ...], frozenset[int]]:
    """The "done" rows to open again (their task is open in HubSpot), one per contact without an open task; and the
    contacts with an open task after that."""
    reopened = []
    claimed = set(contacts)
    for row_id, contact_id in done_rows:
        if contact_id in claimed:
            continue
        claimed.add(contact_id)
        reopened.append(row_id)
    return tuple(reopened), frozenset(claimed)


def _adopt(
    links: Mapping[int, Sequence[int]],
    in_hubspot: Mapping[int, Mapping[str, Any]],
    contacts: frozenset[int],
    *,
    now: datetime,
) -> tuple[tuple[AdoptedTask, ...], frozenset[int]]:
    """Rows for the open hubsync tasks without one, one per contact without an open task (the first contact a task
    is associated with); and the contacts with an open task after that."""
    adopted = []
    claimed = set(contacts)
    for task_id, contact_ids in links.items():
        props = in_hubspot[task_id]
        contact_id = contact_ids[0] if contact_ids else None
        if contact_id is None or contact_id in claimed:
            continue
        claimed.add(contact_id)
        created = parse_timestamp(props.get("hs_createdate")) or now
        adopted.append(
            AdoptedTask(
                contact_id=contact_id,
                owner_id=parse_id(props.get("hubspot_owner_id")),
                hubspot_task_id=task_id,
                subject=str(props.get("hs_task_subject") or ""),
                created_at=created,
                due_at=parse_timestamp(props.get("hs_timestamp")),
            )
        )
    return tuple(adopted), frozenset(claimed)


def apply_open_tasks(engine: Engine, open_tasks: OpenTasks) -> None:
    """Store what step 2 found: done, reopened and adopted rows, and the load per owner."""
    with transaction(engine) as conn:
        task_store.reopen(conn, open_tasks.reopened)
        task_store.mark_done(conn, open_tasks.done)
        task_store.adopt(conn, open_tasks.adopted)
        task_store.store_owner_load(conn, open_tasks.by_owner)
    for row_id in open_tasks.reopened:
        log.info("push.task_reopened", row_id=row_id)
    for row_id in open_tasks.done:
        log.info("push.task_done", row_id=row_id)
