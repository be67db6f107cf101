"""Sales tasks at handoff (docs/scoring.md): who is handed over, to whom, and how a task is never created twice.

Plan, then apply. `plan_handoff` only reads: where the tasks stand (`jobs/open_tasks.py`), and scoring's decision on
the stored scores and episodes (`decide`: triggers, one task per episode, hand-raisers, the seller factor with each
owner's capacity along the routes: contact owner, company owner, the configured round-robin list), then the tasks'
text (subject with segment and score, body with the reason and the dated history, due after the SLA).
After the contacts, the accounts (`jobs/account_tasks.py`): a company whose buying center is active in a handoff
segment gets one task for its owner from the capacity left, unless one of its contacts' tasks covers it (that task
names the buying center instead).
`apply_handoff` writes it: the local task rows, open tasks updated for a new hand-raise or a buying center they
cover, who waits and why (for `status`), then the tasks, crash-safely and 100 a request (`jobs/task_batches.py`:
intent rows, batch create, record; a lost answer is looked for before anything is sent again).

`handoff` is one cycle (stopped runs' intents settled first); `preview_handoff` is the dry run: the plan, nothing
written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot import tasks_api
from hubsync.hubspot.tasks_api import CONTACTS, NewTask
from hubsync.jobs.account_tasks import AccountPlan, plan_accounts_step, record_covers, store_account_state
from hubsync.jobs.open_tasks import (
    OpenTasks,
    apply_open_tasks,
    local_open_tasks,
    read_open_tasks,
    reconcile_intents,
)
from hubsync.jobs.rescore import stored_contact_score, stored_episode
from hubsync.jobs.task_batches import Created, PlannedTask, create_planned
from hubsync.records import Contact
from hubsync.render.names import Names
from hubsync.render.task_text import task_body, task_subject, trigger_words
from hubsync.scoring import ContactScore, HandoffDecision, LeadStatus, explain_contact, history_lines
from hubsync.scoring.handoff import Routing, capacities, decide, round_robin_ids
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id
from hubsync.store.scores import stored_scores

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.render.task_text import BuyingCenter
    from hubsync.scoring.handoff import Assignment, TaskUpdate
    from hubsync.settings import Settings

log = structlog.get_logger(__name__)

WAITING_FOR_CAPACITY = "waiting for capacity"
NO_OWNER = "no owner: no route names an active owner"
NO_COMPANY_OWNER = "no company owner: an account task goes to the company's owner only"
# A hand-raise inside an episode is news: its open task rises to this priority (scoring.md §5).
HAND_RAISE_PRIORITY = "HIGH"
# Starts the reason of a hand-raiser that gets no task (`status` lists them apart).
HAND_RAISER_HELD = "hand-raiser not handed over: "


@dataclass(frozen=True, slots=True)
class PlannedUpdate:
    """An open task that gains a new hand-raise (its new body, priority HIGH), or the buying center it covers (its
    new body naming it)."""

    contact_id: int
    task_id: str
    body: str
    # The hand-raise it tells of; None for a buying center only.
    hand_raise_at: datetime | None
    priority: str | None = HAND_RAISE_PRIORITY


@dataclass(frozen=True, slots=True)
class HandoffPlan:
    open_tasks: OpenTasks
    decision: HandoffDecision
    # The contacts' tasks to create, in queue order.
    tasks: tuple[PlannedTask, ...]
    # The account tasks after them, and the accounts' episodes and covers.
    accounts: AccountPlan
    updates: tuple[PlannedUpdate, ...] = ()

    @property
    def all_tasks(self) -> tuple[PlannedTask, ...]:
        return self.tasks + self.accounts.tasks

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

    def account_waiting_reasons(self) -> dict[int, str]:
        """Why each company due an account task has none after this plan, for `status`."""
        decision = self.accounts.decision
        reasons = {a.company_id: WAITING_FOR_CAPACITY for a in decision.waiting}
        reasons.update({a.company_id: NO_COMPANY_OWNER for a in decision.unrouted})
        return reasons


@dataclass(frozen=True, slots=True)
class Applied:
    created: int
    failed: int
    # Account tasks among `created`; accounts covered by a contact's task.
    accounts_created: int = 0
    accounts_covered: int = 0


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


def plan_handoff(
    client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime, local: bool = False
) -> HandoffPlan:
    """Which tasks to create or update, for whom and why (reads HubSpot and the database, writes nothing). `local`:
    the open tasks as the database has them, not read from HubSpot (a webhook batch between cycles)."""
    open_tasks = local_open_tasks(engine) if local else read_open_tasks(client, engine, settings.config.sync, now=now)
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
    accounts = plan_accounts_step(
        engine,
        settings,
        routing,
        decision,
        open_contacts=open_tasks.contacts,
        open_companies=open_tasks.companies,
        now=now,
    )
    covered_open = [c.contact_id for c in accounts.decision.covered if not c.new_task]
    tasks, updates = _texts(
        engine,
        settings,
        decision.assigned,
        decision.updates,
        covered_open,
        scores=scores,
        rows=rows,
        covering=accounts.covering,
        now=now,
    )
    return HandoffPlan(open_tasks, decision, tasks, accounts, updates)


def _texts(
    engine: Engine,
    settings: Settings,
    assigned: Sequence[Assignment],
    updates: Sequence[TaskUpdate],
    covered_open: Sequence[int],
    *,
    scores: Mapping[int, ContactScore],
    rows: Mapping[int, Any],
    covering: Mapping[int, BuyingCenter],
    now: datetime,
) -> tuple[tuple[PlannedTask, ...], tuple[PlannedUpdate, ...]]:
    """Subject, body, priority and due date of each new task; the new body of each updated one: for a new
    hand-raise, or for the buying center an open task covers (`covered_open`). A task that covers a buying center
    names it (`covering`)."""
    config = settings.config.tasks
    model = settings.config.scoring
    raised = {u.contact_id for u in updates}
    # A task updated for a hand-raise names the buying center it covers in the same update.
    covered_open = [c for c in covered_open if c not in raised]
    ids = [a.candidate.contact_id for a in assigned] + [u.contact_id for u in updates] + list(covered_open)
    if not ids:
        return (), ()
    with transaction(engine) as conn:
        found = contacts_by_id(conn, ids)
        companies = companies_by_id(conn, {c.company_id for c in found.values() if c.company_id is not None})
        activities = activities_by_contact(conn, ids, until=now)
        open_ids = task_store.open_task_ids(conn, [*raised, *covered_open])
        # A covering contact with an open task need not meet a trigger now: its score row is read on its own.
        rows = {**stored_scores(conn, "contact", [c for c in covered_open if c not in rows]), **rows}
    contacts = {i: found.get(i) or Contact(id=i) for i in ids}
    scores = {**{c: stored_contact_score(rows[c]) for c in covered_open if c in rows}, **scores}

    def history(contact_id: int) -> tuple[str, ...]:
        contact, row = contacts[contact_id], rows[contact_id]
        company = companies.get(contact.company_id) if contact.company_id is not None else None
        explanation = explain_contact(
            contact,
            company,
            activities.get(contact_id, []),
            model,
            now=row.as_of,
            previous_status=LeadStatus(row.status),
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
            buying_center=covering.get(candidate.contact_id),
        )
        outside = candidate.outside_icp if candidate.hand_raiser else None
        new = NewTask(
            object_type=CONTACTS,
            object_id=candidate.contact_id,
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
            open_ids[u.contact_id][0],
            task_body(
                scores[u.contact_id],
                history(u.contact_id),
                triggers=["hand_raiser"],
                hand_raise_at=u.hand_raise_at,
                buying_center=covering.get(u.contact_id),
            ),
            u.hand_raise_at,
        )
        for u in updates
        if u.contact_id in open_ids
    ]
    planned_updates += [
        PlannedUpdate(
            c,
            open_ids[c][0],
            task_body(scores[c], history(c), triggers=open_ids[c][1], buying_center=covering[c]),
            None,
            priority=None,
        )
        for c in covered_open
        if c in open_ids and c in rows
    ]
    return tuple(tasks), tuple(planned_updates)


# -- applying it ----------------------------------------------------------------------------------------------


def apply_handoff(client: HubSpotClient, engine: Engine, plan: HandoffPlan, *, now: datetime) -> Applied:
    """Store where the tasks stand and the accounts' episodes, update open tasks for new hand-raises and the
    buying centers they cover, record who waits and why, then create the planned tasks and start the episode of
    each account a contact's task covers; how many were created and how many failed."""
    apply_open_tasks(engine, plan.open_tasks)
    store_account_state(engine, plan.accounts, plan.account_waiting_reasons())
    told = {u.contact_id for u in plan.updates if update_task(client, engine, u)}
    with transaction(engine) as conn:
        task_store.store_waiting(conn, plan.waiting_reasons())
    load = dict(plan.open_tasks.by_owner)
    created = failed = accounts = 0
    for planned, ended in create_planned(client, engine, plan.all_tasks, now=now):
        task = planned.task
        if ended is Created.CREATED:
            created += 1
            accounts += planned.kind == "account"
            load[task.owner_id] = load.get(task.owner_id, 0) + 1
            if task.object_type == CONTACTS:
                told.add(task.object_id)
        else:
            failed += 1
    covered = record_covers(engine, plan.accounts, told, now=now)
    if plan.all_tasks:
        with transaction(engine) as conn:
            task_store.store_owner_load(conn, load)
    return Applied(created=created, failed=failed, accounts_created=accounts, accounts_covered=covered)


def update_task(client: HubSpotClient, engine: Engine, update: PlannedUpdate) -> bool:
    """The open task tells of the new hand-raise (body with the request and its date, priority HIGH), or of the
    buying center it covers. An update sets values, so it is retried like a read; once it lands, the hand-raise
    counts as heard. False when HubSpot refused it (the task was deleted meanwhile): the next cycle decides again."""
    try:
        tasks_api.update_task(client, update.task_id, body=update.body, priority=update.priority)
    except FatalHubSpotError as err:
        if err.status in (401, 403):  # token or scope problems stop the whole push
            raise
        log.warning("push.task_update_failed", contact_id=update.contact_id, task_id=update.task_id, error=str(err))
        return False
    if update.hand_raise_at is not None:
        with transaction(engine) as conn:
            task_store.record_hand_raise_heard(conn, update.contact_id, update.hand_raise_at)
    log.info("push.task_updated", contact_id=update.contact_id, task_id=update.task_id)
    return True


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
    # Account tasks: created (among `created`), waiting for the company owner's capacity, without a company owner,
    # covered by a contact's task (its body names the buying center).
    accounts_created: int = 0
    accounts_waiting: int = 0
    accounts_unrouted: int = 0
    accounts_covered: int = 0
    effective_threshold: int | None = None
    free_capacity: int | None = None
    open_by_owner: Mapping[int, int] = field(default_factory=dict)
    # In a dry run: (contact id, owner id, subject) of the tasks that would be created; of the account tasks,
    # (company id, owner id, subject).
    planned: tuple[tuple[int, int | None, str], ...] = ()
    planned_accounts: tuple[tuple[int, int | None, str], ...] = ()

    @classmethod
    def of(cls, plan: HandoffPlan, applied: Applied | None, *, reconciled: int = 0) -> TaskResult:
        """What a cycle did (`applied`), or in a dry run (None) would do."""
        decision = plan.decision
        accounts = plan.accounts.decision

        def listed(tasks: Sequence[PlannedTask]) -> tuple[tuple[int, int | None, str], ...]:
            return () if applied else tuple((t.task.object_id, t.task.owner_id, t.task.subject) for t in tasks)

        return cls(
            dry_run=applied is None,
            created=applied.created if applied else 0,
            adopted=reconciled + len(plan.open_tasks.adopted),
            completed=len(plan.open_tasks.done),
            failed=applied.failed if applied else 0,
            unrouted=len(plan.unrouted),
            updated=sum(1 for u in plan.updates if u.hand_raise_at is not None),
            **decision_counts(decision),
            accounts_created=applied.accounts_created if applied else 0,
            accounts_waiting=len(accounts.waiting),
            accounts_unrouted=len(accounts.unrouted),
            accounts_covered=applied.accounts_covered if applied else len(accounts.covered),
            open_by_owner=dict(plan.open_tasks.by_owner),
            planned=listed(plan.tasks),
            planned_accounts=listed(plan.accounts.tasks),
        )

    def lines(self, names: Names | None = None) -> list[str]:
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
        accounts = len(self.planned_accounts) if self.dry_run else self.accounts_created
        out.append(
            f"account tasks {verb}: {accounts}; waiting for the company owner's capacity {self.accounts_waiting}, "
            f"without company owner {self.accounts_unrouted}, covered by a contact's task {self.accounts_covered}"
        )
        named = names or Names()
        out.extend(f"  {named.contact(c)} → {named.owner(o)}: {s}" for c, o, s in self.planned[:20])
        out.extend(
            f"  {named.record('companies', c)} → {named.owner(o)}: {s}" for c, o, s in self.planned_accounts[:20]
        )
        return out


def handoff(
    client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime, local: bool = False
) -> TaskResult:
    """One cycle of the sales handoff: settle stopped runs' intents, plan, apply (`local`: see `plan_handoff`)."""
    reconciled = reconcile_intents(client, engine, now=now)
    plan = plan_handoff(client, engine, settings, now=now, local=local)
    return TaskResult.of(plan, apply_handoff(client, engine, plan, now=now), reconciled=reconciled)


def preview_handoff(client: HubSpotClient, engine: Engine, settings: Settings, *, now: datetime) -> TaskResult:
    """The dry run: HubSpot and the database are read, nothing is written. Intents a stopped run left count as
    open tasks."""
    return TaskResult.of(plan_handoff(client, engine, settings, now=now), None)
