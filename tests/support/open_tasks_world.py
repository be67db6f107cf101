"""A sandbox portal with open hubsync tasks on its contacts, and the handoff's read of them (`jobs/open_tasks.py`)
as a cycle makes it: for tests/integration/push/test_open_tasks_incremental.py and bench/open_tasks.py."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.open_tasks import OpenTasks, apply_open_tasks, read_open_tasks
from hubsync.render.task_text import MARKER
from hubsync.sandbox import snapshot
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.settings import SyncConfig, load_settings
from hubsync.store.db import open_database
from hubsync.store.tables import task_t
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import fast_client, portal_now

OWNERS = (71, 72, 73)
FIRST_CONTACT = 10_000
SEARCH = "POST /crm/v3/objects/{objectType}/search"


def portal_doc(contacts: int) -> str:
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": "2025-03-03T09:00:00Z", "nextId": 100_000},
            "owners": [{"id": o, "email": f"rep{o}@acme.example"} for o in OWNERS],
            "objects": {
                "contacts": [
                    {"id": FIRST_CONTACT + i, "properties": {"email": f"c{i}@example.com"}} for i in range(contacts)
                ]
            },
        }
    )


@dataclass
class World:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    sync: SyncConfig

    def tick(self, minutes: float = 15) -> None:
        self.sb.portal.now += round(minutes * 60_000)

    def read(self) -> OpenTasks:
        return read_open_tasks(self.client, self.engine, self.sync, now=portal_now(self.sb.portal))

    def cycle(self) -> tuple[OpenTasks, int]:
        """A read a quarter of an hour after the last, applied; and how many requests it made."""
        self.tick()
        self.sb.reset_stats()
        found = self.read()
        calls = self.sb.stats()["total"]
        apply_open_tasks(self.engine, found)
        return found, calls

    def hubspot_load(self) -> dict[int, int]:
        """Open hubsync tasks per owner as the portal has them."""
        return dict(
            Counter(
                int(t.props["hubspot_owner_id"])
                for t in self.sb.portal.stores["tasks"].by_id.values()
                if t.archived_at is None
                and t.props.get("hs_task_subject", "").startswith(MARKER)
                and t.props.get("hs_task_status") != "COMPLETED"
            )
        )

    def add_task(self, contact_id: int, owner: int) -> int:
        task = self.sb.portal.create(
            "tasks",
            {
                "hs_task_subject": f"{MARKER} follow up",
                "hs_task_status": "NOT_STARTED",
                "hubspot_owner_id": str(owner),
            },
            associations=[("contacts", contact_id)],
        )
        return task.id

    def task_rows(self) -> list[sa.Row[tuple[object, ...]]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(task_t).order_by(task_t.c.id)))

    def state_of(self, task_id: int) -> str:
        (row,) = [r for r in self.task_rows() if r.hubspot_task_id == str(task_id)]
        return str(row.state)


def start(stack: ExitStack, database_url: str, tasks: int, sync: SyncConfig | None = None) -> World:
    """A portal with `tasks` open hubsync tasks (one per contact, owners in turn) and an empty database at
    `database_url`; closed with `stack`."""
    sb = stack.enter_context(start_sandbox(portal=snapshot.loads(portal_doc(tasks + 5)), rate_limits=False))
    engine = open_database(database_url)
    stack.callback(engine.dispose)
    client = stack.enter_context(fast_client(sb))
    world = World(sb, engine, client, sync or load_settings({}, str(DEFAULT_CONFIG)).config.sync)
    for i in range(tasks):
        world.add_task(FIRST_CONTACT + i, OWNERS[i % len(OWNERS)])
    return world
