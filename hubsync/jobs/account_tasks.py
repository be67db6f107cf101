"""The account part of a handoff (docs/scoring.md §6): one task for a company's owner when its buying center is active
in a handoff segment, once per episode, within the owner's capacity.

`plan_accounts_step` reads the companies whose account handoff may move (the trigger holds, or the episode is
disarmed), moves their episodes on (`advance_account`: the rescore keeps no account episode, so the handoff does),
makes candidates with their buying centers, and plans them after the contacts (`plan_accounts`, on the same routing
and capacity); then the texts. `store_account_state` writes the episodes and why accounts wait; `record_covers`
starts the episode of an account that a contact's task covered, once that task exists or was updated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from hubsync.hubspot.tasks_api import COMPANIES, NewTask
from hubsync.jobs.rescore import stored_contact_score
from hubsync.jobs.task_batches import PlannedTask
from hubsync.render.task_text import BuyingCenter, BuyingCenterMember, account_task_body, account_task_subject
from hubsync.scoring import CompanyScore, ContactScore, FitLight, HandoffState, Tier
from hubsync.scoring.account_handoff import (
    AccountDecision,
    account_candidate,
    account_triggered,
    advance_account,
    buying_center,
    plan_accounts,
)
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction
from hubsync.store.reads import contacts_by_id
from hubsync.store.scores import member_score_rows

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from datetime import datetime

    from sqlalchemy.engine import Engine

    from hubsync.records import Contact
    from hubsync.scoring import HandoffDecision, ScoringModel
    from hubsync.scoring.handoff import Routing
    from hubsync.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AccountPlan:
    decision: AccountDecision
    # The episodes this handoff moved on: company id → (armed, when the trigger last held).
    episodes: Mapping[int, tuple[bool, datetime | None]]
    # The account tasks to create, in queue order.
    tasks: tuple[PlannedTask, ...]
    # The buying center each covering contact's task names (contact id → its company's buying center).
    covering: Mapping[int, BuyingCenter]


def stored_company_score(row: Any, model: ScoringModel) -> CompanyScore:
    """A CompanyScore from its `company_score` row (the personas present are the model's others)."""
    missing = tuple(row.personas_missing or ())
    return CompanyScore(
        company_id=row.company_id,
        engagement=row.engagement,
        profile=row.profile,
        completeness=row.completeness,
        fit_light=FitLight(row.fit_light),
        tier=Tier(row.tier),
        segment=row.segment,
        buying_center_active=row.buying_center_active,
        active_contacts=row.active_contacts,
        engaged_contacts=row.engaged_contacts,
        personas_present=tuple(p.name for p in model.account.personas if p.name not in missing),
        personas_missing=missing,
        reason=row.reason,
    )


def stored_account_episode(row: Any, *, open_task: bool = False) -> HandoffState:
    """A company's account episode from its `company_score` row (None: a company never scored)."""
    if row is None:
        return HandoffState(open_task=open_task)
    return HandoffState(
        open_task=open_task,
        armed=row.account_armed,
        handed_over_at=row.account_handed_over_at,
        triggers_held_at=row.account_triggers_held_at,
    )


def plan_accounts_step(
    engine: Engine,
    settings: Settings,
    routing: Routing,
    contacts: HandoffDecision,
    *,
    open_contacts: Collection[int],
    open_companies: Collection[int],
    now: datetime,
) -> AccountPlan:
    """The account tasks of this cycle, after the contacts' `decision` on the same `routing` (reads only)."""
    model = settings.config.scoring
    with transaction(engine) as conn:
        rows = task_store.account_rows(conn, segments=model.handoff.segments)
    episodes: dict[int, tuple[bool, datetime | None]] = {}
    # The companies whose trigger holds, with their moved-on episode: only these can be candidates.
    triggered: dict[int, tuple[Any, CompanyScore, HandoffState]] = {}
    for row in rows:
        score = stored_company_score(row, model)
        before = stored_account_episode(row, open_task=row.company_id in open_companies)
        episode = advance_account(before, score, model, now=now)
        if episode != before:
            episodes[row.company_id] = (episode.armed, episode.triggers_held_at)
        if account_triggered(score, model):
            triggered[row.company_id] = (row, score, episode)
    members: dict[int, list[ContactScore]] = defaultdict(list)
    with transaction(engine) as conn:
        for member in member_score_rows(conn, list(triggered)) if triggered else ():
            members[member.company_id].append(stored_contact_score(member))
    candidates = [
        found
        for row, score, episode in triggered.values()
        if (found := account_candidate(score, episode, members[row.company_id], model, owner_id=row.owner_id, now=now))
        is not None
    ]
    scores = {company_id: (row, score) for company_id, (row, score, _) in triggered.items()}
    decision = plan_accounts(candidates, routing, contacts, open_contacts=open_contacts)
    log.info(
        "push.accounts_decided",
        candidates=len(candidates),
        selected=len(decision.assigned),
        waiting=len(decision.waiting),
        unrouted=len(decision.unrouted),
        covered=len(decision.covered),
    )
    texted = {a.candidate.company_id for a in decision.assigned} | {c.company_id for c in decision.covered}
    centers = _centers(engine, model, {c: scores[c] for c in texted}, members, now=now)
    config = settings.config.tasks
    tasks = tuple(
        PlannedTask(
            NewTask(
                object_type=COMPANIES,
                object_id=a.candidate.company_id,
                owner_id=a.owner_id,
                subject=account_task_subject(centers[a.candidate.company_id]),
                body=account_task_body(centers[a.candidate.company_id]),
                due_at=now + timedelta(hours=config.sla_hours),
                priority=config.priority,
                type=config.type,
            ),
            kind="account",
            triggers=(f"buying center {a.candidate.segment}",),
        )
        for a in decision.assigned
    )
    covering = {c.contact_id: centers[c.company_id] for c in decision.covered}
    return AccountPlan(decision, episodes, tasks, covering)


def _centers(
    engine: Engine,
    model: ScoringModel,
    companies: Mapping[int, tuple[Any, CompanyScore]],
    members: Mapping[int, list[ContactScore]],
    *,
    now: datetime,
) -> dict[int, BuyingCenter]:
    """The buying centers of these companies as a task tells of them: names, titles and scores, missing personas."""
    centers = {c: buying_center(members.get(c, ()), model, now=now) for c in companies}
    with transaction(engine) as conn:
        people = contacts_by_id(conn, [m.contact_id for center in centers.values() for m in center])
    labels = model.compiled.persona_labels

    def member(score: ContactScore) -> BuyingCenterMember:
        contact: Contact | None = people.get(score.contact_id)
        name = contact.display_name if contact is not None else f"contact {score.contact_id}"
        return BuyingCenterMember(
            name, contact.jobtitle if contact else None, score.engagement, score.segment, score.status.value
        )

    return {
        company_id: BuyingCenter(
            company=row.name or f"company {company_id}",
            segment=score.segment,
            engagement=score.engagement,
            profile=score.profile,
            fit=score.fit_light.value,
            tier=score.tier.value,
            active_contacts=score.active_contacts,
            days=model.account.buying_center_days,
            members=tuple(member(m) for m in centers[company_id]),
            missing=tuple(labels.get(p, p) for p in score.personas_missing),
            reason=score.reason,
        )
        for company_id, (row, score) in companies.items()
    }


def store_account_state(engine: Engine, plan: AccountPlan, waiting: Mapping[int, str]) -> None:
    """The accounts' episodes as this handoff moved them on, and why accounts wait (company id → reason)."""
    with transaction(engine) as conn:
        task_store.store_account_episodes(conn, plan.episodes)
        task_store.store_account_waiting(conn, waiting)


def record_covers(engine: Engine, plan: AccountPlan, told: Collection[int], *, now: datetime) -> int:
    """Start the episode of each account covered by a contact's task that now names its buying center (`told`: the
    contacts whose task was created or updated); how many."""
    covers = [c for c in plan.decision.covered if c.contact_id in told]
    with transaction(engine) as conn:
        for cover in covers:
            task_store.record_account_covered(conn, cover.company_id, cover.contact_id, at=now)
    for cover in covers:
        log.info("push.account_covered", company_id=cover.company_id, contact_id=cover.contact_id)
    return len(covers)
