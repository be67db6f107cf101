"""Sales tasks at handoff (docs/scoring.md): who is handed over, to whom, and how a task is never created twice.

Plan, then apply. `plan_handoff` only reads: where the tasks stand (`jobs/open_tasks.py`), scoring's decision on the
stored scores (`decide`: triggers, the one-open-task rule, the seller factor), each selected contact's owner
(`route_handoffs`: contact owner, company owner, the configured round-robin list), and the task's text (subject
with segment and score, body with the reason and the dated history, due after the SLA). `apply_handoff` writes
it: the local task rows, then each task, crash-safely — intent row, create, record. The create is sent without
automatic retry (a timeout may hide a task HubSpot did create): on a retriable failure hubsync looks for the task
first and only then tries again.

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
from hubsync.jobs.rescore import stored_contact_score
from hubsync.records import Contact
from hubsync.render.task_text import task_body, task_subject
from hubsync.scoring import ContactScore, HandoffDecision, HandoffState, LeadStatus, explain_contact, history_lines
from hubsync.scoring.handoff import decide, round_robin_ids, route_handoffs
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.records import Owner
    from hubsync.scoring.handoff import HandoffCandidate
    from hubsync.settings import Settings

log = structlog.get_logger(__name__)

# Attempts at one create when HubSpot's answer is lost; each retry is preceded by a look for the task.
CREATE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class HandoffPlan:
    open_tasks: OpenTasks
    decision: HandoffDecision
    # The tasks to create, in queue order.
    tasks: tuple[NewTask, ...]
    # Selected contacts no route found an owner for (no contact or company owner, empty round-robin list).
    unrouted: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Applied:
    created: int
    failed: int


# -- the plan -------------------------------------------------------------------------------------------------


def plan_handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> HandoffPlan:
    """Which tasks to create, for whom and why (reads HubSpot and the database, writes nothing)."""
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
    scores = {contact_id: stored_contact_score(row) for contact_id, row in rows.items()}
    # Rescoring keeps `handoff_armed` (rearmed on a fall to nurture); a handoff clears it (`record_created`).
    states = {
        contact_id: HandoffState(open_task=contact_id in open_tasks.contacts, armed=row["handoff_armed"])
        for contact_id, row in rows.items()
    }
    decision = decide(((scores[c], states[c]) for c in rows), owners, open_tasks.by_owner, model)
    log.info(
        "push.handoff_decided",
        candidates=len(decision.selected) + len(decision.waiting),
        selected=len(decision.selected),
        effective_threshold=decision.effective_threshold,
        free_capacity=decision.free_capacity,
    )
    tasks, unrouted = _tasks(
        engine,
        settings,
        decision.selected,
        scores=scores,
        rows=rows,
        owners=[o for o in owners if not o.archived],
        load=open_tasks.by_owner,
        now=now,
    )
    return HandoffPlan(open_tasks, decision, tasks, unrouted)


def _tasks(
    engine: Engine,
    settings: Settings,
    selected: Sequence[HandoffCandidate],
    *,
    scores: Mapping[int, ContactScore],
    rows: Mapping[int, Mapping[Any, Any]],
    owners: Sequence[Owner],
    load: Mapping[int, int],
    now: datetime,
) -> tuple[tuple[NewTask, ...], tuple[int, ...]]:
    """Owner, subject, body and due date of each selected contact's task; and the contacts without an owner."""
    config = settings.config.tasks
    model = settings.config.scoring
    ids = [c.contact_id for c in selected]
    with transaction(engine) as conn:
        found = contacts_by_id(conn, ids)
        companies = companies_by_id(conn, {c.company_id for c in found.values() if c.company_id is not None})
        activities = activities_by_contact(conn, ids, until=now)
    contacts = {i: found.get(i) or Contact(id=i) for i in ids}
    company_of = {i: companies.get(c.company_id) if c.company_id is not None else None for i, c in contacts.items()}
    routed = route_handoffs(
        selected,
        {i: (c.owner_id, company.owner_id if (company := company_of[i]) else None) for i, c in contacts.items()},
        routing=config.owner_routing,
        round_robin=round_robin_ids(config.round_robin_owners, owners),
        active=[o.id for o in owners],
        load=load,
    )
    tasks, unrouted = [], []
    for r in routed:
        contact_id = r.candidate.contact_id
        if r.owner_id is None:
            unrouted.append(contact_id)
            log.warning("push.task_unrouted", contact_id=contact_id)
            continue
        contact, row, score = contacts[contact_id], rows[contact_id], scores[contact_id]
        explanation = explain_contact(
            contact,
            company_of[contact_id],
            activities.get(contact_id, []),
            model,
            now=row["as_of"],
            previous_status=LeadStatus(row["status"]),
        )
        body = task_body(score, history_lines(explanation), triggers=[t.value for t in r.candidate.triggers])
        tasks.append(
            NewTask(
                contact_id=contact_id,
                owner_id=r.owner_id,
                subject=task_subject(score, contact.display_name),
                body=body,
                due_at=now + timedelta(hours=config.sla_hours),
                priority=config.priority,
                type=config.type,
            )
        )
    return tuple(tasks), tuple(unrouted)


# -- applying it ----------------------------------------------------------------------------------------------


def apply_handoff(client: HubSpotClient, engine: Engine, plan: HandoffPlan, *, now: datetime) -> Applied:
    """Store where the tasks stand, then create the planned tasks; how many were created and how many failed."""
    apply_open_tasks(engine, plan.open_tasks)
    if not plan.tasks:
        return Applied(created=0, failed=0)
    type_id = tasks_api.association_type_id(client)
    load = dict(plan.open_tasks.by_owner)
    created = failed = 0
    for task in plan.tasks:
        if create_task(client, engine, task, type_id, now=now):
            created += 1
            load[task.owner_id] = load.get(task.owner_id, 0) + 1
        else:
            failed += 1
    with transaction(engine) as conn:
        task_store.store_owner_load(conn, load)
    return Applied(created=created, failed=failed)


def create_task(client: HubSpotClient, engine: Engine, task: NewTask, type_id: int, *, now: datetime) -> bool:
    """Intent, create, record. True when the contact has its task (created or found)."""
    with transaction(engine) as conn:
        row_id = task_store.add_intent(
            conn,
            contact_id=task.contact_id,
            owner_id=task.owner_id,
            subject=task.subject,
            intent_at=now,
            due_at=task.due_at,
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
            candidates=len(decision.selected) + len(decision.waiting),
            selected=len(decision.selected),
            effective_threshold=decision.effective_threshold,
            free_capacity=decision.free_capacity,
            open_by_owner=dict(plan.open_tasks.by_owner),
            planned=() if applied else tuple((t.contact_id, t.owner_id, t.subject) for t in plan.tasks),
        )

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


def handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> TaskResult:
    """One cycle of the sales handoff: settle stopped runs' intents, plan, apply."""
    reconciled = reconcile_intents(client, engine, now=now)
    plan = plan_handoff(client, engine, settings, now=now)
    return TaskResult.of(plan, apply_handoff(client, engine, plan, now=now), reconciled=reconciled)


def preview_handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> TaskResult:
    """The dry run: HubSpot and the database are read, nothing is written. Intents a stopped run left count as
    open tasks."""
    return TaskResult.of(plan_handoff(client, engine, settings, now=now), None)
