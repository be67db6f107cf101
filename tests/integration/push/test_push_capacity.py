"""Capacity per owner and hand-raisers through the sandbox portal with real tasks, on SQLite and PostgreSQL: worked
examples 12 (a full owner is skipped) and 13 (a hand-raiser outside the ICP; a competitor's held back), and what
`hubsync status` shows of them: leads waiting for capacity, owners beyond capacity and why, hand-raisers not handed
over and why."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.push import PushResult, push
from hubsync.jobs.status import collect
from hubsync.records import ActivityKind
from hubsync.render.status import render
from hubsync.sandbox.records import CrmObject
from hubsync.sandbox.server import Sandbox
from hubsync.scoring import ScoringModel
from hubsync.settings import Settings
from hubsync.validation import parse
from tests.support.paths import DEFAULT_CONFIG
from tests.unit.scoring.scoring_builders import raw_scoring

from .push_world import activity, score, settings, start_world

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
X, Y = 1, 2
ACME, RETAIL, RIVAL = 500, 501, 502
# Three hot leads of X's (80: sales_ready, below the ceiling), a ceiling lead of X's (94), a lead without any owner.
HOT, CEILING, ORPHAN = (2001, 2002, 2003), 2004, 2005
# The CEO of a 30-person retailer (fit red) and the CEO of a competitor, both asking for a demo today.
RETAIL_CEO, RIVAL_CEO = 2101, 2102
# Contacts hubsync does not know, holding X's two open hubsync tasks.
OTHERS = (3000, 3001)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _contact(contact_id: int, email: str, first: str, last: str, owner: int | None) -> dict[str, object]:
    """A contact of the snapshot format: a CEO, owned by `owner`."""
    props = {"email": email, "firstname": first, "lastname": last, "jobtitle": "CEO"}
    if owner is not None:
        props["hubspot_owner_id"] = str(owner)
    return {"id": contact_id, "properties": props}


def portal_doc() -> str:
    """Owners X (two open hubsync tasks already) and Y (none); companies without an owner."""
    contacts = [
        *(_contact(c, f"lead{c}@acme.example", "Hot", f"Lead {c}", X) for c in HOT),
        _contact(CEILING, "ceiling@acme.example", "Cora", "Ceiling", X),
        _contact(ORPHAN, "orphan@acme.example", "Otto", "Orphan", None),
        _contact(RETAIL_CEO, "ceo@retail.example", "Rita", "Retail", X),
        _contact(RIVAL_CEO, "ceo@rival.example", "Rolf", "Rival", X),
        *({"id": c, "properties": {"email": f"other{c}@elsewhere.example"}} for c in OTHERS),
    ]
    company = {"numberofemployees": "500", "industry": "COMPUTER_SOFTWARE"}
    companies = [
        {"id": ACME, "properties": {"name": "Acme", "domain": "acme.example", **company}},
        {"id": RETAIL, "properties": {"name": "Retail", "domain": "retail.example", "numberofemployees": "30",
                                      "industry": "RETAIL"}},
        {"id": RIVAL, "properties": {"name": "Rival", "domain": "rival.example", **company}},
    ]  # fmt: skip
    open_tasks = [
        {
            "id": 6000 + i,
            "properties": {
                "hs_task_subject": f"[hubsync] A1 lead, engagement 90: Other {c} (sales_ready)",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
                "hs_timestamp": iso(NOW + timedelta(days=1)),
                "hubspot_owner_id": str(X),
            },
        }
        for i, c in enumerate(OTHERS)
    ]
    primary = {**dict.fromkeys((*HOT, CEILING, ORPHAN), ACME), RETAIL_CEO: RETAIL, RIVAL_CEO: RIVAL}
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": iso(NOW)},
            "owners": [
                {"id": X, "email": "x@acme.example", "firstName": "Xaver", "lastName": "Full"},
                {"id": Y, "email": "y@acme.example", "firstName": "Yvonne", "lastName": "Free"},
            ],
            "objects": {"contacts": contacts, "companies": companies, "tasks": open_tasks},
            "associations": [
                *(["contacts", c, "companies", co, True] for c, co in primary.items()),
                *(["tasks", 6000 + i, "contacts", c, False] for i, c in enumerate(OTHERS)),
            ],
        }
    )


def activities() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []

    def add(contact_id: int, kind: ActivityKind, days_ago: float, **attrs: str) -> None:
        rows.append(activity(f"t:{contact_id}:{len(rows)}", contact_id, kind, NOW - timedelta(days=days_ago), **attrs))

    # Hot leads: a consultation request 20 days ago (+50; beyond the 14 hand-raiser days), a webinar (+20), five
    # email opens (+10) = 80. The ceiling lead: two webinars (+40) and two opens instead = 94.
    for contact_id, webinars, opens in [*((c, 1, 5) for c in (*HOT, ORPHAN)), (CEILING, 2, 2)]:
        add(contact_id, ActivityKind.FORM_SUBMISSION, 20, form_name="Beratung vereinbaren", url="https://x.example/b")
        for w in range(webinars):
            add(contact_id, ActivityKind.MARKETING_EVENT, 3 + w, event_type="attended", event_name=f"Webinar {w}")
        for _ in range(opens):
            add(contact_id, ActivityKind.EMAIL_EVENT, 2, event_type="open")
    for contact_id in (RETAIL_CEO, RIVAL_CEO):
        add(contact_id, ActivityKind.FORM_SUBMISSION, 0.1, form_name="Demo anfragen", url="https://x.example/demo")
    return rows


def world_settings(round_robin: Sequence[str], x_capacity: int = 2) -> Settings:
    """The default configuration with X's capacity 2, Y's 10, rival.example a competitor, and a round robin."""
    data = raw_scoring()
    data["handoff"]["capacity"]["owners"] = {"x@acme.example": x_capacity, "y@acme.example": 10}
    data["profile"]["gates"]["competitor_domains"] = ["rival.example"]
    model = parse(ScoringModel, data, source=str(DEFAULT_CONFIG), prefix=("scoring",))
    base = settings(tasks={"round_robin_owners": tuple(round_robin)})
    return Settings(config=base.config.model_copy(update={"scoring": model}), config_source=base.config_source)


@dataclass
class World:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    cfg: Settings

    def push(self) -> PushResult:
        return push(self.client, self.engine, self.cfg, now=NOW)

    def tasks_of(self, contact_id: int) -> list[CrmObject]:
        return [
            t
            for t in self.sb.portal.stores["tasks"].by_id.values()
            if t.props.get("hs_task_subject", "").startswith("[hubsync]")
            and contact_id in self.sb.portal.assoc.of("tasks", t.id, "contacts")
        ]

    def owner_of_task(self, contact_id: int) -> int:
        (task,) = self.tasks_of(contact_id)
        return int(task.props["hubspot_owner_id"])


@pytest.fixture
def make_world(database_url: str) -> Iterator[Callable[..., World]]:
    with ExitStack() as stack:

        def make(round_robin: Sequence[str], x_capacity: int = 2) -> World:
            cfg = world_settings(round_robin, x_capacity)
            sb, engine, client = start_world(stack, portal_doc(), database_url, cfg, activities())
            score(engine, cfg, NOW)
            return World(sb, engine, client, cfg)

        yield make


def test_example_12_leads_of_a_full_owner_go_to_the_next_route(make_world: Callable[..., World]) -> None:
    world = make_world(("x@acme.example", "y@acme.example"))
    result = world.push()
    assert result.tasks is not None
    assert result.tasks.open_by_owner == {X: 2}
    # X is full (2 of 2); the companies have no owner; the round robin skips X and takes Y.
    assert {c: world.owner_of_task(c) for c in HOT} == dict.fromkeys(HOT, Y)
    assert result.tasks.over_capacity == 0
    assert result.tasks.waiting == 0
    # No task takes X beyond capacity: everything went to Y, who had room.
    assert all(int(t.props["hubspot_owner_id"]) == Y for c in (*HOT, CEILING, ORPHAN) for t in world.tasks_of(c))


def test_example_13_a_hand_raiser_outside_the_icp_gets_a_low_task_a_competitor_none(
    make_world: Callable[..., World],
) -> None:
    world = make_world(("x@acme.example", "y@acme.example"))
    world.push()
    (task,) = world.tasks_of(RETAIL_CEO)
    assert task.props["hs_task_priority"] == "LOW"
    assert task.props["hs_task_subject"].startswith("[hubsync] hand-raiser outside ICP (fit red): Rita Retail")
    assert world.tasks_of(RIVAL_CEO) == []
    # Held back, and listed in status.
    report = collect(world.engine, world.cfg.config, now=NOW)
    assert [(n["name"], n["why"], n["hand_raiser"]) for n in report.not_handed_over] == [
        ("Rolf Rival", "competitor domain", True)
    ]
    assert "hand-raiser Rolf Rival (engagement 50): competitor domain" in render(report)


def test_status_shows_waiting_leads_overloaded_owners_and_held_hand_raisers(
    make_world: Callable[..., World],
) -> None:
    # No round robin: X's leads have nowhere else to go.
    world = make_world(())
    result = world.push()
    assert result.tasks is not None
    # X takes the ceiling lead and the hand-raiser beyond capacity; the three hot leads wait.
    assert world.owner_of_task(CEILING) == world.owner_of_task(RETAIL_CEO) == X
    assert all(world.tasks_of(c) == [] for c in (*HOT, ORPHAN, RIVAL_CEO))
    assert (result.tasks.waiting, result.tasks.over_capacity) == (3, 2)

    report = collect(world.engine, world.cfg.config, now=NOW, top=2)
    assert report.waiting_for_capacity == 3
    # The best two by engagement (equal: by contact id), by name, with whose capacity they wait for.
    assert [(w["name"], w["why"]) for w in report.waiting] == [
        ("Hot Lead 2001", "Xaver Full holds 4 of 2 open tasks; no other route has room"),
        ("Hot Lead 2002", "Xaver Full holds 4 of 2 open tasks; no other route has room"),
    ]
    (over,) = report.overloaded_owners
    assert (over["name"], over["open_tasks"], over["capacity"], over["over"]) == ("Xaver Full", 4, 2, 2)
    assert over["through"] == {"ceiling lead": 1, "hand-raiser": 1}
    assert report.not_handed_over_count == 2
    assert {(n["name"], n["why"], n["hand_raiser"]) for n in report.not_handed_over} == {
        ("Rolf Rival", "competitor domain", True),
        ("Otto Orphan", "no owner: no route names an active owner", False),
    }

    text = render(report)
    assert "waiting for capacity: 3 lead(s)" in text
    assert "  Hot Lead 2001 (engagement 80): Xaver Full holds 4 of 2 open tasks; no other route has room" in text
    assert "  … and 1 more" in text
    assert (
        "  Xaver Full: 4 open hubsync tasks, capacity 2 (2 over; created beyond capacity: 1 ceiling lead, "
        "1 hand-raiser)"
    ) in text
    assert "  hand-raiser Rolf Rival (engagement 50): competitor domain" in text
    assert "  Otto Orphan (engagement 80): no owner: no route names an active owner" in text
    as_json = json.loads(json.dumps(report.as_json()))
    assert as_json["waiting_for_capacity"] == 3
    assert as_json["overloaded_owners"][0]["through"] == {"ceiling lead": 1, "hand-raiser": 1}

    # Y's capacity does not help X's leads (capacity is per owner); once X's old tasks are done, they go to X.
    for task_id in (6000, 6001):
        world.sb.portal.update("tasks", task_id, {"hs_task_status": "COMPLETED"})
    freed = world.push()
    assert freed.tasks is not None
    assert freed.tasks_created == 0  # X holds 2 (the ceiling lead and the hand-raiser): still full
    after = collect(world.engine, world.cfg.config, now=NOW)
    assert after.waiting_for_capacity == 3
    assert after.overloaded_owners == []


def test_status_names_the_owners_own_capacity_when_they_hold_no_open_task(
    make_world: Callable[..., World],
) -> None:
    # X may take no task at all (capacity 0): once the exempt tasks are gone, X holds none and the hot leads wait.
    world = make_world((), x_capacity=0)
    for task_id in (6000, 6001):
        world.sb.portal.update("tasks", task_id, {"hs_task_status": "COMPLETED"})
    world.push()
    for contact_id in (CEILING, RETAIL_CEO):
        (task,) = world.tasks_of(contact_id)
        world.sb.portal.archive("tasks", task.id)
    again = world.push()
    assert again.tasks is not None
    assert again.tasks.open_by_owner == {}
    report = collect(world.engine, world.cfg.config, now=NOW, top=1)
    # X's capacity is X's own (0), not the default a known owner without open tasks used to fall back to.
    assert [(w["name"], w["why"]) for w in report.waiting] == [
        ("Hot Lead 2001", "Xaver Full holds 0 of 0 open tasks; no other route has room")
    ]
