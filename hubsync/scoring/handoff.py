"""Who is handed to sales this cycle (docs/scoring.md): triggers, the seller factor, one open task per contact,
and to which owner.

The handoff job keeps one `HandoffState` per contact. Each cycle `decide` rearms every contact with its new status,
takes the `handoff_candidate`s, and `select_handoffs` fills the owners' `free_capacity`; `route_handoffs` then
names each selected contact's owner (`route_owner`). For every routed contact the job creates the task and stores
`handed_over()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubsync.scoring.results import HandoffTrigger, LeadStatus, Tier

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from hubsync.records import Owner
    from hubsync.scoring.model import ScoringModel
    from hubsync.scoring.results import ContactScore


@dataclass(frozen=True, slots=True)
class HandoffState:
    """What hubsync remembers about a contact's handoff between cycles."""

    # A hubsync task for the contact is open in HubSpot: never a second one.
    open_task: bool = False
    # False from a handoff until the contact falls back to nurture, so a lead is handed over once per rise.
    armed: bool = True


def handed_over() -> HandoffState:
    return HandoffState(open_task=True, armed=False)


def rearm(state: HandoffState, status: LeadStatus) -> HandoffState:
    """A contact that fell back to nurture may be handed over again once it rises (its task may still be open)."""
    if status is LeadStatus.NURTURE and not state.armed:
        return HandoffState(open_task=state.open_task, armed=True)
    return state


@dataclass(frozen=True, slots=True)
class HandoffCandidate:
    contact_id: int
    engagement: int
    profile: int
    tier: Tier
    triggers: tuple[HandoffTrigger, ...]


def handoff_candidate(score: ContactScore, state: HandoffState, model: ScoringModel) -> HandoffCandidate | None:
    """The contact as a sales-queue candidate, or None: no trigger, a blocking fit light, a task already open,
    or already handed over since it last was in nurture."""
    handoff = model.handoff
    if state.open_task or not state.armed or score.fit_light in handoff.blocked_fit:
        return None
    triggers = []
    if score.status in handoff.statuses:
        triggers.append(HandoffTrigger.STATUS)
    if score.segment in handoff.segments:
        triggers.append(HandoffTrigger.SEGMENT)
    if score.surge and handoff.surge:
        triggers.append(HandoffTrigger.SURGE)
    if score.engagement >= handoff.capacity.floor:
        triggers.append(HandoffTrigger.SCORE)
    if not triggers:
        return None
    return HandoffCandidate(score.contact_id, score.engagement, score.profile, score.tier, tuple(triggers))


def owner_capacity(owner: Owner, model: ScoringModel) -> int:
    email = (owner.email or "").strip().lower()
    return model.compiled.owner_capacity.get(email, model.handoff.capacity.default)


def free_capacity(owners: Iterable[Owner], open_tasks: Mapping[int, int], model: ScoringModel) -> int:
    """The sum of max(0, capacity - open hubsync tasks) over the owners who can take tasks (archived ones cannot)."""
    return sum(
        max(0, owner_capacity(owner, model) - open_tasks.get(owner.id, 0)) for owner in owners if not owner.archived
    )


@dataclass(frozen=True, slots=True)
class HandoffDecision:
    # In queue order; these get a task now.
    selected: tuple[HandoffCandidate, ...]
    # In queue order; candidates that did not fit this cycle (they stay candidates).
    waiting: tuple[HandoffCandidate, ...]
    effective_threshold: int
    free_capacity: int


_TIER_ORDER = {Tier.ENTERPRISE: 0, Tier.MID_MARKET: 1, Tier.SMB: 2, Tier.UNKNOWN: 3}


def queue_order(candidate: HandoffCandidate) -> tuple[int, int, int, int]:
    """Engagement first; equal engagement: enterprise before mid_market before smb, then the better profile."""
    return (-candidate.engagement, _TIER_ORDER[candidate.tier], -candidate.profile, candidate.contact_id)


def select_handoffs(candidates: Iterable[HandoffCandidate], free_capacity: int, model: ScoringModel) -> HandoffDecision:
    """The seller factor: fill the free capacity from the top of the queue.

    More candidates than capacity: the threshold rises to the score of the last candidate that fits (never above
    the ceiling; candidates at or above the ceiling are always taken, even beyond capacity). Capacity to spare:
    it falls toward the floor, taking candidates down to the floor (the SCORE trigger). Candidates below the
    floor that another trigger brought in (a surge, a handoff segment) queue behind them by engagement.
    """
    capacity = model.handoff.capacity
    queue = sorted(candidates, key=queue_order)
    must = sum(1 for c in queue if c.engagement >= capacity.ceiling)
    take = max(free_capacity, must)
    if len(queue) <= take:
        threshold = capacity.floor
    elif take == 0:
        threshold = capacity.ceiling
    else:
        threshold = max(capacity.floor, min(capacity.ceiling, queue[take - 1].engagement))
    return HandoffDecision(
        selected=tuple(queue[:take]),
        waiting=tuple(queue[take:]),
        effective_threshold=threshold,
        free_capacity=max(0, free_capacity),
    )


def decide(
    contacts: Iterable[tuple[ContactScore, HandoffState]],
    owners: Iterable[Owner],
    open_tasks: Mapping[int, int],
    model: ScoringModel,
) -> HandoffDecision:
    """The cycle's handoff: every scored contact with its state from the last cycle (rearmed here with its new
    status) against the free capacity of the owners."""
    candidates = [
        candidate
        for score, state in contacts
        if (candidate := handoff_candidate(score, rearm(state, score.status), model)) is not None
    ]
    return select_handoffs(candidates, free_capacity(owners, open_tasks, model), model)


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


def round_robin_ids(emails: Iterable[str], owners: Iterable[Owner]) -> list[int]:
    """The ids of the configured round-robin owners (by email, any case) among `owners`, in config order."""
    by_email = {(o.email or "").lower(): o.id for o in owners}
    return [by_email[e.lower()] for e in emails if e.lower() in by_email]


@dataclass(frozen=True, slots=True)
class Routed:
    candidate: HandoffCandidate
    # None: no route named an active owner (no contact or company owner, an empty round-robin list).
    owner_id: int | None


def route_handoffs(
    selected: Iterable[HandoffCandidate],
    owners_of: Mapping[int, tuple[int | None, int | None]],
    *,
    routing: Sequence[str],
    round_robin: Sequence[int],
    active: Sequence[int],
    load: Mapping[int, int],
) -> tuple[Routed, ...]:
    """The owner of each selected contact's task, in queue order. `owners_of`: contact id → (contact owner,
    company owner); `load`: open tasks per owner, to which each routed task adds one for the next."""
    counts = dict(load)
    out = []
    for candidate in selected:
        contact_owner, company_owner = owners_of.get(candidate.contact_id, (None, None))
        owner = route_owner(
            routing,
            contact_owner=contact_owner,
            company_owner=company_owner,
            round_robin=round_robin,
            active=active,
            load=counts,
        )
        if owner is not None:
            counts[owner] = counts.get(owner, 0) + 1
        out.append(Routed(candidate, owner))
    return tuple(out)
