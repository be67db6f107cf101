"""The simulated sales team (`hubsync.sandbox.sales`): deterministic, lifecycle stages forward only with their dates,
deals by hidden intent, its work visible through HubSpot's API, and blind to everything hubsync writes."""

from __future__ import annotations

import inspect
import random
import re

import requests
from hubspot import HubSpot

from hubsync.render.task_text import MARKER
from hubsync.sandbox import Portal, generate_portal, sales, schema, snapshot, start_sandbox
from hubsync.sandbox.personas import PERSONAS
from hubsync.sandbox.portal import MS_PER_DAY, iso_instant
from hubsync.sandbox.sales import LIFECYCLE_ORDER, SalesBehaviour, SalesDay, intent_of, rep_profile, sales_day
from hubsync.sandbox.simulate import Simulation, simulate

DATED_STAGES = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")


def run_days(portal: Portal, days: int, seed: int, behaviour: SalesBehaviour | None = None) -> list[SalesDay]:
    rng = random.Random(seed)  # noqa: S311  (seeded simulation, not secrets)
    out = []
    for _ in range(days):
        portal.advance(MS_PER_DAY / 1000)
        out.append(sales_day(portal, rng, behaviour))
    return out


def task_for(portal: Portal, contact_id: int, owner_id: int, *, priority: str = "HIGH") -> int:
    props = {
        "hs_task_subject": "Rückruf",
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": priority,
        "hs_timestamp": iso_instant(portal.now + MS_PER_DAY),
        "hubspot_owner_id": str(owner_id),
    }
    return portal.create(schema.TASKS, props, associations=[(schema.CONTACTS, contact_id)]).id


def test_the_same_seeds_give_the_same_days_and_portal() -> None:
    first, second, other = generate_portal(300, 4), generate_portal(300, 4), generate_portal(300, 4)
    days = run_days(first, 20, seed=1)
    assert days == run_days(second, 20, seed=1)
    assert snapshot.dumps(first) == snapshot.dumps(second)
    assert SalesDay.total(days).tasks_completed > 0
    assert run_days(other, 20, seed=2) != days


def test_stepping_hour_by_hour_gives_what_whole_days_give() -> None:
    whole, hourly = generate_portal(200, 6), generate_portal(200, 6)
    result = simulate(whole, days=6, seed=3, buyers=4, arrivals=2.0, sales=SalesBehaviour())
    run = Simulation(hourly, days=6, seed=3, buyers=4, arrivals=2.0, sales=SalesBehaviour())
    for hour in range(1, 6 * 24 + 1):
        run.run_until(run.start + hour * 3_600_000)
    assert run.result() == result
    assert snapshot.dumps(whole) == snapshot.dumps(hourly)
    assert len(result.sales) == 6
    assert len(result.arrivals) >= 6
    # Contacts that arrive and simulate's buyers carry an intent, as the generated ones do.
    assert all(whole.intent[c] for c in result.arrivals)
    assert {whole.intent[b] for b in result.buyers} == {"buyer"}


def test_intent_is_kept_in_snapshots_and_given_to_contacts_created_later() -> None:
    portal = generate_portal(120, 8)
    live = portal.store(schema.CONTACTS).live
    assert all(portal.intent.get(c) in dict(PERSONAS) for c in live)
    assert snapshot.loads(snapshot.dumps(portal)).intent == portal.intent
    created = portal.create(schema.CONTACTS, {"email": "neu@firma.example"}).id
    again = generate_portal(120, 8)
    again.create(schema.CONTACTS, {"email": "neu@firma.example"})
    assert intent_of(portal, created) == intent_of(again, created)
    assert snapshot.loads(snapshot.dumps(portal)).intent[created] == portal.intent[created]


def test_lifecycle_stages_only_move_forward_and_each_entered_stage_has_its_date() -> None:
    portal = generate_portal(400, 12)
    contacts = portal.store(schema.CONTACTS)
    owners = [o.id for o in portal.owners]
    # Enough work for the reps: a task for every fifth contact, plus the generated ones.
    for n, contact_id in enumerate(contacts.live[::5]):
        task_for(portal, contact_id, owners[n % len(owners)])
    before = {c: contacts.by_id[c].props.get("lifecyclestage", "") for c in contacts.live}
    seen = dict(before)
    moves = 0
    rng = random.Random(5)  # noqa: S311  (seeded simulation, not secrets)
    for _ in range(40):
        portal.advance(86_400)
        moves += sales_day(portal, rng).lifecycle_moves
        for contact_id, stage in seen.items():
            now_stage = contacts.by_id[contact_id].props.get("lifecyclestage", "")
            assert LIFECYCLE_ORDER.index(now_stage) >= LIFECYCLE_ORDER.index(stage), (contact_id, stage, now_stage)
            seen[contact_id] = now_stage
    assert moves > 50
    for contact_id, stage in seen.items():
        props = contacts.by_id[contact_id].props
        stamped = [s for s in DATED_STAGES if f"hs_lifecyclestage_{s}_date" in props]
        if stage != before[contact_id]:
            assert stage in stamped, (contact_id, stage, props)
        # Stamped dates follow the stages' order, and no stage beyond the current one is stamped.
        dates = [props[f"hs_lifecyclestage_{s}_date"] for s in stamped]
        assert dates == sorted(dates)
        assert all(LIFECYCLE_ORDER.index(s) <= LIFECYCLE_ORDER.index(stage) for s in stamped)


def test_buyers_get_far_more_deals_than_researchers() -> None:
    """200 contacts of each intent get a task; after 30 sales days the buyers' deal rate must exceed the researchers'
    by 0.12. With one true rate for both (say 0.1), a gap that large is 3.5 standard deviations: not luck."""
    portal = generate_portal(1500, 21)
    contacts = portal.store(schema.CONTACTS)
    owners = [o.id for o in portal.owners]
    no_deal = [c for c in contacts.live if not portal.assoc.of(schema.CONTACTS, c, schema.DEALS)]
    chosen = {"buyer": no_deal[:400:2][:200], "researcher": no_deal[1:400:2][:200]}
    for intent, ids in chosen.items():
        for n, contact_id in enumerate(ids):
            portal.intent[contact_id] = intent
            task_for(portal, contact_id, owners[n % len(owners)])
    run_days(portal, 30, seed=9)
    rate = {
        intent: sum(1 for c in ids if portal.assoc.of(schema.CONTACTS, c, schema.DEALS)) / len(ids)
        for intent, ids in chosen.items()
    }
    assert len(chosen["buyer"]) == len(chosen["researcher"]) == 200
    assert rate["buyer"] >= rate["researcher"] + 0.12, rate
    won = [
        d
        for d in portal.store(schema.DEALS).live
        if portal.store(schema.DEALS).by_id[d].created > portal.now - 30 * MS_PER_DAY
        and portal.store(schema.DEALS).by_id[d].props["dealstage"] == "closedwon"
    ]
    for deal_id in won:
        for contact_id in portal.assoc.of(schema.DEALS, deal_id, schema.CONTACTS):
            assert contacts.by_id[contact_id].props["lifecyclestage"] == "customer"


def test_completed_tasks_and_logged_calls_are_visible_through_the_api() -> None:
    portal = generate_portal(150, 3)
    diligent = next(o.id for o in portal.owners if rep_profile(portal, o.id, SalesBehaviour()).name == "diligent")
    contact_id = portal.store(schema.CONTACTS).live[0]
    task_id = task_for(portal, contact_id, diligent)
    with start_sandbox(portal=portal, rate_limits=False) as sb:
        client = HubSpot(access_token=sb.token, host=sb.url, base_url=sb.url)
        done: dict[str, int] = {}
        for _ in range(30):
            portal.advance(86_400)
            answer = requests.post(f"{sb.url}/__sandbox__/sales-day", json={"seed": 4}, timeout=10)
            assert answer.status_code == 200, answer.text
            for name, value in answer.json().items():
                done[name] = done.get(name, 0) + value
            if portal.store(schema.TASKS).by_id[task_id].props.get("hs_task_status") == "COMPLETED":
                break
        task = client.crm.objects.tasks.basic_api.get_by_id(
            str(task_id), properties=["hs_task_status", "hs_task_completion_date", "hs_lastmodifieddate"]
        )
        assert task.properties["hs_task_status"] == "COMPLETED"
        assert task.properties["hs_task_completion_date"] == task.properties["hs_lastmodifieddate"]
        calls = client.crm.objects.calls.basic_api.get_page(
            limit=100, properties=["hubspot_owner_id", "hs_timestamp"], associations=["contacts"]
        ).results
        logged = [
            c
            for c in calls
            if c.associations and any(int(a.id) == contact_id for a in c.associations["contacts"].results)
        ]
        assert logged
        assert {c.properties["hubspot_owner_id"] for c in logged} == {str(diligent)}
        contact = client.crm.contacts.basic_api.get_by_id(str(contact_id), properties=["hs_lead_status"])
        assert contact.properties["hs_lead_status"] in {"ATTEMPTED_TO_CONTACT", "CONNECTED", "IN_PROGRESS",
                                                        "OPEN_DEAL", "UNQUALIFIED", "BAD_TIMING"}  # fmt: skip
        assert done["tasks_completed"] >= 1
        # The hidden intent is no property of the portal.
        names = {p.name for p in client.crm.properties.core_api.get_all("contacts").results}
        assert not {n for n in names if re.search("intent|persona", n)}


def test_the_simulation_never_reads_what_hubsync_writes() -> None:
    source = inspect.getsource(sales)
    assert "hubsync_" not in source
    assert MARKER not in source
    assert "hubsync.render" not in source
    assert "hubsync.store" not in source
    # Behaviour: hubsync's properties with arbitrary values and hubsync-looking task subjects change nothing.
    plain, scored = generate_portal(300, 14), generate_portal(300, 14)
    noise = random.Random(0)  # noqa: S311  (seeded simulation, not secrets)
    for object_type in (schema.CONTACTS, schema.COMPANIES):
        for object_id in scored.store(object_type).live:
            scored.store(object_type).by_id[object_id].props.update(
                hubsync_engagement_score=str(noise.randrange(100)),
                hubsync_segment=noise.choice(["A1", "B2", "D4"]),
                hubsync_lead_status=noise.choice(["nurture", "mql", "sales_ready"]),
                hubsync_surge=noise.choice(["true", "false"]),
            )
    owners = [o.id for o in plain.owners]
    for portal in (plain, scored):
        for n, contact_id in enumerate(portal.store(schema.CONTACTS).live[::4]):
            task_id = task_for(portal, contact_id, owners[n % len(owners)])
            if portal is scored:
                subject = f"{MARKER} A1 lead, engagement {noise.randrange(100)}: someone (sales_ready)"
                portal.store(schema.TASKS).by_id[task_id].props["hs_task_subject"] = subject
    assert run_days(plain, 25, seed=6) == run_days(scored, 25, seed=6)
    for object_type in (schema.CONTACTS, schema.COMPANIES, schema.DEALS):
        assert _without_hubsync(plain, object_type) == _without_hubsync(scored, object_type)


def _without_hubsync(portal: Portal, object_type: str) -> dict[int, dict[str, str]]:
    store = portal.store(object_type)
    return {
        i: {k: v for k, v in store.by_id[i].props.items() if not k.startswith("hubsync_")} for i in sorted(store.by_id)
    }


def test_deals_close_on_their_close_date_and_stages_only_advance() -> None:
    portal = generate_portal(600, 2)
    deals = portal.store(schema.DEALS)
    open_stages = sales.OPEN_DEAL_STAGES
    stages = {d: deals.by_id[d].props["dealstage"] for d in deals.live}
    open_at_start = {d for d, s in stages.items() if s in open_stages}
    rng = random.Random(3)  # noqa: S311  (seeded simulation, not secrets)
    for _ in range(120):
        portal.advance(86_400)
        sales_day(portal, rng)
        for deal_id in deals.live:
            before, after = stages.get(deal_id), deals.by_id[deal_id].props["dealstage"]
            if before in open_stages and after in open_stages:
                assert open_stages.index(after) >= open_stages.index(before)
            elif before is not None and before not in open_stages:
                assert after == before  # closed stays closed
            if after not in open_stages and (before is None or before in open_stages):
                # Closed today: the close date is today, never before the deal existed.
                assert deals.by_id[deal_id].props["closedate"] == iso_instant(portal.now)
            stages[deal_id] = after
    closed = {d for d in open_at_start if stages[d] not in open_stages}
    assert open_at_start
    assert closed
    assert all(deals.by_id[d].props["pipeline"] == "default" for d in deals.live)
