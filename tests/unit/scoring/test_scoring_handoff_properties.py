"""Properties of the pure handoff planner (`plan_handoffs`, then `plan_accounts`) on random owners, loads, routes,
candidates and accounts: per-owner capacity holds except through the two exemptions, account tasks included;
candidates are taken in queue order, leads wait only when every owner they could go to is full, the threshold stays
within floor and ceiling, a buying center with a contact's task gets no account task, and the plan is
deterministic."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.scoring import HandoffCandidate, HandoffTrigger, Tier
from hubsync.scoring.account_handoff import AccountCandidate, AccountDecision, plan_accounts
from hubsync.scoring.handoff import HandoffDecision, Overload, Routing, plan_handoffs, queue_order

from .scoring_builders import day, default_model

OWNERS = (1, 2, 3, 4)
# Owner 5 is archived or unknown: never in `capacity`, so no route may name it.
MAYBE_OWNER = st.one_of(st.none(), st.sampled_from((*OWNERS, 5)))


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[HandoffCandidate], Routing]:
    capacity = {o: draw(st.integers(0, 4)) for o in OWNERS}
    load = {o: draw(st.integers(0, 6)) for o in OWNERS}
    candidates = draw(
        st.lists(
            st.builds(
                HandoffCandidate,
                contact_id=st.integers(1, 10**6),
                engagement=st.integers(0, 100),
                profile=st.integers(0, 100),
                tier=st.sampled_from(list(Tier)),
                triggers=st.just((HandoffTrigger.SCORE,)),
                hand_raise_at=st.one_of(st.none(), st.just(day(0))),
            ),
            max_size=25,
            unique_by=lambda c: c.contact_id,
        )
    )
    routes = draw(st.permutations(("contact_owner", "company_owner", "round_robin")))
    routes = routes[: draw(st.integers(1, 3))]
    round_robin = draw(st.lists(st.sampled_from((*OWNERS, 5)), unique=True, max_size=5))
    owners_of = {c.contact_id: (draw(MAYBE_OWNER), draw(MAYBE_OWNER)) for c in candidates}
    return candidates, Routing(tuple(routes), tuple(round_robin), capacity, load, owners_of)


def _reachable(candidate: HandoffCandidate, routing: Routing) -> set[int]:
    contact_owner, company_owner = routing.owners_of[candidate.contact_id]
    named: dict[str, set[int | None]] = {
        "contact_owner": {contact_owner},
        "company_owner": {company_owner},
        "round_robin": set(routing.round_robin),
    }
    return {o for route in routing.routes for o in named[route] if o is not None and o in routing.capacity}


def _plan(world: tuple[list[HandoffCandidate], Routing]) -> HandoffDecision:
    candidates, routing = world
    return plan_handoffs(candidates, routing, default_model())


@given(worlds())
def test_owner_capacity_is_exceeded_only_by_ceiling_leads_and_hand_raisers(
    world: tuple[list[HandoffCandidate], Routing],
) -> None:
    _, routing = world
    decision = _plan(world)
    ceiling = default_model().handoff.capacity.ceiling
    within = Counter(a.owner_id for a in decision.assigned if a.over_capacity is None)
    for owner, n in within.items():
        assert n <= max(0, routing.capacity[owner] - routing.load.get(owner, 0))
    for a in decision.assigned:
        assert a.owner_id in routing.capacity  # active owners only
        if a.over_capacity is Overload.HAND_RAISER:
            assert a.candidate.hand_raiser
        elif a.over_capacity is Overload.CEILING:
            assert a.candidate.engagement >= ceiling
            assert not a.candidate.hand_raiser
    # What the owners hold after the plan beyond their capacity is exactly the counted exemptions.
    for owner in routing.capacity:
        held = routing.load.get(owner, 0) + sum(1 for a in decision.assigned if a.owner_id == owner)
        over = sum(1 for a in decision.assigned if a.owner_id == owner and a.over_capacity is not None)
        assert held - over <= max(routing.capacity[owner], routing.load.get(owner, 0))


@given(worlds())
def test_candidates_are_taken_in_queue_order_and_wait_only_for_capacity(
    world: tuple[list[HandoffCandidate], Routing],
) -> None:
    candidates, routing = world
    decision = _plan(world)
    parts = [a.candidate for a in decision.assigned], list(decision.waiting), list(decision.unrouted)
    assert sorted(c.contact_id for part in parts for c in part) == sorted(c.contact_id for c in candidates)
    for part in parts:
        assert part == sorted(part, key=queue_order)
    # Hand-raisers first, then engagement, tier, profile.
    assert all(a.candidate.hand_raiser for a in decision.assigned[: sum(c.hand_raiser for c in parts[0])])
    # A waiting lead had no owner with room: every owner it could reach is full after the plan.
    taken = Counter(a.owner_id for a in decision.assigned)
    for lead in decision.waiting:
        assert not lead.hand_raiser
        reachable = _reachable(lead, routing)
        assert reachable
        assert all(routing.capacity[o] - routing.load.get(o, 0) - taken[o] <= 0 for o in reachable)
    assert all(not _reachable(c, routing) for c in decision.unrouted)


@given(worlds())
def test_with_one_pool_the_selected_leads_are_the_top_of_the_queue(
    world: tuple[list[HandoffCandidate], Routing],
) -> None:
    candidates, _ = world
    pool = Routing(("round_robin",), (1,), {1: 5}, {1: 2}, {c.contact_id: (None, None) for c in candidates})
    decision = plan_handoffs(candidates, pool, default_model())
    leads = sorted((c for c in candidates if not c.hand_raiser), key=queue_order)
    chosen = [a.candidate for a in decision.assigned if not a.candidate.hand_raiser]
    assert chosen == leads[: len(chosen)]
    assert all(c.engagement <= decision.effective_threshold for c in decision.waiting)


@given(worlds())
def test_the_threshold_stays_between_floor_and_ceiling(world: tuple[list[HandoffCandidate], Routing]) -> None:
    capacity = default_model().handoff.capacity
    decision = _plan(world)
    assert capacity.floor <= decision.effective_threshold <= capacity.ceiling
    if decision.waiting:
        # Every lead that got a task within capacity scores at least the threshold, or came in below the floor.
        assert all(
            a.candidate.engagement >= decision.effective_threshold or a.candidate.engagement < capacity.floor
            for a in decision.assigned
            if not a.candidate.hand_raiser and a.candidate.engagement >= capacity.floor
        )


@settings(max_examples=50)
@given(worlds(), st.randoms(use_true_random=False))
def test_the_plan_is_deterministic(world: tuple[list[HandoffCandidate], Routing], rnd: random.Random) -> None:
    candidates, routing = world
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    assert plan_handoffs(shuffled, routing, default_model()) == _plan(world)


# -- account tasks (plan_accounts after the contacts' plan, on the same routing) ------------------------------


@st.composite
def worlds_with_accounts(
    draw: st.DrawFn,
) -> tuple[list[HandoffCandidate], Routing, list[AccountCandidate], frozenset[int]]:
    candidates, routing = draw(worlds())
    contact_ids = st.one_of(st.sampled_from([c.contact_id for c in candidates] or [1]), st.integers(1, 10**6))
    accounts = draw(
        st.lists(
            st.builds(
                AccountCandidate,
                company_id=st.integers(1, 10**4),
                owner_id=MAYBE_OWNER,
                engagement=st.integers(0, 100),
                profile=st.integers(0, 100),
                tier=st.sampled_from(list(Tier)),
                segment=st.sampled_from(("A1", "A2", "B1")),
                members=st.lists(contact_ids, unique=True, max_size=5).map(tuple),
            ),
            max_size=12,
            unique_by=lambda a: a.company_id,
        )
    )
    open_contacts = frozenset(draw(st.lists(contact_ids, max_size=6)))
    return candidates, routing, accounts, open_contacts


def _plan_both(
    world: tuple[list[HandoffCandidate], Routing, list[AccountCandidate], frozenset[int]],
) -> tuple[HandoffDecision, AccountDecision]:
    candidates, routing, accounts, open_contacts = world
    contacts = plan_handoffs(candidates, routing, default_model())
    return contacts, plan_accounts(accounts, routing, contacts, open_contacts=open_contacts)


@given(worlds_with_accounts())
def test_account_tasks_count_against_capacity_and_never_exceed_it(
    world: tuple[list[HandoffCandidate], Routing, list[AccountCandidate], frozenset[int]],
) -> None:
    _, routing, accounts, _ = world
    contacts, decision = _plan_both(world)
    # Within capacity: the leads without an exemption and every account task; the exemptions are leads only.
    within = Counter(a.owner_id for a in contacts.assigned if a.over_capacity is None)
    within.update(a.owner_id for a in decision.assigned)
    for owner, n in within.items():
        assert n <= max(0, routing.capacity[owner] - routing.load.get(owner, 0))
    # Every account is decided once; an account task goes to its company's owner, never to another.
    parts = [a.candidate for a in decision.assigned], decision.waiting, decision.unrouted
    decided = [a.company_id for part in parts for a in part] + [c.company_id for c in decision.covered]
    assert sorted(decided) == sorted(a.company_id for a in accounts)
    assert all(a.owner_id == a.candidate.owner_id for a in decision.assigned)
    taken = Counter(a.owner_id for a in contacts.assigned) + Counter(a.owner_id for a in decision.assigned)
    for waiting in decision.waiting:
        assert waiting.owner_id is not None
        full = routing.capacity[waiting.owner_id] - routing.load.get(waiting.owner_id, 0) - taken[waiting.owner_id]
        assert full <= 0
    assert all(a.owner_id is None or a.owner_id not in routing.capacity for a in decision.unrouted)


@given(worlds_with_accounts())
def test_a_buying_center_with_a_contact_task_gets_no_account_task(
    world: tuple[list[HandoffCandidate], Routing, list[AccountCandidate], frozenset[int]],
) -> None:
    _, _, accounts, open_contacts = world
    contacts, decision = _plan_both(world)
    new = {a.candidate.contact_id for a in contacts.assigned}
    covered = {c.company_id: c for c in decision.covered}
    for account in accounts:
        tasked = [c for c in account.members if c in new or c in open_contacts]
        assert (account.company_id in covered) == bool(tasked)
        if tasked:
            cover = covered[account.company_id]
            assert cover.contact_id in account.members
            assert cover.new_task == any(c in new for c in account.members)


@settings(max_examples=50)
@given(worlds_with_accounts(), st.randoms(use_true_random=False))
def test_the_account_plan_is_deterministic(
    world: tuple[list[HandoffCandidate], Routing, list[AccountCandidate], frozenset[int]], rnd: random.Random
) -> None:
    candidates, routing, accounts, open_contacts = world
    shuffled_candidates, shuffled_accounts = list(candidates), list(accounts)
    rnd.shuffle(shuffled_candidates)
    rnd.shuffle(shuffled_accounts)
    assert _plan_both((shuffled_candidates, routing, shuffled_accounts, open_contacts)) == _plan_both(world)
