"""Account tasks through the sandbox portal with real tasks, on SQLite and PostgreSQL (scoring.md §6): a buying
center active in a handoff segment gets exactly one task for the company's owner, on the company, listing its engaged
contacts and the missing personas; never a second one in the episode; none when one of its contacts is handed over
(that task names the buying center); waiting for the owner's capacity in `status`; settled and crash-safe like the
contacts' tasks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs import task_batches
from hubsync.jobs.explain import explain
from hubsync.jobs.push import PushResult, push
from hubsync.jobs.status import collect
from hubsync.records import ActivityKind
from hubsync.render.explain import explanation_text
from hubsync.render.status import render
from hubsync.sandbox.records import CrmObject
from hubsync.sandbox.server import Sandbox
from hubsync.settings import Settings
from hubsync.store.tables import company_score_t
from tests.support.sandbox import dt_to_ms

from .push_world import (
    BATCH_CREATE,
    activity,
    score,
    settings,
    start_world,
    stat,
    tasks_in_db,
    with_capacity,
    write_rows,
)
from .test_push_capacity import iso

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
KAI, VERA = 78, 77
ACME = 500
ANNA, BEN, CARL = 1001, 1002, 1003
PATCH_OBJECT = "PATCH /crm/v3/objects/{objectType}/{objectId}"


def portal_doc() -> str:
    """Acme (500 employees, software: account profile 80), owned by Kai; three decision makers without an owner of
    their own, none of them an influencer."""
    people = [(ANNA, "Anna", "Alt", "CEO"), (BEN, "Ben", "Berg", "Head of IT"), (CARL, "Carl", "Czech", "CTO")]
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": iso(NOW)},
            "owners": [
                {"id": KAI, "email": "kai.konto@acme.example", "firstName": "Kai", "lastName": "Konto"},
                {"id": VERA, "email": "vera.vertrieb@acme.example", "firstName": "Vera", "lastName": "Vertrieb"},
            ],
            "objects": {
                "contacts": [
                    {
                        "id": i,
                        "properties": {
                            "email": f"{first.lower()}@acme.example",
                            "firstname": first,
                            "lastname": last,
                            "jobtitle": title,
                        },
                    }
                    for i, first, last, title in people
                ],
                "companies": [
                    {
                        "id": ACME,
                        "properties": {
                            "name": "Acme Software GmbH",
                            "domain": "acme.example",
                            "numberofemployees": "500",
                            "industry": "COMPUTER_SOFTWARE",
                            "hubspot_owner_id": str(KAI),
                        },
                    }
                ],
            },
            "associations": [["contacts", i, "companies", ACME, True] for i, *_ in people],
        }
    )


def engaged(contact_id: int, at: datetime, days_back: int = 3) -> list[dict[str, Any]]:
    """Interest, not yet a call for sales: Anna 38, Ben 35, Carl 32 (mql, segment A3, below every trigger), from
    `days_back` days before `at` on."""
    rows = {
        ANNA: [("webinar", "attended"), ("pricing", None), ("email", "click")],
        BEN: [("webinar", "attended"), ("pricing", None)],
        CARL: [("webinar", "registered"), ("pricing", None), ("email", "open")],
    }[contact_id]
    out = []
    for n, (what, kind) in enumerate(rows):
        when = at - timedelta(days=days_back + n)
        key = f"t:{contact_id}:{what}:{at:%j}"
        if what == "webinar":
            out.append(activity(key, contact_id, ActivityKind.MARKETING_EVENT, when, event_type=kind or "",
                                event_name="Lead Scoring in der Praxis"))  # fmt: skip
        elif what == "pricing":
            out.append(activity(key, contact_id, ActivityKind.PAGE_VIEW, when, url="https://www.acme.example/preise"))
        else:
            out.append(activity(key, contact_id, ActivityKind.EMAIL_EVENT, when, event_type=kind or ""))
    return out


def demo_request(contact_id: int, at: datetime) -> list[dict[str, Any]]:
    return [
        activity(f"t:{contact_id}:demo", contact_id, ActivityKind.FORM_SUBMISSION, at, form_name="Beratung vereinbaren")
    ]


@dataclass
class World:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    cfg: Settings

    def cycle(self, at: datetime) -> PushResult:
        self.sb.portal.now = max(self.sb.portal.now, dt_to_ms(at))
        score(self.engine, self.cfg, at)
        return push(self.client, self.engine, self.cfg, now=at)

    def hubsync_tasks(self) -> list[CrmObject]:
        return [
            t
            for t in self.sb.portal.stores["tasks"].by_id.values()
            if t.props.get("hs_task_subject", "").startswith("[hubsync]")
        ]

    def account_tasks(self) -> list[CrmObject]:
        return [t for t in self.hubsync_tasks() if self.sb.portal.assoc.of("tasks", t.id, "companies")]

    def company_row(self) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(company_score_t).where(company_score_t.c.company_id == ACME)).one()

    def explain(self, contact_id: int) -> str:
        found = explain(self.engine, self.cfg.config.scoring, str(contact_id), now=NOW)
        model = self.cfg.config.scoring
        return explanation_text(
            found.contact, found.company, found.explanation, model, account=found.account, handoff=found.handoff
        )


@pytest.fixture
def make_world(database_url: str) -> Iterator[Callable[..., World]]:
    with ExitStack() as stack:

        def make(activities: list[dict[str, Any]], cfg: Settings | None = None) -> World:
            cfg = cfg or settings()
            return World(*start_world(stack, portal_doc(), database_url, cfg, activities), cfg)

        yield make


def everyone_engaged() -> list[dict[str, Any]]:
    return [row for c in (ANNA, BEN, CARL) for row in engaged(c, NOW)]


def test_an_active_buying_center_gets_one_account_task_for_the_company_owner(make_world: Callable[..., World]) -> None:
    world = make_world(everyone_engaged())
    score(world.engine, world.cfg, NOW)
    dry = push(world.client, world.engine, world.cfg, now=NOW, dry_run=True)
    assert dry.tasks is not None
    assert [(c, o) for c, o, _ in dry.tasks.planned_accounts] == [(ACME, KAI)]
    assert "account tasks would create: 1" in "\n".join(dry.tasks.lines())
    assert world.hubsync_tasks() == []
    first = world.cycle(NOW)
    assert first.tasks is not None
    assert (first.tasks_created, first.tasks.accounts_created) == (1, 1)
    (task,) = world.hubsync_tasks()
    props = task.props
    assert props["hubspot_owner_id"] == str(KAI)
    assert world.sb.portal.assoc.of("tasks", task.id, "companies") == [ACME]
    assert world.sb.portal.assoc.of("tasks", task.id, "contacts") == []
    assert props["hs_task_subject"] == (
        "[hubsync] A2 buying center: Acme Software GmbH, 3 engaged contact(s), account engagement 58"
    )
    body = props["hs_task_body"]
    for line in (
        "Anna Alt (CEO): engagement 38, segment A3, mql",
        "Ben Berg (Head of IT): engagement 35, segment A3, mql",
        "Carl Czech (CTO): engagement 32, segment A3, mql",
        "Missing personas: influencer",
    ):
        assert line in body
    assert body.index("Anna Alt") < body.index("Ben Berg") < body.index("Carl Czech")
    (row,) = tasks_in_db(world.engine)
    assert (row.company_id, row.contact_id, row.kind, row.state) == (ACME, None, "account", "open")
    assert row.hubspot_task_id == str(task.id)
    assert world.company_row().account_armed is False

    # The next cycle, and one a day later: the account is handed over already; no create call at all.
    world.sb.reset_stats()
    again, later = world.cycle(NOW + timedelta(hours=1)), world.cycle(NOW + timedelta(days=1))
    assert again.tasks_created == later.tasks_created == 0
    assert stat(world.sb, BATCH_CREATE) == 0
    assert len(world.hubsync_tasks()) == 1
    # The account task counts against Kai's capacity.
    assert later.tasks is not None
    assert later.tasks.open_by_owner == {KAI: 1}

    report = collect(world.engine, world.cfg.config, now=NOW)
    assert (report.account_tasks_open, report.accounts_waiting_count) == (1, 0)
    assert "account tasks (active buying centers): 1 open, 0 waiting" in render(report)
    text = world.explain(BEN)
    assert f"account task for owner {KAI} created on 2025-06-02; it is open" in text
    assert "disarmed: re-arms after 30 quiet days (not quiet yet: the buying center is active)" in text


def test_a_contact_handed_over_covers_its_buying_center(make_world: Callable[..., World]) -> None:
    world = make_world([*everyone_engaged(), *demo_request(ANNA, NOW - timedelta(days=1))])
    result = world.cycle(NOW)
    assert result.tasks is not None
    assert (result.tasks_created, result.tasks.accounts_created, result.tasks.accounts_covered) == (1, 0, 1)
    (task,) = world.hubsync_tasks()
    assert world.sb.portal.assoc.of("tasks", task.id, "contacts") == [ANNA]
    assert world.account_tasks() == []
    # Anna has no owner of her own: her task goes to the company's owner, and names the buying center.
    assert task.props["hubspot_owner_id"] == str(KAI)
    body = task.props["hs_task_body"]
    assert "Buying center: Acme Software GmbH is active (account segment A1, account engagement 100)" in body
    assert "engaged: Anna Alt (88), Ben Berg (35), Carl Czech (32)" in body
    assert "Missing personas: influencer" in body
    account = world.company_row()
    assert (account.account_armed, account.account_covered_by) == (False, ANNA)

    world.cycle(NOW + timedelta(days=1))
    assert world.account_tasks() == []
    assert "by the task of contact 1001 (its body names the buying center): no account task" in world.explain(BEN)
    assert "by this contact's task" in world.explain(ANNA)


def test_an_open_contact_task_is_updated_to_name_the_buying_center(make_world: Callable[..., World]) -> None:
    # Anna asks for a demo alone: her task, no buying center yet.
    world = make_world(demo_request(ANNA, NOW - timedelta(days=1)))
    world.cycle(NOW)
    (task,) = world.hubsync_tasks()
    assert "Buying center" not in task.props["hs_task_body"]
    # Ben and Carl join: the buying center is active; Anna's open task covers it and is updated, once.
    later = NOW + timedelta(days=2)
    write_rows(world.engine, activities=[*engaged(BEN, later), *engaged(CARL, later)])
    world.sb.reset_stats()
    result = world.cycle(later)
    assert result.tasks is not None
    assert (result.tasks_created, result.tasks.accounts_covered) == (0, 1)
    assert stat(world.sb, PATCH_OBJECT) == 1
    assert world.hubsync_tasks() == [task]
    assert "Buying center: Acme Software GmbH is active" in task.props["hs_task_body"]
    assert task.props["hs_task_priority"] == "HIGH"
    world.sb.reset_stats()
    world.cycle(later + timedelta(days=1))
    assert stat(world.sb, PATCH_OBJECT) == stat(world.sb, BATCH_CREATE) == 0


def test_an_account_waits_for_its_owner_and_status_says_why(make_world: Callable[..., World]) -> None:
    world = make_world(everyone_engaged(), with_capacity(owners={"kai.konto@acme.example": 0}))
    result = world.cycle(NOW)
    assert result.tasks is not None
    assert (result.tasks_created, result.tasks.accounts_waiting) == (0, 1)
    assert world.company_row().account_waiting == "waiting for capacity"
    report = collect(world.engine, world.cfg.config, now=NOW)
    assert report.accounts_waiting == [
        {
            "company_id": ACME,
            "name": "Acme Software GmbH",
            "segment": "A2",
            "engagement": 58,
            "why": "Kai Konto (the company's owner) holds 0 of 0 open tasks",
        }
    ]
    assert (
        "  Acme Software GmbH (A2, account engagement 58): Kai Konto (the company's owner) holds 0 of 0 open tasks"
    ) in render(report)
    assert "last cycle: waiting for capacity" in world.explain(ANNA)

    # Account tasks go to the company's owner only: without one the account waits too (no round robin).
    with world.engine.begin() as conn:
        conn.execute(sa.text("UPDATE company SET owner_id = NULL"))
    world.cfg = settings(tasks={"round_robin_owners": ("vera.vertrieb@acme.example",)})
    world.cycle(NOW + timedelta(hours=1))
    assert world.hubsync_tasks() == []
    assert world.company_row().account_waiting.startswith("no company owner")


def test_a_completed_account_task_is_done_and_the_account_re_arms_after_30_quiet_days(
    make_world: Callable[..., World],
) -> None:
    world = make_world(everyone_engaged())
    world.cycle(NOW)
    (task,) = world.account_tasks()
    world.sb.portal.update("tasks", task.id, {"hs_task_status": "COMPLETED"})
    done = world.cycle(NOW + timedelta(days=1))
    assert done.tasks is not None
    assert (done.tasks.completed, done.tasks_created) == (1, 0)
    assert [r.state for r in tasks_in_db(world.engine)] == ["done"]
    # The buying center goes quiet (no activity for 30 days): armed again, 30 days after the trigger last held.
    world.cycle(NOW + timedelta(days=30))
    assert world.company_row().account_armed is False
    world.cycle(NOW + timedelta(days=40))
    assert world.company_row().account_armed is True
    # Months later the team comes back (a week and more ago: interest, no surge): a second account task.
    months_later = NOW + timedelta(days=200)
    write_rows(
        world.engine, activities=[row for c in (ANNA, BEN, CARL) for row in engaged(c, months_later, days_back=9)]
    )
    back = world.cycle(months_later)
    assert back.tasks is not None
    assert back.tasks.accounts_created == 1
    assert len(world.account_tasks()) == 2


def test_a_crash_after_the_create_adopts_the_account_task_instead_of_a_second_one(
    make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(everyone_engaged())

    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("killed after HubSpot created the task, before the database recorded it")

    with monkeypatch.context() as m:
        m.setattr(task_batches, "record_created", crash)
        with pytest.raises(SystemExit):
            world.cycle(NOW)
    assert len(world.account_tasks()) == 1
    assert [r.state for r in tasks_in_db(world.engine)] == ["intent"]
    world.sb.reset_stats()
    resumed = world.cycle(NOW + timedelta(hours=1))
    assert resumed.tasks is not None
    assert (resumed.tasks_created, resumed.tasks.adopted) == (0, 1)
    assert stat(world.sb, BATCH_CREATE) == 0
    (task,) = world.account_tasks()
    (row,) = tasks_in_db(world.engine)
    assert (row.state, row.company_id, row.hubspot_task_id) == ("open", ACME, str(task.id))
    assert world.company_row().account_armed is False
