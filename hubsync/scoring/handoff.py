"""Who is handed to sales this cycle (docs/scoring.md): triggers, episodes, hand-raisers, the seller factor with
each owner's capacity, and to which owner.

The store keeps one `HandoffState` per contact (its episode). Every scoring moves it on (`advance`: when a trigger
last held, re-arming after `rearm_after_days` without one). Each cycle `decide` turns the scored contacts into
candidates (`handoff_candidate`), updates of open tasks for a new hand-raise, and hand-raisers held back; then
`plan_handoffs` routes the candidates in queue order to owners with free capacity (`route_owner`). For every
assigned contact the job creates the task and stores `handed_over(...)`. Account tasks (`account_handoff.py`) are
planned after this, on the same routing and capacity, with the same episode rule (`advance_episode`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from hubsync.scoring.profile import GATE_COMPETITOR
from hubsync.scoring.results import HandoffTrigger, Tier

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from hubsync.records import Owner
    from hubsync.scoring.model import ScoringModel
    from hubsync.scoring.results import ContactScore


# -- episodes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoffState:
    """What hubsync remembers about a contact's handoff between cycles: its episode."""

    # A hubsync task for the contact is open in HubSpot: never a second one.
    open_task: bool = False
    # False from a handoff until no trigger has held for `rearm_after_days` in a row: one task per episode.
    armed: bool = True
    # When the contact was last handed over (the start of its episode).
    handed_over_at: datetime | None = None
    # The last scoring instant at which a trigger held.
    triggers_held_at: datetime | None = None
    # The newest hand-raise already brought to sales (by a task or a task update).
    hand_raise_seen_at: datetime | None = None


def handoff_triggers(score: ContactScore, model: ScoringModel) -> tuple[HandoffTrigger, ...]:
    """The triggers this score meets, whatever its fit light and episode."""
    handoff = model.handoff
    triggers = []
    if score.status in handoff.statuses:
        triggers.append(HandoffTrigger.STATUS)
    if score.segment in handoff.segments:
        triggers.append(HandoffTrigger.SEGMENT)
    if score.surge and handoff.surge:
        triggers.append(HandoffTrigger.SURGE)
    if score.engagement >= handoff.capacity.floor:
        triggers.append(HandoffTrigger.SCORE)
    return tuple(triggers)


def advance(state: HandoffState, score: ContactScore, model: ScoringModel, *, now: datetime) -> HandoffState:
    """The episode after scoring as of `now`: a trigger that holds is remembered; a disarmed contact re-arms once
    no trigger has held for `rearm_after_days`. A completed or deleted task changes nothing here."""
    return advance_episode(state, bool(handoff_triggers(score, model)), model, now=now)


def advance_episode(state: HandoffState, triggered: bool, model: ScoringModel, *, now: datetime) -> HandoffState:
    """The episode rule, for a contact and for an account alike: `triggered` (a trigger holds as of `now`) is
    remembered; a disarmed episode re-arms once no trigger has held for `rearm_after_days`."""
    if triggered:
        return dataclasses.replace(state, triggers_held_at=now)
    if state.armed:
        return state
    quiet_since = state.triggers_held_at or state.handed_over_at
    if quiet_since is None or now - quiet_since >= timedelta(days=model.handoff.rearm_after_days):
        return dataclasses.replace(state, armed=True)
    return state


def handed_over(state: HandoffState, *, now: datetime, hand_raise_at: datetime | None = None) -> HandoffState:
    """The episode once a task was created (or found) for the contact: disarmed, its hand-raise heard."""
    seen = max((t for t in (state.hand_raise_seen_at, hand_raise_at) if t is not None), default=None)
    return HandoffState(open_task=True, armed=False, handed_over_at=now, triggers_held_at=now, hand_raise_seen_at=seen)


def new_hand_raise(score: ContactScore, state: HandoffState) -> datetime | None:
    """The contact's hand-raise within `hand_raiser_days` that sales has not heard of yet, or None."""
    raised = score.hand_raise_at
    if raised is None or (state.hand_raise_seen_at is not None and raised <= state.hand_raise_seen_at):
        return None
    return raised


def outside_icp(score: ContactScore, model: ScoringModel) -> str | None:
    """Why a contact lies outside the ICP (its gates, else a blocked fit light), or None inside it."""
    if score.gates:
        return ", ".join(score.gates)
    if score.fit_light in model.handoff.blocked_fit:
        return f"fit {score.fit_light.value}"
    return None


# -- candidates -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoffCandidate:
    contact_id: int
    engagement: int
    profile: int
    tier: Tier
    triggers: tuple[HandoffTrigger, ...]
    # A hand-raise sales has not heard of: the task bypasses capacity and the fit light.
    hand_raise_at: datetime | None = None
    # For a hand-raiser outside the ICP, why (its subject says so and its priority is lower).
    outside_icp: str | None = None

    @property
    def hand_raiser(self) -> bool:
        return self.hand_raise_at is not None


def handoff_candidate(score: ContactScore, state: HandoffState, model: ScoringModel) -> HandoffCandidate | None:
    """The contact as a candidate for a new task, or None.

    A new hand-raise makes a candidate whatever the fit light, episode or gates (except a competitor's, and an
    open task, which `decide` updates instead). Otherwise: a trigger must hold, the contact must be armed, have
    no open task, and a fit light not in `blocked_fit`."""
    triggers = handoff_triggers(score, model)
    raised = new_hand_raise(score, state)
    if raised is not None and not state.open_task and GATE_COMPETITOR not in score.gates:
        return HandoffCandidate(
            score.contact_id,
            score.engagement,
            score.profile,
            score.tier,
            (*triggers, HandoffTrigger.HAND_RAISER),
            hand_raise_at=raised,
            outside_icp=outside_icp(score, model),
        )
    if state.open_task or not state.armed or score.fit_light in model.handoff.blocked_fit or not triggers:
        return None
    return HandoffCandidate(score.contact_id, score.engagement, score.profile, score.tier, triggers)


TIER_ORDER = {Tier.ENTERPRISE: 0, Tier.MID_MARKET: 1, Tier.SMB: 2, Tier.UNKNOWN: 3}


def queue_order(candidate: HandoffCandidate) -> tuple[int, int, int, int, int]:
    """Hand-raisers first (they asked); then engagement; equal engagement: enterprise before mid_market before
    smb, then the better profile."""
    return (
        0 if candidate.hand_raiser else 1,
        -candidate.engagement,
        TIER_ORDER[candidate.tier],
        -candidate.profile,
        candidate.contact_id,
    )


# -- capacity and routing -------------------------------------------------------------------------------------


def owner_capacity(owner: Owner, model: ScoringModel) -> int:
    email = (owner.email or "").strip().lower()
    return model.compiled.owner_capacity.get(email, model.handoff.capacity.default)


def capacities(owners: Iterable[Owner], model: ScoringModel) -> dict[int, int]:
    """The capacity of each owner who can take tasks (archived ones cannot)."""
    return {owner.id: owner_capacity(owner, model) for owner in owners if not owner.archived}


def free_capacity(owners: Iterable[Owner], open_tasks: Mapping[int, int], model: ScoringModel) -> int:
    """The sum of max(0, capacity - open hubsync tasks) over the owners who can take tasks (archived ones cannot)."""
    return sum(max(0, cap - open_tasks.get(owner, 0)) for owner, cap in capacities(owners, model).items())


def round_robin_ids(emails: Iterable[str], owners: Iterable[Owner]) -> list[int]:
    """The ids of the configured round-robin owners (by email, any case) among `owners`, in config order."""
    by_email = {(o.email or "").lower(): o.id for o in owners}
    return [by_email[e.lower()] for e in emails if e.lower() in by_email]


@dataclass(frozen=True, slots=True)
class Routing:
    """Where tasks can go: the routes in order ("contact_owner", "company_owner", "round_robin"), the round-robin
    owners, each active owner's capacity and open hubsync tasks, and each contact's (contact owner, company
    owner)."""

    routes: Sequence[str]
    round_robin: Sequence[int]
    capacity: Mapping[int, int]
    load: Mapping[int, int]
    owners_of: Mapping[int, tuple[int | None, int | None]]


def route_owner(
    routes: Sequence[str],
    *,
    contact_owner: int | None,
    company_owner: int | None,
    round_robin: Sequence[int],
    free: Mapping[int, int],
    need_room: bool,
) -> int | None:
    """The first route that names an active owner (a key of `free`) with room (`need_room`), or None. Round robin
    takes the owner with the most free capacity (config order on a tie), so consecutive tasks rotate over the list
    without any state of its own."""
    for route in routes:
        if route == "contact_owner":
            choices = [contact_owner]
        elif route == "company_owner":
            choices = [company_owner]
        elif route == "round_robin":
            choices = list(round_robin)
        else:
            continue
        live = [o for o in choices if o is not None and o in free and (free[o] > 0 or not need_room)]
        if live:
            return min(live, key=lambda o: (-free[o], live.index(o)))
    return None


class Overload(StrEnum):
    """Why a task may take its owner beyond capacity: the only two exemptions."""

    CEILING = "ceiling lead"
    HAND_RAISER = "hand-raiser"


@dataclass(frozen=True, slots=True)
class Assignment:
    candidate: HandoffCandidate
    owner_id: int
    # Set when the task takes its owner beyond capacity: which exemption allowed it.
    over_capacity: Overload | None = None


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """A new hand-raise of a contact with an open hubsync task: that task is updated, no second one is made."""

    contact_id: int
    hand_raise_at: datetime


@dataclass(frozen=True, slots=True)
class HeldHandRaiser:
    """A hand-raiser who gets no task, and why (shown by `status`)."""

    contact_id: int
    hand_raise_at: datetime
    why: str


HELD_COMPETITOR = "competitor domain"
HELD_NO_OWNER = "no owner: no route names an active owner"


@dataclass(frozen=True, slots=True)
class HandoffDecision:
    # In queue order: the new tasks, each with its owner.
    assigned: tuple[Assignment, ...]
    # In queue order: leads every owner they could go to is full for; they wait for capacity.
    waiting: tuple[HandoffCandidate, ...]
    effective_threshold: int
    free_capacity: int
    # Candidates no route finds an active owner for (no contact or company owner, an empty round-robin list).
    unrouted: tuple[HandoffCandidate, ...] = ()
    updates: tuple[TaskUpdate, ...] = ()
    held: tuple[HeldHandRaiser, ...] = ()

    @property
    def selected(self) -> tuple[HandoffCandidate, ...]:
        return tuple(a.candidate for a in self.assigned)


def plan_handoffs(candidates: Iterable[HandoffCandidate], routing: Routing, model: ScoringModel) -> HandoffDecision:
    """The seller factor, per owner: candidates in queue order, each to the first route with free capacity.

    A lead no owner with room can take waits (and stays a candidate). Only ceiling leads and hand-raisers may
    exceed an owner's capacity, and only when every route is full. The effective threshold is the engagement of
    the last lead that got a task, within floor and ceiling: the floor when no lead waits, the ceiling when none
    got one.
    """
    capacity = model.handoff.capacity
    free = {owner: cap - routing.load.get(owner, 0) for owner, cap in routing.capacity.items()}
    free_total = sum(max(0, f) for f in free.values())
    assigned: list[Assignment] = []
    waiting: list[HandoffCandidate] = []
    unrouted: list[HandoffCandidate] = []
    for candidate in sorted(candidates, key=queue_order):
        owner = _route(candidate, routing, free, need_room=True)
        over = None
        if owner is None:
            any_owner = _route(candidate, routing, free, need_room=False)
            if any_owner is None:
                unrouted.append(candidate)
                continue
            if candidate.hand_raiser:
                over = Overload.HAND_RAISER
            elif candidate.engagement >= capacity.ceiling:
                over = Overload.CEILING
            else:
                waiting.append(candidate)
                continue
            owner = any_owner
        free[owner] -= 1
        assigned.append(Assignment(candidate, owner, over))
    leads = [a.candidate for a in assigned if not a.candidate.hand_raiser]
    if not waiting:
        threshold = capacity.floor
    elif not leads:
        threshold = capacity.ceiling
    else:
        threshold = max(capacity.floor, min(capacity.ceiling, leads[-1].engagement))
    return HandoffDecision(
        assigned=tuple(assigned),
        waiting=tuple(waiting),
        effective_threshold=threshold,
        free_capacity=free_total,
        unrouted=tuple(unrouted),
    )


def _route(candidate: HandoffCandidate, routing: Routing, free: Mapping[int, int], *, need_room: bool) -> int | None:
    contact_owner, company_owner = routing.owners_of.get(candidate.contact_id, (None, None))
    return route_owner(
        routing.routes,
        contact_owner=contact_owner,
        company_owner=company_owner,
        round_robin=routing.round_robin,
        free=free,
        need_room=need_room,
    )


# The one owner of `select_handoffs`' pool.
_POOL = 0


def select_handoffs(candidates: Iterable[HandoffCandidate], free_capacity: int, model: ScoringModel) -> HandoffDecision:
    """The seller factor on capacity in sum, as if one owner held all of it (worked example 7)."""
    pool = Routing(
        routes=("round_robin",), round_robin=(_POOL,), capacity={_POOL: max(0, free_capacity)}, load={}, owners_of={}
    )
    return plan_handoffs(candidates, pool, model)


def decide(
    contacts: Iterable[tuple[ContactScore, HandoffState]], routing: Routing, model: ScoringModel
) -> HandoffDecision:
    """The cycle's handoff: every scored contact with its episode (as the last scoring left it) against the
    owners' capacity. A new hand-raise of a contact with an open task updates that task; a competitor's is held."""
    candidates = []
    updates = []
    held = []
    for score, state in contacts:
        raised = new_hand_raise(score, state)
        if raised is not None and GATE_COMPETITOR in score.gates:
            held.append(HeldHandRaiser(score.contact_id, raised, HELD_COMPETITOR))
            continue
        if raised is not None and state.open_task:
            updates.append(TaskUpdate(score.contact_id, raised))
            continue
        candidate = handoff_candidate(score, state, model)
        if candidate is not None:
            candidates.append(candidate)
    decision = plan_handoffs(candidates, routing, model)
    held += [
        HeldHandRaiser(c.contact_id, c.hand_raise_at, HELD_NO_OWNER)
        for c in decision.unrouted
        if c.hand_raise_at is not None
    ]
    return dataclasses.replace(decision, updates=tuple(updates), held=tuple(held))
