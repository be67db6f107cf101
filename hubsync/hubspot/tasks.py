"""Sales tasks at handoff (scoring.md §5): who is handed over, to whom, and how a task is never created twice.

Each cycle (`sync_tasks`):

1. Reconcile intents. A `task` row in state "intent" is written (and committed) before a task is created, and
   turned "open" with HubSpot's id right after. An intent still there means a run stopped in between: hubsync
   looks at the contact's tasks in HubSpot; its open hubsync task, if there is one, is adopted, otherwise the intent
   is closed as "failed" and the contact is decided again below.
2. Read the load. Open hubsync tasks (subject starting with `[hubsync]`, status not COMPLETED) come from a
   HubSpot search; local "open" rows the search does not show (search lags behind writes) are read by id, and
   those completed or deleted in HubSpot become "done". Open hubsync tasks hubsync has no row for (a lost
   database) are adopted through their contact association, so a contact never gets a second one.
3. Decide. Scoring's `rearm` / `handoff_candidate` / `free_capacity` / `select_handoffs` (the seller factor) on the
   stored scores.
4. Create. Owner routing (contact owner, company owner, the configured round-robin list), subject with segment
   and score, body with the reason and the dated history, due after the SLA, associated to the contact with the
   association type id HubSpot lists for tasks → contacts. The create is sent without automatic retry (a timeout
   may hide a task HubSpot did create): on a retriable failure hubsync looks for the task first and only then
   tries again.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
import structlog
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects.tasks import (
    AssociationSpec,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)

from hubsync.errors import FatalHubSpotError, HubSpotError, RetriableHubSpotError
from hubsync.hubspot.mapping import parse_id, parse_timestamp
from hubsync.hubspot.streams import crm
from hubsync.jobs.rescore import stored_contact_score
from hubsync.records import Contact, Owner
from hubsync.scoring import (
    ContactScore,
    HandoffCandidate,
    HandoffState,
    LeadStatus,
    explain_contact,
    free_capacity,
    handed_over,
    handoff_candidate,
    history_lines,
    rearm,
    select_handoffs,
)
from hubsync.store.db import transaction
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id, owner_from_row
from hubsync.store.tables import (
    contact_score_t,
    contact_t,
    owner_t,
    task_t,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.scoring import ScoringModel
    from hubsync.settings import Settings, TasksConfig

log = structlog.get_logger(__name__)

MARKER: Final = "[hubsync]"
COMPLETED: Final = "COMPLETED"
# Search pages (HubSpot allows 200 per page) and association reads (1,000 ids).
SEARCH_PAGE: Final = 200
SEARCH_RESULTS_MAX: Final = 10_000
ASSOCIATION_BATCH: Final = 1000
# Attempts at one create when HubSpot's answer is lost; each retry is preceded by a look for the task.
CREATE_ATTEMPTS: Final = 3
# Lines of dated history in a task body; older ones are summarised (HubSpot's UI shows the start of long notes).
BODY_HISTORY_LINES: Final = 40
TASK_PROPERTIES: Final = ("hs_task_subject", "hs_task_status", "hubspot_owner_id", "hs_timestamp", "hs_createdate")


# -- pure -------------------------------------------------------------------------------------------------------


def is_hubsync_open(properties: Mapping[str, Any]) -> bool:
    """An open task hubsync created: its subject carries the marker and it is not completed."""
    subject = str(properties.get("hs_task_subject") or "")
    return subject.startswith(MARKER) and properties.get("hs_task_status") != COMPLETED


def task_subject(score: ContactScore, name: str) -> str:
    """What the rep sees in the task list: the marker (how hubsync finds its tasks), segment and score."""
    return f"{MARKER} {score.segment} lead, engagement {score.engagement}: {name} ({score.status.value})"


def task_body(score: ContactScore, history: Sequence[str], *, triggers: Sequence[str]) -> str:
    """The reason and the dated point history, as the rich text HubSpot shows in a task's notes."""
    lines = list(history)
    if len(lines) > BODY_HISTORY_LINES:
        cut = len(lines) - BODY_HISTORY_LINES
        lines = [f"({cut} earlier lines left out; `hubsync explain` shows all)", *lines[cut:]]
    text = [
        f"Why now: {score.reason}",
        (
            f"Segment {score.segment}, engagement {score.engagement}, profile {score.profile}, "
            f"fit {score.fit_light.value}, tier {score.tier.value}; handed over for: {', '.join(triggers)}."
        ),
        "",
        "History:",
        *lines,
        "",
        "Created by hubsync. hubsync creates no further task for this contact while this one is open.",
    ]
    return "<br>\n".join(html.escape(line) for line in text)


def hubspot_instant(at: datetime) -> str:
    """A UTC ISO 8601 instant with milliseconds, the form HubSpot's datetime properties use."""
    utc = at.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def route_owner(
    routing: Sequence[str],
    *,
    contact_owner: int | None,
    company_owner: int | None,
    round_robin: Sequence[int],
    active: Iterable[int],
    load: Mapping[int, int],
) -> int | None:
    """The owner who gets the task: the first route in `routing` that names an active owner. Round robin takes the
    configured owner with the fewest open hubsync tasks (config order on a tie), so consecutive tasks rotate over
    the list without any state of its own."""
    live = set(active)
    for route in routing:
        if route == "contact_owner" and contact_owner in live:
            return contact_owner
        if route == "company_owner" and company_owner in live:
            return company_owner
        if route == "round_robin":
            choices = [o for o in round_robin if o in live]
            if choices:
                return min(choices, key=lambda o: (load.get(o, 0), choices.index(o)))
    return None


# -- results ----------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TaskResult:
    dry_run: bool = False
    created: int = 0
    # Found in HubSpot after an interrupted run, or open there without a local row: recorded, not created.
    adopted: int = 0
    completed: int = 0
    failed: int = 0
    # Selected, but no owner could be found (no contact or company owner, empty round-robin list).
    unrouted: int = 0
    candidates: int = 0
    selected: int = 0
    effective_threshold: int | None = None
    free_capacity: int | None = None
    open_by_owner: dict[int, int] = field(default_factory=dict)
    # In a dry run: (contact id, owner id, subject) of the tasks that would be created.
    planned: list[tuple[int, int | None, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would create" if self.dry_run else "created"
        out = [
            (
                f"tasks {verb}: {len(self.planned) if self.dry_run else self.created}; candidates {self.candidates}, "
                f"selected {self.selected}, effective threshold {self.effective_threshold}, free capacity "
                f"{self.free_capacity}; adopted {self.adopted}, completed {self.completed}, failed {self.failed}, "
                f"without owner {self.unrouted}"
            )
        ]
        out.extend(f"  contact {c} -> owner {o}: {s}" for c, o, s in self.planned[:20])
        return out


# -- HubSpot reads ---------------------------------------------------------------------------------------------


def association_type_id(client: HubSpotClient) -> int:
    """HubSpot's type id for an unlabeled task → contact association, from the v4 labels endpoint."""
    api = client.api("crm.associations.v4.schema.definitions_api")
    answer = client.call(api.get_all, "tasks", "contacts", operation="push.task_association_labels")
    specs = list(getattr(answer, "results", None) or [])
    for spec in specs:
        if spec.category == "HUBSPOT_DEFINED" and not spec.label:
            return int(spec.type_id)
    if specs:
        return int(specs[0].type_id)
    raise FatalHubSpotError("HubSpot lists no association type from tasks to contacts")


def open_hubsync_tasks(client: HubSpotClient) -> dict[int, dict[str, Any]]:
    """Open hubsync tasks in HubSpot (by task id: their properties), from the tasks search."""
    api = client.api("crm.objects.tasks.search_api")
    found: dict[int, dict[str, Any]] = {}
    after: str | None = None
    while True:
        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[
                        Filter(property_name="hs_task_subject", operator="CONTAINS_TOKEN", value="hubsync"),
                        Filter(property_name="hs_task_status", operator="NEQ", value=COMPLETED),
                    ]
                )
            ],
            sorts=["hs_object_id"],
            properties=list(TASK_PROPERTIES),
            limit=SEARCH_PAGE,
            after=after,
        )
        page = client.call(api.do_search, request, kind="search", operation="push.tasks_search")
        for task in page.results or []:
            props = dict(task.properties or {})
            if is_hubsync_open(props):
                found[int(task.id)] = props
        following = page.paging.next.after if page.paging and page.paging.next else None
        if not following:
            return found
        if int(following) >= SEARCH_RESULTS_MAX:
            # Paging past HubSpot's 10,000 results per query is refused; that many open hubsync tasks means the
            # capacity settings are far off, and the local "open" rows still count what hubsync created.
            log.warning("push.tasks_search_capped", found=len(found))
            return found
        after = str(following)


def read_tasks(client: HubSpotClient, task_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Properties of the given tasks by id; tasks HubSpot does not know (deleted) are absent."""
    found = crm.read_live(client, "tasks", task_ids, TASK_PROPERTIES, operation="push.tasks_read")
    return {i: dict(task.get("properties") or {}) for task in found if (i := parse_id(task.get("id"))) is not None}


def task_contacts(client: HubSpotClient, task_ids: Sequence[int]) -> dict[int, list[int]]:
    """The contacts each task is associated with (tasks without any are absent)."""
    api = client.api("crm.associations.v4.batch_api")
    out: dict[int, list[int]] = {}
    for start in range(0, len(task_ids), ASSOCIATION_BATCH):
        chunk = task_ids[start : start + ASSOCIATION_BATCH]
        body = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=str(i)) for i in chunk]
        )
        answer = client.call(api.get_page, "tasks", "contacts", body, operation="push.task_contacts")
        for row in answer.results or []:
            out[int(row._from.id)] = [int(to.to_object_id) for to in row.to or []]  # noqa: SLF001 -- the SDK's name for "from"
    return out


def find_open_task(client: HubSpotClient, contact_id: int) -> tuple[int, dict[str, Any]] | None:
    """hubsync's open task on a contact, read through the contact's task associations (not search: it lags)."""
    api = client.api("crm.associations.v4.basic_api")
    ids: list[int] = []
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": 500}
        if after:
            kwargs["after"] = after
        page = client.call(api.get_page, "contacts", str(contact_id), "tasks", operation="push.contact_tasks", **kwargs)
        ids.extend(int(row.to_object_id) for row in page.results or [])
        following = page.paging.next.after if page.paging and page.paging.next else None
        if not following:
            break
        after = str(following)
    tasks = read_tasks(client, ids)
    mine = sorted((i, p) for i, p in tasks.items() if is_hubsync_open(p))
    return mine[-1] if mine else None


# -- the database side -----------------------------------------------------------------------------------------


def _record_created(engine: Engine, row_id: int, task_id: int, *, created_at: datetime, adopted: bool = False) -> None:
    """Turn an intent into an open task, and disarm the contact (scoring's `handed_over`): the step a crash right
    after the create would skip, and `reconcile_intents` makes up for."""
    with transaction(engine) as conn:
        contact_id = conn.execute(
            sa.update(task_t)
            .where(task_t.c.id == row_id)
            .values(state="open", hubspot_task_id=str(task_id), created_at=created_at, error=None)
            .returning(task_t.c.contact_id)
        ).scalar_one()
        conn.execute(
            sa.update(contact_score_t)
            .where(contact_score_t.c.contact_id == contact_id)
            .values(handoff_armed=handed_over().armed)
        )
    log.info("push.task_recorded", row_id=row_id, task_id=task_id, adopted=adopted)


def _fail(engine: Engine, row_id: int, error: str) -> None:
    with transaction(engine) as conn:
        conn.execute(sa.update(task_t).where(task_t.c.id == row_id).values(state="failed", error=error[:2000]))


def _known_task_ids(conn: Connection) -> set[str]:
    return {
        str(r)
        for r in conn.execute(sa.select(task_t.c.hubspot_task_id).where(task_t.c.hubspot_task_id.isnot(None))).scalars()
    }


def _candidate_rows(conn: Connection, model: ScoringModel) -> list[Mapping[Any, Any]]:
    """Scored contacts that might trigger a handoff; `handoff_candidate` decides, this only narrows the read."""
    handoff = model.handoff
    triggers = [
        contact_score_t.c.engagement >= handoff.capacity.floor,
        contact_score_t.c.status.in_([s.value for s in handoff.statuses]),
    ]
    if handoff.segments:
        triggers.append(contact_score_t.c.segment.in_(list(handoff.segments)))
    if handoff.surge:
        triggers.append(contact_score_t.c.surge.is_(True))
    query = (
        sa.select(contact_score_t)
        .select_from(contact_score_t.outerjoin(contact_t, contact_t.c.id == contact_score_t.c.contact_id))
        .where(sa.or_(*triggers), contact_t.c.archived_at.is_(None))
    )
    return list(conn.execute(query).mappings())


# -- the cycle ---------------------------------------------------------------------------------------------------


def reconcile_intents(client: HubSpotClient, engine: Engine, result: TaskResult, *, now: datetime) -> None:
    """Settle intents a stopped run left behind (see the module docstring, step 1)."""
    with transaction(engine) as conn:
        intents = list(conn.execute(sa.select(task_t.c.id, task_t.c.contact_id).where(task_t.c.state == "intent")))
        known = _known_task_ids(conn)
    for row_id, contact_id in intents:
        found = find_open_task(client, int(contact_id))
        if found is not None and str(found[0]) not in known:
            created_at = parse_timestamp(found[1].get("hs_createdate")) or now
            _record_created(engine, row_id, found[0], created_at=created_at, adopted=True)
            result.adopted += 1
            log.info("push.task_reconciled", contact_id=contact_id, task_id=found[0])
        else:
            _fail(engine, row_id, "the run stopped before HubSpot created the task; decided again")
            log.info("push.task_intent_dropped", contact_id=contact_id)


def refresh_open_tasks(
    client: HubSpotClient, engine: Engine, result: TaskResult, *, now: datetime, dry_run: bool
) -> tuple[dict[int, int], set[int]]:
    """Open hubsync tasks per owner, and the contacts that have one (step 2). Completed / deleted → "done"."""
    in_hubspot = open_hubsync_tasks(client)
    with transaction(engine) as conn:
        local = list(
            conn.execute(
                sa.select(task_t.c.id, task_t.c.contact_id, task_t.c.state, task_t.c.hubspot_task_id).where(
                    task_t.c.state.in_(("open", "intent"))
                )
            )
        )
    # Intents are left only in a dry run (a real run reconciled them): their contacts count as having a task.
    by_task = {int(r.hubspot_task_id): r for r in local if r.state == "open" and str(r.hubspot_task_id).isdigit()}
    unseen = [t for t in by_task if t not in in_hubspot]
    still_open = read_tasks(client, unseen) if unseen else {}
    done = [by_task[t].id for t in unseen if not is_hubsync_open(still_open.get(t, {}))]
    open_tasks = {**{t: p for t, p in still_open.items() if is_hubsync_open(p)}, **in_hubspot}
    contacts_with_open = {int(r.contact_id) for r in local if r.id not in set(done)}

    strangers = [t for t in in_hubspot if t not in by_task]
    adopt_rows = (
        _strangers(client, engine, strangers, in_hubspot, contacts_with_open, now=now, dry_run=dry_run)
        if strangers
        else []
    )
    counts: dict[int, int] = {}
    for props in open_tasks.values():
        owner = parse_id(props.get("hubspot_owner_id"))
        if owner is not None:
            counts[owner] = counts.get(owner, 0) + 1
    result.completed += len(done)
    result.adopted += len(adopt_rows)
    if not dry_run:
        with transaction(engine) as conn:
            if done:
                conn.execute(sa.update(task_t).where(task_t.c.id.in_(done)).values(state="done"))
            if adopt_rows:
                conn.execute(sa.insert(task_t), adopt_rows)
            store_owner_load(conn, counts)
    for row_id in done:
        log.info("push.task_done", row_id=row_id)
    return counts, contacts_with_open


def store_owner_load(conn: Connection, counts: Mapping[int, int]) -> None:
    """Open hubsync tasks per owner into `owner.open_tasks`, for `status` and the report (set-based: a reset, then
    one executemany update)."""
    conn.execute(sa.update(owner_t).values(open_tasks=0))
    if counts:
        conn.execute(
            sa.update(owner_t).where(owner_t.c.id == sa.bindparam("oid")).values(open_tasks=sa.bindparam("n")),
            [{"oid": o, "n": n} for o, n in counts.items()],
        )


def _strangers(
    client: HubSpotClient,
    engine: Engine,
    task_ids: Sequence[int],
    in_hubspot: Mapping[int, Mapping[str, Any]],
    contacts_with_open: set[int],
    *,
    now: datetime,
    dry_run: bool,
) -> list[dict[str, Any]]:
    """Rows for open hubsync tasks in HubSpot that have no local row (a lost or restored database): adopting them
    keeps the one-open-task-per-contact rule. Adds their contacts to `contacts_with_open`."""
    with transaction(engine) as conn:
        known = _known_task_ids(conn)
        # A task the rep reopened in HubSpot after hubsync saw it completed: open again, and it blocks a second one.
        done_rows = conn.execute(
            sa.select(task_t.c.id, task_t.c.contact_id).where(
                task_t.c.hubspot_task_id.in_([str(t) for t in task_ids]), task_t.c.state == "done"
            )
        )
        for row_id, contact_id in list(done_rows):
            if int(contact_id) in contacts_with_open:
                continue
            contacts_with_open.add(int(contact_id))
            if not dry_run:
                conn.execute(sa.update(task_t).where(task_t.c.id == row_id).values(state="open"))
            log.info("push.task_reopened", row_id=row_id)
    links = task_contacts(client, [t for t in task_ids if str(t) not in known])
    rows = []
    for task_id, contact_ids in links.items():
        props = in_hubspot[task_id]
        contact_id = contact_ids[0] if contact_ids else None
        if contact_id is None or contact_id in contacts_with_open:
            continue
        contacts_with_open.add(contact_id)
        created = parse_timestamp(props.get("hs_createdate")) or now
        rows.append(
            {
                "contact_id": contact_id,
                "owner_id": parse_id(props.get("hubspot_owner_id")),
                "state": "open",
                "hubspot_task_id": str(task_id),
                "subject": str(props.get("hs_task_subject") or ""),
                "intent_at": created,
                "created_at": created,
                "due_at": parse_timestamp(props.get("hs_timestamp")),
            }
        )
    return rows


def decide(
    engine: Engine, model: ScoringModel, counts: Mapping[int, int], contacts_with_open: set[int], result: TaskResult
) -> tuple[tuple[HandoffCandidate, ...], dict[int, Mapping[Any, Any]], list[Owner]]:
    """Step 3: the selected candidates in queue order, their score rows, and the active owners."""
    with transaction(engine) as conn:
        rows = {int(r["contact_id"]): r for r in _candidate_rows(conn, model)}
        owners = [owner_from_row(r) for r in conn.execute(sa.select(owner_t))]
    candidates = []
    for contact_id, row in rows.items():
        score = stored_contact_score(row)
        # Rescoring keeps `handoff_armed` (rearmed on a fall to nurture); a handoff clears it (`_record_created`).
        state = rearm(
            HandoffState(open_task=contact_id in contacts_with_open, armed=row["handoff_armed"]), score.status
        )
        candidate = handoff_candidate(score, state, model)
        if candidate is not None:
            candidates.append(candidate)
    free = free_capacity(owners, counts, model)
    decision = select_handoffs(candidates, free, model)
    result.candidates = len(candidates)
    result.selected = len(decision.selected)
    result.effective_threshold = decision.effective_threshold
    result.free_capacity = decision.free_capacity
    log.info(
        "push.handoff_decided",
        candidates=len(candidates),
        selected=len(decision.selected),
        effective_threshold=decision.effective_threshold,
        free_capacity=decision.free_capacity,
    )
    return decision.selected, rows, [o for o in owners if not o.archived]


@dataclass(frozen=True, slots=True)
class PlannedTask:
    contact_id: int
    owner_id: int
    subject: str
    body: str
    due_at: datetime


def plan_tasks(
    engine: Engine,
    settings: Settings,
    *,
    selected: Sequence[HandoffCandidate],
    rows: Mapping[int, Mapping[Any, Any]],
    owners: Sequence[Owner],
    counts: Mapping[int, int],
    result: TaskResult,
    now: datetime,
) -> list[PlannedTask]:
    """Owner, subject, body and due date of each selected contact's task."""
    config: TasksConfig = settings.config.tasks
    model = settings.config.scoring
    ids = [c.contact_id for c in selected]
    with transaction(engine) as conn:
        contacts = contacts_by_id(conn, ids)
        companies = companies_by_id(conn, {c.company_id for c in contacts.values() if c.company_id is not None})
        activities = activities_by_contact(conn, ids, until=now)
    by_email = {(o.email or "").lower(): o.id for o in owners}
    round_robin = [by_email[e.lower()] for e in config.round_robin_owners if e.lower() in by_email]
    load = dict(counts)
    planned = []
    for candidate in selected:
        row = rows[candidate.contact_id]
        contact = contacts.get(candidate.contact_id) or Contact(id=candidate.contact_id)
        company = companies.get(contact.company_id) if contact.company_id is not None else None
        owner = route_owner(
            config.owner_routing,
            contact_owner=contact.owner_id,
            company_owner=company.owner_id if company else None,
            round_robin=round_robin,
            active=[o.id for o in owners],
            load=load,
        )
        if owner is None:
            result.unrouted += 1
            log.warning("push.task_unrouted", contact_id=candidate.contact_id)
            continue
        load[owner] = load.get(owner, 0) + 1
        status = LeadStatus(row["status"])
        explanation = explain_contact(
            contact, company, activities.get(candidate.contact_id, []), model, now=row["as_of"], previous_status=status
        )
        score = stored_contact_score(row)
        body = task_body(score, history_lines(explanation), triggers=[t.value for t in candidate.triggers])
        planned.append(
            PlannedTask(
                contact_id=candidate.contact_id,
                owner_id=owner,
                subject=task_subject(score, contact.display_name),
                body=body,
                due_at=now + timedelta(hours=config.sla_hours),
            )
        )
    return planned


def _create_body(task: PlannedTask, config: TasksConfig, type_id: int) -> SimplePublicObjectInputForCreate:
    return SimplePublicObjectInputForCreate(
        properties={
            "hs_task_subject": task.subject,
            "hs_task_body": task.body,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": config.priority,
            "hs_task_type": config.type,
            "hs_timestamp": hubspot_instant(task.due_at),
            "hubspot_owner_id": str(task.owner_id),
        },
        associations=[
            PublicAssociationsForObject(
                to=PublicObjectId(id=str(task.contact_id)),
                types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)],
            )
        ],
    )


def create_task(
    client: HubSpotClient, engine: Engine, task: PlannedTask, config: TasksConfig, type_id: int, *, now: datetime
) -> bool:
    """Intent, create, record (step 4). True when the contact has its task (created or found)."""
    with transaction(engine) as conn:
        inserted = conn.execute(
            sa.insert(task_t).values(
                contact_id=task.contact_id,
                owner_id=task.owner_id,
                state="intent",
                subject=task.subject,
                intent_at=now,
                due_at=task.due_at,
            )
        ).inserted_primary_key
    if inserted is None:
        raise RuntimeError("the database returned no id for the task intent")
    row_id = int(inserted[0])
    api = client.api("crm.objects.tasks.basic_api")
    body = _create_body(task, config, type_id)
    last_error: HubSpotError | None = None
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            created = client.call(api.create, body, retry=False, operation="push.task_create")
        except RetriableHubSpotError as err:
            # The answer is lost, not necessarily the task: look before trying again.
            last_error = err
            found = find_open_task(client, task.contact_id)
            if found is not None:
                _record_created(engine, row_id, found[0], created_at=now, adopted=True)
                log.info("push.task_created", contact_id=task.contact_id, task_id=found[0], found_after_error=True)
                return True
            log.warning("push.task_create_retry", contact_id=task.contact_id, attempt=attempt, error=str(err))
            continue
        except FatalHubSpotError as err:
            if err.status in (401, 403):  # token or scope problems stop the whole push
                raise
            _fail(engine, row_id, str(err))
            log.warning("push.task_failed", contact_id=task.contact_id, error=str(err))
            return False
        _record_created(engine, row_id, int(created.id), created_at=now)
        log.info("push.task_created", contact_id=task.contact_id, task_id=created.id, owner_id=task.owner_id)
        return True
    # Still unanswered: the intent stays, and the next run's reconcile settles it.
    log.warning("push.task_unconfirmed", contact_id=task.contact_id, error=str(last_error))
    return False


def sync_tasks(
    client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime, dry_run: bool = False
) -> TaskResult:
    """One cycle of the sales handoff (module docstring). In a dry run HubSpot is read, nothing is written."""
    result = TaskResult(dry_run=dry_run)
    model = settings.config.scoring
    if not dry_run:
        reconcile_intents(client, engine, result, now=now)
    counts, contacts_with_open = refresh_open_tasks(client, engine, result, now=now, dry_run=dry_run)
    result.open_by_owner = dict(counts)
    selected, rows, owners = decide(engine, model, counts, contacts_with_open, result)
    planned = plan_tasks(
        engine, settings, selected=selected, rows=rows, owners=owners, counts=counts, result=result, now=now
    )
    if dry_run:
        result.planned = [(t.contact_id, t.owner_id, t.subject) for t in planned]
        return result
    if not planned:
        return result
    type_id = association_type_id(client)
    load = dict(counts)
    for task in planned:
        if create_task(client, engine, task, settings.config.tasks, type_id, now=now):
            result.created += 1
            load[task.owner_id] = load.get(task.owner_id, 0) + 1
        else:
            result.failed += 1
    with transaction(engine) as conn:
        store_owner_load(conn, load)
    return result
