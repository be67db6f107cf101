"""Tasks are created 100 a request (issue 19), through the sandbox portal on SQLite and PostgreSQL: ⌈N/100⌉ create
calls, each task recorded on its own row by HubSpot's echo of the row's `objectWriteTraceId`; a 207 fails only the
inputs it names; a lost answer is looked for, never sent twice; a request refused as a whole is split until the bad
input stands alone."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from hubsync.errors import FatalHubSpotError, RetriableHubSpotError
from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.push import PushResult, push
from hubsync.records import ActivityKind
from hubsync.sandbox.server import Sandbox
from hubsync.settings import Settings
from tests.support.sandbox import fast_client

from .push_world import BATCH_CREATE, CREATE_OBJECT, activity, score, start_world, stat, tasks_in_db, with_capacity
from .test_push_capacity import iso

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
OWNER, ACME = 7, 500
LEADS = tuple(range(2001, 2151))  # 150 hot leads: two batches, 100 and 50
BAD = LEADS[130]


def portal_doc() -> str:
    """150 CEOs of one 500-person software company (fit green), owned by one owner."""
    contacts = [
        {"id": c, "properties": {"email": f"lead{c}@acme.example", "firstname": "Lead", "lastname": str(c),
                                 "jobtitle": "CEO", "hubspot_owner_id": str(OWNER)}}
        for c in LEADS
    ]  # fmt: skip
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": iso(NOW)},
            "owners": [{"id": OWNER, "email": "vera@acme.example", "firstName": "Vera", "lastName": "Vertrieb"}],
            "objects": {
                "contacts": contacts,
                "companies": [
                    {
                        "id": ACME,
                        "properties": {"name": "Acme", "numberofemployees": "500", "industry": "COMPUTER_SOFTWARE"},
                    }
                ],
            },
            "associations": [["contacts", c, "companies", ACME, True] for c in LEADS],
        }
    )


def activities() -> list[dict[str, Any]]:
    """Each lead at 80 (sales_ready): a consultation request 20 days ago, a webinar, five email opens."""
    rows = []
    for c in LEADS:
        rows.append(activity(f"t:{c}:form", c, ActivityKind.FORM_SUBMISSION, NOW - timedelta(days=20),
                             form_name="Beratung vereinbaren"))  # fmt: skip
        rows.append(activity(f"t:{c}:webinar", c, ActivityKind.MARKETING_EVENT, NOW - timedelta(days=3),
                             event_type="attended", event_name="Webinar"))  # fmt: skip
        rows += [
            activity(f"t:{c}:open:{i}", c, ActivityKind.EMAIL_EVENT, NOW - timedelta(days=2), event_type="open")
            for i in range(5)
        ]
    return rows


@dataclass
class World:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    cfg: Settings

    def push(self, client: HubSpotClient | None = None) -> PushResult:
        return push(client or self.client, self.engine, self.cfg, now=NOW)

    def tasks_per_contact(self) -> Counter[int]:
        portal = self.sb.portal
        return Counter(
            c
            for t in portal.stores["tasks"].by_id.values()
            if t.props.get("hs_task_subject", "").startswith("[hubsync]")
            for c in portal.assoc.of("tasks", t.id, "contacts")
        )

    def rows_match_the_portal(self) -> bool:
        """Every open row holds the task HubSpot associated with its contact."""
        rows = [r for r in tasks_in_db(self.engine) if r.state == "open"]
        return all(self.sb.portal.assoc.of("tasks", int(r.hubspot_task_id), "contacts") == [r.contact_id] for r in rows)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with ExitStack() as stack:
        cfg = with_capacity(default=500)  # room for every lead
        found = World(*start_world(stack, portal_doc(), database_url, cfg, activities()), cfg)
        score(found.engine, cfg, NOW)
        found.sb.reset_stats()
        yield found


def test_a_first_push_creates_its_tasks_100_a_request(world: World) -> None:
    result = world.push()
    assert result.tasks_created == len(LEADS) == 150
    assert stat(world.sb, BATCH_CREATE) == 2  # ⌈150 / 100⌉
    assert stat(world.sb, CREATE_OBJECT) == 0
    assert world.tasks_per_contact() == Counter(dict.fromkeys(LEADS, 1))
    assert world.rows_match_the_portal()
    assert [r.state for r in tasks_in_db(world.engine)] == ["open"] * 150


def test_a_207_fails_only_the_input_it_names(world: World) -> None:
    # The contact is gone from HubSpot (hubsync does not know yet): its task cannot be associated.
    world.sb.portal.archive("contacts", BAD)
    result = world.push()
    assert result.tasks is not None
    assert (result.tasks_created, result.tasks.failed) == (149, 1)
    assert stat(world.sb, BATCH_CREATE) == 2
    assert BAD not in world.tasks_per_contact()
    (failed,) = [r for r in tasks_in_db(world.engine) if r.state == "failed"]
    assert failed.contact_id == BAD
    assert "VALIDATION_ERROR" in failed.error
    assert world.rows_match_the_portal()


class Disturbed(HubSpotClient):
    """`refuse`: HubSpot answers 400 to any batch create that holds BAD's task. `lose`: the answer to the first batch
    create is lost on the way back, after HubSpot created the tasks."""

    def __init__(self, *args: Any, refuse: bool = False, lose: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refuse, self.lose = refuse, lose

    def call(self, fn: Any, *args: Any, operation: str | None = None, **kwargs: Any) -> Any:
        if operation == "push.tasks_batch_create":
            targets = {int(i.associations[0].to.id) for i in args[0].inputs}
            if self.refuse and BAD in targets:
                raise FatalHubSpotError("HubSpot refused the request (400): invalid input", status=400)
            if self.lose:
                self.lose = False
                super().call(fn, *args, operation=operation, **kwargs)
                raise RetriableHubSpotError("the connection to HubSpot failed (ReadTimeoutError); will retry")
        return super().call(fn, *args, operation=operation, **kwargs)


@pytest.fixture
def disturbed(world: World) -> Iterator[Callable[..., HubSpotClient]]:
    made: list[HubSpotClient] = []

    def make(**kwargs: bool) -> HubSpotClient:
        base = fast_client(world.sb)
        client = Disturbed(base._settings, sleep=lambda _s: None, **kwargs)
        base.close()
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_a_lost_answer_is_looked_for_and_never_sent_twice(
    world: World, disturbed: Callable[..., HubSpotClient]
) -> None:
    result = world.push(disturbed(lose=True))
    assert result.tasks_created == 150
    # The first hundred were found through the contacts' associations; only the second batch was sent after.
    assert stat(world.sb, BATCH_CREATE) == 2
    assert world.tasks_per_contact() == Counter(dict.fromkeys(LEADS, 1))
    assert world.rows_match_the_portal()


def test_a_request_refused_as_a_whole_is_split_until_the_bad_input_stands_alone(
    world: World, disturbed: Callable[..., HubSpotClient]
) -> None:
    result = world.push(disturbed(refuse=True))
    assert result.tasks is not None
    assert (result.tasks_created, result.tasks.failed) == (149, 1)
    assert world.tasks_per_contact() == Counter({c: 1 for c in LEADS if c != BAD})
    (failed,) = [r for r in tasks_in_db(world.engine) if r.state == "failed"]
    assert failed.contact_id == BAD
    assert world.rows_match_the_portal()
    # The batch of 50 that holds it is halved six times (50, 25, 13, 7, 4, 2, 1): a few requests, not 50.
    assert stat(world.sb, BATCH_CREATE) <= 1 + 2 * 6
