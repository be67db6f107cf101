"""The account handoff (docs/scoring.md): a company whose buying center is active in a handoff segment gets one
task for its owner, listing the buying center; decisions are made by teams.

The company has an episode like a contact (`HandoffState`, moved on by `advance_account` with the same rule:
disarmed by a handoff, re-armed after `rearm_after_days` without a trigger). An armed company with no open account
task is a candidate (`account_candidate`). `plan_accounts` runs after the contacts' plan (`decide`) on the same
routing and capacity: a buying center one of whose contacts has an open hubsync task, or gets one in this plan, is
covered by that task (its body names the buying center) and gets no task of its own; every other candidate goes to
the company's owner if that owner has room, and otherwise waits. Account tasks never take an owner beyond capacity:
the two exemptions are for leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from hubsync.scoring.handoff import TIER_ORDER, HandoffDecision, HandoffState, Routing, advance_episode

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from datetime import datetime

    from hubsync.scoring.model import ScoringModel
    from hubsync.scoring.results import CompanyScore, ContactScore, Tier


def account_triggered(score: CompanyScore, model: ScoringModel) -> bool:
    """The account trigger: the buying center is active and the account segment is a handoff segment."""
    return score.buying_center_active and score.segment in model.handoff.segments


def advance_account(state: HandoffState, score: CompanyScore, model: ScoringModel, *, now: datetime) -> HandoffState:
    """The company's episode as of `now`, by the contacts' rule (`advance_episode`)."""
    return advance_episode(state, account_triggered(score, model), model, now=now)


def buying_center(members: Iterable[ContactScore], model: ScoringModel, *, now: datetime) -> tuple[ContactScore, ...]:
    """The contacts an account task names: engaged (engagement at or above `engaged_min`) or active within
    `buying_center_days`; the best first."""
    account = model.account
    since = now - timedelta(days=account.buying_center_days)
    chosen = [
        c
        for c in members
        if c.engagement >= account.engaged_min or (c.last_positive_at is not None and c.last_positive_at >= since)
    ]
    return tuple(sorted(chosen, key=lambda c: (-c.engagement, c.contact_id)))


@dataclass(frozen=True, slots=True)
class AccountCandidate:
    company_id: int
    # The company's owner: the only one an account task goes to.
    owner_id: int | None
    engagement: int
    profile: int
    tier: Tier
    segment: str
    # The buying center's contacts, best first (`buying_center`).
    members: tuple[int, ...]


def account_candidate(
    score: CompanyScore,
    state: HandoffState,
    members: Iterable[ContactScore],
    model: ScoringModel,
    *,
    owner_id: int | None,
    now: datetime,
) -> AccountCandidate | None:
    """The company as a candidate for an account task, or None: the trigger must hold, the episode be armed, and no
    account task be open."""
    if state.open_task or not state.armed or not account_triggered(score, model):
        return None
    center = buying_center(members, model, now=now)
    return AccountCandidate(
        company_id=score.company_id,
        owner_id=owner_id,
        engagement=score.engagement,
        profile=score.profile,
        tier=score.tier,
        segment=score.segment,
        members=tuple(c.contact_id for c in center),
    )


def account_queue_order(candidate: AccountCandidate) -> tuple[int, int, int, int]:
    """The leads' order: account engagement; equal engagement: enterprise first, then the better profile."""
    return (-candidate.engagement, TIER_ORDER[candidate.tier], -candidate.profile, candidate.company_id)


@dataclass(frozen=True, slots=True)
class AccountAssignment:
    candidate: AccountCandidate
    owner_id: int


@dataclass(frozen=True, slots=True)
class AccountCover:
    """A buying center brought to sales by one of its contacts' tasks instead of an account task."""

    company_id: int
    contact_id: int
    # True: the contact's task is created in this plan (its body names the buying center). False: the task is open
    # already, and its body is updated to name it.
    new_task: bool


@dataclass(frozen=True, slots=True)
class AccountDecision:
    # In queue order: the new account tasks, each for its company's owner.
    assigned: tuple[AccountAssignment, ...] = ()
    # The company's owner has no room: the account waits for capacity.
    waiting: tuple[AccountCandidate, ...] = ()
    # The company has no active owner.
    unrouted: tuple[AccountCandidate, ...] = ()
    covered: tuple[AccountCover, ...] = ()


def plan_accounts(
    accounts: Iterable[AccountCandidate],
    routing: Routing,
    contacts: HandoffDecision,
    *,
    open_contacts: Collection[int],
) -> AccountDecision:
    """The account tasks of a cycle, from the capacity the contacts' plan (`contacts`, on the same `routing`) left.

    `open_contacts` are the contacts with an open hubsync task. Contacts go first, so that a buying center whose
    contact is handed over in this cycle is covered by that task rather than told twice."""
    new = {a.candidate.contact_id for a in contacts.assigned}
    free = {owner: cap - routing.load.get(owner, 0) for owner, cap in routing.capacity.items()}
    for a in contacts.assigned:
        free[a.owner_id] = free.get(a.owner_id, 0) - 1
    assigned: list[AccountAssignment] = []
    waiting: list[AccountCandidate] = []
    unrouted: list[AccountCandidate] = []
    covered: list[AccountCover] = []
    for account in sorted(accounts, key=account_queue_order):
        cover = _cover(account, new, open_contacts)
        if cover is not None:
            covered.append(cover)
        elif account.owner_id is None or account.owner_id not in free:
            unrouted.append(account)
        elif free[account.owner_id] <= 0:
            waiting.append(account)
        else:
            free[account.owner_id] -= 1
            assigned.append(AccountAssignment(account, account.owner_id))
    return AccountDecision(tuple(assigned), tuple(waiting), tuple(unrouted), tuple(covered))


def _cover(account: AccountCandidate, new: Collection[int], open_contacts: Collection[int]) -> AccountCover | None:
    """The contact whose task covers the buying center: the best one handed over in this plan (no update needed),
    else the best one with an open task."""
    for contact_id in account.members:
        if contact_id in new:
            return AccountCover(account.company_id, contact_id, new_task=True)
    for contact_id in account.members:
        if contact_id in open_contacts:
            return AccountCover(account.company_id, contact_id, new_task=False)
    return None
