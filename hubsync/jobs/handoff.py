"""Sales tasks at handoff (docs/scoring.md): who is handed over, to whom, and how a task is never created twice.

Plan, then apply. `plan_handoff` only reads: where the tasks stand (`jobs/open_tasks.py`), and scoring's decision on
the stored scores and episodes (`decide`: triggers, one task per episode, hand-raisers, the seller factor with each
owner's capacity along the routes: contact owner, company owner, the configured round-robin list), then the tasks'
text (subject with segment and score, body with the reason and the dated history, due after the SLA).
`apply_handoff` writes it: the local task rows, open tasks updated for a new hand-raise, who waits and why (for
`status`), then each task, crash-safely — intent row, create, record. The create is sent without automatic retry
(a timeout may hide a task HubSpot did create): on a retriable failure hubsync looks for the task first and only
then tries again.

`handoff` is one cycle (stopped runs' intents settled first); `preview_handoff` is the dry run: the plan, nothing
written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from hubsync.errors import FatalHubSpotError, HubSpotError, RetriableHubSpotError
from hubsync.hubspot import tasks_api
from hubsync.hubspot.tasks_api import NewTask
from hubsync.jobs.open_tasks import (
    OpenTasks,
    apply_open_tasks,
    find_open_task,
    read_open_tasks,
    reconcile_intents,
    record_created,
    record_failed,
)
from hubsync.jobs.rescore import stored_contact_score, stored_episode
from hubsync.records import Contact
from hubsync.render.task_text import task_body, task_subject, trigger_words
from hubsync.scoring import ContactScore, HandoffDecision, LeadStatus, explain_contact, history_lines
from hubsync.scoring.handoff import Routing, capacities, decide, round_robin_ids
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.scoring.handoff import Assignment, TaskUpdate
    from hubsync.settings import Settings

log = structlog.get_logger(__name__)

# Attempts at one create when HubSpot's answer is lost; each retry is preceded by a look for the task.
CREATE_ATTEMPTS = 3
WAITING_FOR_CAPACITY = "waiting for capacity"
NO_OWNER = "no owner: no route names an active owner"
# A hand-raise inside an episode is news: its open task rises to this priority (scoring.md §5).
HAND_RAISE_PRIORITY = "HIGH"
# Starts the reason of a hand-raiser that gets no task (`status` lists them apart).
HAND_RAISER_HELD = "hand-raiser not handed over: "


@dataclass(frozen=True, slots=True)
class PlannedTask:
    task: NewTask
    # "lead" or "hand_raiser".
    kind: str
    # The exemption that lets the task take its owner beyond capacity, if it does.
    over_capacity: str | None = None
    # Why the contact is handed over, in words (`render.task_text.trigger_words`).
    triggers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedUpdate:
    """An open task that gains a new hand-raise: its new body, priority HIGH."""

    contact_id: int
    task_id: str
    body: str
    hand_raise_at: datetime


@dataclass(frozen=True, slots=True)
class HandoffPlan:
    open_tasks: OpenTasks
    decision: HandoffDecision
    # The tasks to create, in queue order.
    tasks: tuple[PlannedTask, ...]
    updates: tuple[PlannedUpdate, ...] = ()

    @property
    def unrouted(self) -> tuple[int, ...]:
        """Candidates no route found an owner for (no contact or company owner, an empty round-robin list)."""
        return tuple(c.contact_id for c in self.decision.unrouted)

    def waiting_reasons(self) -> dict[int, str]:
        """Why each contact due a task has none after this plan, for `status`."""
        reasons = {c.contact_id: WAITING_FOR_CAPACITY for c in self.decision.waiting}
        reasons.update({c.contact_id: NO_OWNER for c in self.decision.unrouted})
        reasons.update({h.contact_id: f"{HAND_RAISER_HELD}{h.why}" for h in self.decision.held})
        return reasons


@dataclass(frozen=True, slots=True)
class Applied:
    created: int
    failed: int


def decision_counts(decision: HandoffDecision) -> dict[str, Any]:
    """The handoff decision in numbers, for the log and `TaskResult`."""
    return {
        "candidates": len(decision.assigned) + len(decision.waiting) + len(decision.unrouted),
        "selected": len(decision.assigned),
        "waiting": len(decision.waiting),
        "over_capacity": sum(1 for a in decision.assigned if a.over_capacity is not None),
        "held": len(decision.held),
        "effective_threshold": decision.effective_threshold,
        "free_capacity": decision.free_capacity,
    }


# -- the plan -------------------------------------------------------------------------------------------------


def plan_handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> HandoffPlan:
    """Which tasks to create or update, for whom and why (reads HubSpot and the database, writes nothing)."""
    open_tasks = read_open_tasks(client, engine, now=now)
    model = settings.config.scoring
    handoff = model.handoff
    with transaction(engine) as conn:
        rows = {
            int(r["contact_id"]): r
            for r in task_store.handoff_rows(
                conn,
                floor=handoff.capacity.floor,
                statuses=[s.value for s in handoff.statuses],
                segments=handoff.segments,
                surge=handoff.surge,
            )
        }
        owners = task_store.owners(conn)
        owners_of = task_store.owners_of(conn, list(rows))
    scores = {contact_id: stored_contact_score(row) for contact_id, row in rows.items()}
    # The rescore moved each episode on (`advance`); a handoff starts a new one (`record_created`).
    episodes = {c: stored_episode(row, open_task=c in open_tasks.contacts) for c, row in rows.items()}
    active = [o for o in owners if not o.archived]
    routing = Routing(
        routes=settings.config.tasks.owner_routing,
        round_robin=round_robin_ids(settings.config.tasks.round_robin_owners, active),
        capacity=capacities(active, model),
        load=open_tasks.by_owner,
        owners_of=owners_of,
    )
    decision = decide(((scores[c], episodes[c]) for c in sorted(rows)), routing, model)
    log.info("push.handoff_decided", updates=len(decision.updates), **decision_counts(decision))
    for candidate in decision.unrouted:
        log.warning("push.task_unrouted", contact_id=candidate.contact_id)
    tasks, updates = _texts(engine, settings, decision.assigned, decision.updates, scores=scores, rows=rows, now=now)
    return HandoffPlan(open_tasks, decision, tasks, updates)


def _texts(
    engine: Engine,
    settings: Settings,
    assigned: Sequence[Assignment],
    updates: Sequence[TaskUpdate],
    *,
    scores: Mapping[int, ContactScore],
    rows: Mapping[int, Mapping[Any, Any]],
    now: datetime,
) -> tuple[tuple[PlannedTask, ...], tuple[PlannedUpdate, ...]]:
    """Subject, body, priority and due date of each new task; the new body of each updated one."""
    config = settings.config.tasks
    model = settings.config.scoring
    ids = [a.candidate.contact_id for a in assigned] + [u.contact_id for u in updates]
    if not ids:
        return (), ()
    with transaction(engine) as conn:
        found = contacts_by_id(conn, ids)
        companies = companies_by_id(conn, {c.company_id for c in found.values() if c.company_id is not None})
        activities = activities_by_contact(conn, ids, until=now)
        open_ids = task_store.open_task_ids(conn, [u.contact_id for u in updates])
    contacts = {i: found.get(i) or Contact(id=i) for i in ids}

    def history(contact_id: int) -> tuple[str, ...]:
        contact, row = contacts[contact_id], rows[contact_id]
        company = companies.get(contact.company_id) if contact.company_id is not None else None
        explanation = explain_contact(
            contact,
            company,
            activities.get(contact_id, []),
            model,
            now=row["as_of"],
            previous_status=LeadStatus(row["status"]),
        )
        return history_lines(explanation)

    tasks = []
    for a in assigned:
        candidate, score = a.candidate, scores[a.candidate.contact_id]
        body = task_body(
            score,
            history(candidate.contact_id),
            triggers=[t.value for t in candidate.triggers],
            hand_raise_at=candidate.hand_raise_at,
        )
        outside = candidate.outside_icp if candidate.hand_raiser else None
        new = NewTask(
            contact_id=candidate.contact_id,
            owner_id=a.owner_id,
            subject=task_subject(score, contacts[candidate.contact_id].display_name, outside_icp=outside),
            body=body,
            due_at=now + timedelta(hours=config.sla_hours),
            priority=config.hand_raiser_outside_icp_priority if outside is not None else config.priority,
            type=config.type,
        )
        kind = "hand_raiser" if candidate.hand_raiser else "lead"
        over = a.over_capacity.value if a.over_capacity is not None else None
        words = trigger_words([t.value for t in candidate.triggers], score)
        tasks.append(PlannedTask(new, kind, over, words))
    planned_updates = [
        PlannedUpdate(
            u.contact_id,
            open_ids[u.contact_id],
            task_body(
                scores[u.contact_id], history(u.contact_id), triggers=["hand_raiser"], hand_raise_at=u.hand_raise_at
            ),
            u.hand_raise_at,
        )
        for u in updates
        if u.contact_id in open_ids
    ]
    return tuple(tasks), tuple(planned_updates)


# -- applying it ----------------------------------------------------------------------------------------------


def apply_handoff(client: HubSpotClient, engine: Engine, plan: HandoffPlan, *, now: datetime) -> Applied:
    """Store where the tasks stand, update open tasks for new hand-raises, record who waits and why, then create
    the planned tasks; how many were created and how many failed."""
    apply_open_tasks(engine, plan.open_tasks)
    for update in plan.updates:
        update_task(client, engine, update)
    with transaction(engine) as conn:
        task_store.store_waiting(conn, plan.waiting_reasons())
    if not plan.tasks:
        return Applied(created=0, failed=0)
    type_id = tasks_api.association_type_id(client)
    load = dict(plan.open_tasks.by_owner)
    created = failed = 0
    for planned in plan.tasks:
        task = planned.task
        if create_task(client, engine, planned, type_id, now=now):
            created += 1
            load[task.owner_id] = load.get(task.owner_id, 0) + 1
        else:
            failed += 1
    with transaction(engine) as conn:
        task_store.store_owner_load(conn, load)
    return Applied(created=created, failed=failed)


def update_task(client: HubSpotClient, engine: Engine, update: PlannedUpdate) -> None:
    """The open task tells of the new hand-raise (body with the request and its date, priority HIGH). An update
    sets values, so it is retried like a read; once it lands, the hand-raise counts as heard."""
    tasks_api.update_task(client, update.task_id, body=update.body, priority=HAND_RAISE_PRIORITY)
    with transaction(engine) as conn:
        task_store.record_hand_raise_heard(conn, update.contact_id, update.hand_raise_at)
    log.info("push.task_updated", contact_id=update.contact_id, task_id=update.task_id)


def create_task(client: HubSpotClient, engine: Engine, planned: PlannedTask, type_id: int, *, now: datetime) -> bool:
    """Intent, create, record. True when the contact has its task (created or found)."""
    task = planned.task
    with transaction(engine) as conn:
        row_id = task_store.add_intent(
            conn,
            contact_id=task.contact_id,
            owner_id=task.owner_id,
            subject=task.subject,
            intent_at=now,
            due_at=task.due_at,
            kind=planned.kind,
            over_capacity=planned.over_capacity,
            triggers=planned.triggers,
        )
    last_error: HubSpotError | None = None
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            task_id = tasks_api.create_task(client, task, type_id)
        except RetriableHubSpotError as err:
            # The answer is lost, not necessarily the task: look before trying again.
            last_error = err
            found = find_open_task(client, task.contact_id)
            if found is not None:
                record_created(engine, row_id, found[0], created_at=now, adopted=True)
                log.info("push.task_created", contact_id=task.contact_id, task_id=found[0], found_after_error=True)
                return True
            log.warning("push.task_create_retry", contact_id=task.contact_id, attempt=attempt, error=str(err))
            continue
        except FatalHubSpotError as err:
            if err.status in (401, 403):  # token or scope problems stop the whole push
                raise
            record_failed(engine, row_id, str(err))
            log.warning("push.task_failed", contact_id=task.contact_id, error=str(err))
            return False
        record_created(engine, row_id, task_id, created_at=now)
        log.info("push.task_created", contact_id=task.contact_id, task_id=task_id, owner_id=task.owner_id)
        return True
    # Still unanswered: the intent stays, and the next run's reconcile settles it.
    log.warning("push.task_unconfirmed", contact_id=task.contact_id, error=str(last_error))
    return False


# -- the cycle ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
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
    # Leads no owner with free capacity could take this cycle.
    waiting: int = 0
    # Tasks that take their owner beyond capacity (ceiling leads and hand-raisers only).
    over_capacity: int = 0
    # Open tasks updated for a new hand-raise; hand-raisers held back (a competitor's domain, no owner).
    updated: int = 0
    held: int = 0
    effective_threshold: int | None = None
    free_capacity: int | None = None
    open_by_owner: Mapping[int, int] = field(default_factory=dict)
    # In a dry run: (contact id, owner id, subject) of the tasks that would be created.
    planned: tuple[tuple[int, int | None, str], ...] = ()

    @classmethod
    def of(cls, plan: HandoffPlan, applied: Applied | None, *, reconciled: int = 0) -> TaskResult:
        """What a cycle did (`applied`), or in a dry run (None) would do."""
        decision = plan.decision
        return cls(
            dry_run=applied is None,
            created=applied.created if applied else 0,
            adopted=reconciled + len(plan.open_tasks.adopted),
            completed=len(plan.open_tasks.done),
            failed=applied.failed if applied else 0,
            unrouted=len(plan.unrouted),
            updated=len(plan.updates),
            **decision_counts(decision),
            open_by_owner=dict(plan.open_tasks.by_owner),
            planned=() if applied else tuple((t.task.contact_id, t.task.owner_id, t.task.subject) for t in plan.tasks),
        )

    def lines(self) -> list[str]:
        verb = "would create" if self.dry_run else "created"
        out = [
            (
                f"tasks {verb}: {len(self.planned) if self.dry_run else self.created}; candidates {self.candidates}, "
                f"selected {self.selected} ({self.over_capacity} beyond capacity), waiting for capacity "
                f"{self.waiting}, effective threshold {self.effective_threshold}, free capacity {self.free_capacity}; "
                f"updated for a hand-raise {self.updated}, hand-raisers held {self.held}; adopted {self.adopted}, "
                f"completed {self.completed}, failed {self.failed}, without owner {self.unrouted}"
            )
        ]
        out.extend(f"  contact {c} -> owner {o}: {s}" for c, o, s in self.planned[:20])
        return out


def handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> TaskResult:
    """One cycle of the sales handoff: settle stopped runs' intents, plan, apply."""
    reconciled = reconcile_intents(client, engine, now=now)
    plan = plan_handoff(client, engine, settings, now=now)
    return TaskResult.of(plan, apply_handoff(client, engine, plan, now=now), reconciled=reconciled)


def preview_handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> TaskResult:
    """The dry run: HubSpot and the database are read, nothing is written. Intents a stopped run left count as
    open tasks."""
    return TaskResult.of(plan_handoff(client, engine, settings, now=now), None)
