"""Worked example 7 (the seller factor) through the sandbox portal: the owners' open hubsync tasks are read from
HubSpot, and free sales capacity decides how many of ten sales-ready leads get a task (acceptance 5)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.push import push
from hubsync.records import ActivityKind
from hubsync.sandbox.server import Sandbox
from hubsync.settings import Settings
from hubsync.store.tables import contact_score_t, owner_t

from .push_world import activity, score, settings, start_world, tasks_in_db

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
ANNA, BEN = 1, 2
COMPANY = 500
# (email opens, email clicks) on top of a consultation request (+50, 20 days ago) and a webinar attended (+20):
# engagement 70 + 2 * opens + 3 * clicks, ten sales-ready leads between 72 and 89 (below the ceiling of 90).
READY = [(1, 0), (2, 0), (1, 1), (3, 0), (2, 1), (4, 0), (5, 0), (5, 1), (5, 2), (5, 3)]
READY_SCORES = [72, 74, 75, 76, 77, 78, 80, 83, 86, 89]
# Warm leads (MQL) on a consultation request alone: 50 + 2 * opens + 3 * clicks (+ 20 for a webinar): 61, 65, 70.
WARM = [(4, 1, False), (3, 3, False), (0, 0, True)]
WARM_SCORES = [61, 65, 70]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def portal_doc(open_per_owner: int) -> str:
    """Two owners (capacity 20 each by default), 13 leads at one well-fitting company; each owner already has
    `open_per_owner` open hubsync tasks in HubSpot, on contacts hubsync's database does not know."""
    leads = [
        {"id": 2000 + i, "properties": {"email": f"lead{i}@acme.example", "firstname": "Lead", "lastname": str(i),
                                        "hubspot_owner_id": str(ANNA if i % 2 else BEN)}}
        for i in range(len(READY) + len(WARM))
    ]  # fmt: skip
    others = [
        {"id": 3000 + i, "properties": {"email": f"other{i}@elsewhere.example"}} for i in range(2 * open_per_owner)
    ]
    open_tasks = [
        {
            "id": 6000 + i,
            "properties": {
                "hs_task_subject": f"[hubsync] A1 lead, engagement 90: Other {i} (sales_ready)",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
                "hs_timestamp": iso(NOW + timedelta(days=1)),
                "hubspot_owner_id": str(ANNA if i < open_per_owner else BEN),
            },
        }
        for i in range(2 * open_per_owner)
    ]
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": iso(NOW)},
            "owners": [
                {"id": ANNA, "email": "anna@acme.example", "firstName": "Anna"},
                {"id": BEN, "email": "ben@acme.example", "firstName": "Ben"},
            ],
            "objects": {
                "contacts": leads + others,
                "companies": [
                    {
                        "id": COMPANY,
                        "properties": {"name": "Acme", "numberofemployees": "500", "industry": "COMPUTER_SOFTWARE"},
                    }
                ],
                "tasks": open_tasks,
            },
            "associations": [
                *(["contacts", lead["id"], "companies", COMPANY, True] for lead in leads),
                *(["tasks", 6000 + i, "contacts", 3000 + i, False] for i in range(2 * open_per_owner)),
            ],
        }
    )


def lead_activities() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []

    def add(contact_id: int, kind: ActivityKind, days_ago: float, **attrs: str) -> None:
        rows.append(
            activity(f"test:{contact_id}:{len(rows)}", contact_id, kind, NOW - timedelta(days=days_ago), **attrs)
        )

    specs = [(opens, clicks, True) for opens, clicks in READY] + WARM
    for i, (opens, clicks, webinar) in enumerate(specs):
        contact_id = 2000 + i
        # 20 days ago: full points (30 days of grace), but no longer a hand-raiser (14 days), who would bypass
        # the capacity this example is about.
        add(contact_id, ActivityKind.FORM_SUBMISSION, 20, form_name="Beratung vereinbaren", url="https://x.example/b")
        if webinar:
            add(contact_id, ActivityKind.MARKETING_EVENT, 3, event_type="attended", event_name="Webinar")
        for _ in range(opens):
            add(contact_id, ActivityKind.EMAIL_EVENT, 2, event_type="open")
        for _ in range(clicks):
            add(contact_id, ActivityKind.EMAIL_EVENT, 2, event_type="click")
    return rows


@dataclass
class Floor:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    cfg: Settings

    def scores(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return {r.contact_id: r.engagement for r in conn.execute(sa.select(contact_score_t))}

    def task_contacts(self) -> set[int]:
        """Contacts (among the leads) with a hubsync task in the portal."""
        out: set[int] = set()
        for task in self.sb.portal.stores["tasks"].by_id.values():
            if task.props.get("hs_task_subject", "").startswith("[hubsync]"):
                out.update(c for c in self.sb.portal.assoc.of("tasks", task.id, "contacts") if c < 3000)
        return out


@pytest.fixture
def make_floor(database_url: str) -> Iterator[Callable[[int], Floor]]:
    with ExitStack() as stack:

        def make(open_per_owner: int) -> Floor:
            cfg = settings()
            sb, engine, client = start_world(stack, portal_doc(open_per_owner), database_url, cfg, lead_activities())
            score(engine, cfg, NOW)
            return Floor(sb, engine, client, cfg)

        yield make


def test_example_7_tight_capacity_raises_the_threshold(make_floor: Callable[[int], Floor]) -> None:
    floor = make_floor(18)
    scores = floor.scores()
    ready = {2000 + i: scores[2000 + i] for i in range(len(READY))}
    assert sorted(ready.values()) == READY_SCORES
    assert [scores[2000 + len(READY) + i] for i in range(len(WARM))] == WARM_SCORES

    result = push(floor.client, floor.engine, floor.cfg, now=NOW)
    assert result.tasks is not None
    # Open hubsync tasks per owner come from HubSpot: 18 each of 20 → free capacity 2 + 2 = 4.
    assert result.tasks.open_by_owner == {ANNA: 18, BEN: 18}
    assert result.free_capacity == 4
    assert result.tasks_created == 4
    top4 = sorted(ready, key=ready.__getitem__, reverse=True)[:4]
    assert floor.task_contacts() == set(top4)
    # The threshold rises to the fourth candidate's score.
    assert result.effective_threshold == sorted(ready.values(), reverse=True)[3] == 80
    with floor.engine.connect() as conn:
        load = {r.id: r.open_tasks for r in conn.execute(sa.select(owner_t))}
    assert sum(load.values()) == 36 + 4
    # The 36 tasks hubsync did not know locally are now tracked, so those contacts never get a second one.
    assert len([t for t in tasks_in_db(floor.engine) if t.state == "open"]) == 40

    # Nothing freed up: the next cycle creates nothing, the waiting leads keep waiting.
    again = push(floor.client, floor.engine, floor.cfg, now=NOW)
    assert (again.tasks_created, again.free_capacity) == (0, 0)
    assert again.effective_threshold == 90  # no capacity: only leads at the ceiling would pass

    # Sales closes five of Anna's older tasks in HubSpot: capacity is per owner, so Anna's waiting leads (all four
    # of them, best first) are handed over to her; Ben's keep waiting for Ben, who is still full (no company owner
    # and no round robin to go to instead).
    anna_old = [floor.sb.portal.stores["tasks"].by_id[6000 + i] for i in range(5)]
    for task in anna_old:
        floor.sb.portal.update("tasks", task.id, {"hs_task_status": "COMPLETED"})
    freed = push(floor.client, floor.engine, floor.cfg, now=NOW)
    assert freed.tasks is not None
    assert freed.tasks.completed == 5
    assert freed.free_capacity == 5
    anna_waiting = set(range(2001, 2000 + len(READY) + len(WARM), 2)) - set(top4)
    assert freed.tasks_created == len(anna_waiting) == 4
    assert floor.task_contacts() == set(top4) | anna_waiting
    assert freed.tasks.waiting == len(READY) + len(WARM) - len(top4) - len(anna_waiting)


def test_example_7_spare_capacity_takes_all_ten_and_leads_down_to_the_floor(make_floor: Callable[[int], Floor]) -> None:
    floor = make_floor(0)
    result = push(floor.client, floor.engine, floor.cfg, now=NOW)
    assert result.tasks is not None
    assert result.free_capacity == 40
    assert result.effective_threshold == 61
    assert result.tasks_created == len(READY) + len(WARM)
    assert floor.task_contacts() == {2000 + i for i in range(len(READY) + len(WARM))}
