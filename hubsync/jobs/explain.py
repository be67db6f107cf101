"""`hubsync explain`: one contact's score as of `now`, recomputed from the local database with every contribution.

No HubSpot call and nothing written; the stored status (for the hysteresis) and the account's stored scores are
read alongside, so the explanation matches what the last rescore stored; so is the contact's handoff episode and its
last hubsync task, as the last cycle left them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from hubsync.errors import NotFound
from hubsync.jobs.account_tasks import stored_account_episode, stored_company_score
from hubsync.jobs.rescore import stored_episode
from hubsync.records import Company, Contact
from hubsync.render.explain import AccountHandoffExplained, HandoffExplained
from hubsync.render.task_text import trigger_words
from hubsync.scoring import Explanation, LeadStatus, ScoringModel, explain_contact
from hubsync.scoring.account_handoff import account_triggered
from hubsync.scoring.handoff import handoff_triggers, outside_icp
from hubsync.store.reads import activities_by_contact, companies_by_id, find_contact
from hubsync.store.scores import stored_contact_status, stored_scores
from hubsync.store.tasks import account_handoff_of, handoff_of


@dataclass(frozen=True, slots=True)
class ContactExplained:
    contact: Contact
    company: Company | None
    explanation: Explanation
    # The account's stored score row and the contact's stored status, as the last rescore left them.
    account: Any | None
    stored_status: str | None
    # The handoff: episode, triggers, hand-raise, last task, why it waits.
    handoff: HandoffExplained | None = None


def explain(engine: Engine, model: ScoringModel, key: str, *, now: datetime) -> ContactExplained:
    """`key` is a HubSpot contact id or an email address."""
    with engine.connect() as conn:
        found = find_contact(conn, key)
        if found is None:
            raise NotFound(f"no contact {key!r} in the local database (by id or email); run `hubsync sync`")
        company = companies_by_id(conn, [found.company_id]).get(found.company_id) if found.company_id else None
        activities = activities_by_contact(conn, [found.id], until=now).get(found.id, [])
        stored = stored_contact_status(conn, found.id)
        account = stored_scores(conn, "company", [company.id]).get(company.id) if company is not None else None
        episode_row, task = handoff_of(conn, found.id)
        account_row, account_task = account_handoff_of(conn, company.id) if company is not None else (None, None)
    previous = LeadStatus(stored) if stored is not None else None
    explanation = explain_contact(found, company, activities, model, now=now, previous_status=previous)
    handoff = _handoff(explanation, model, episode_row, task)
    if account_row is not None:
        handoff = dataclasses.replace(handoff, account=_account(found.id, model, account_row, account_task))
    return ContactExplained(found, company, explanation, account, stored, handoff)


def _account(contact_id: int, model: ScoringModel, row: Any, task: Any | None) -> AccountHandoffExplained:
    is_open = task is not None and task.state == "open"
    return AccountHandoffExplained(
        episode=stored_account_episode(row, open_task=is_open),
        triggered=account_triggered(stored_company_score(row, model), model),
        segment=row.segment,
        covered_by=row.account_covered_by,
        covered_by_this=row.account_covered_by == contact_id,
        waiting=row.account_waiting,
        task_created_at=task.created_at if task is not None else None,
        task_open=is_open,
        task_owner=task.owner_id if task is not None else None,
    )


def _handoff(explanation: Explanation, model: ScoringModel, row: Any | None, task: Any | None) -> HandoffExplained:
    score = explanation.score
    is_open = task is not None and task.state == "open"
    return HandoffExplained(
        episode=stored_episode(row, open_task=is_open),
        triggers_now=trigger_words([t.value for t in handoff_triggers(score, model)], score),
        blocked=outside_icp(score, model),
        hand_raise_at=score.hand_raise_at,
        waiting=row.handoff_waiting if row is not None else None,
        task_created_at=task.created_at if task is not None else None,
        task_open=is_open,
        task_triggers=tuple(task.triggers or ()) if task is not None else (),
    )
