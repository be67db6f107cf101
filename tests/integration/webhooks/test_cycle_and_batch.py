"""A webhook batch runs while a cycle is in progress, between two of its units, on SQLite and PostgreSQL: the batch
completes before the cycle goes on, and what both leave behind (scores, history, pushed values, pending work, the
database's tasks and the portal's) is what the cycle and then the batch, one after the other, leave.

The cycle is paused by a hook in its work lock, not by timing: at the chosen yield point the hook starts the batch in
another thread and waits until it asks for the lock, so the batch runs exactly there."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.work_lock import WorkLock
from hubsync.store.pending import pending_work
from hubsync.store.tables import (
    company_score_t,
    company_t,
    contact_score_t,
    history_t,
    pending_t,
    pushed_t,
    task_t,
    webhook_event_t,
)
from tests.conftest import POSTGRES_URL
from tests.integration.webhooks.world import World, synced_world, wait_until
from tests.support.pg_schema import fresh_schema

DEMO = "Demo anfragen"


class PausingLock(WorkLock):
    """The service's work lock with a hook: at the first yield point named `at` where `when()` holds, `batch` runs in
    another thread while the cycle waits. `at` names who yields: "page_done" (after a page of the pull),
    "push_properties" (after a page of the push), "run_cycle" (before the outcomes), or "fetch" (a page read ahead
    has just arrived, the lock is let go)."""

    def __init__(self, at: str, when: Callable[[], bool] = lambda: True) -> None:
        super().__init__()
        self.at = at
        self.when = when
        self.batch: Callable[[], int] = lambda: 0
        # What the batch processed inside the cycle; None until it ran.
        self.processed: int | None = None
        self._fired = False

    def between_units(self) -> None:
        if sys._getframe(1).f_code.co_name == self.at and self._due():  # who yields
            running = self._start()
            wait_until(lambda: self.batch_waiting, what="the batch to ask for the lock")
            super().between_units()
            running.join(timeout=60)  # a liveness bound: the batch has released the lock by now
            assert not running.is_alive(), "the batch did not run between the cycle's units"
            return
        super().between_units()

    @contextmanager
    def released(self) -> Iterator[None]:
        with super().released():
            yield
            if self.at == "fetch" and self._due():
                running = self._start()
                running.join(timeout=60)  # a liveness bound: the lock is free, the batch runs at once
                assert not running.is_alive(), "the batch did not run while the cycle waited for a page"

    def _due(self) -> bool:
        if self._fired or not self.when():
            return False
        self._fired = True
        return True

    def _start(self) -> threading.Thread:
        def run() -> None:
            self.processed = self.batch()

        thread = threading.Thread(target=run, name="webhook-batch", daemon=True)
        thread.start()
        return thread


@pytest.fixture
def second_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same kind, for the outcome of the serial run."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'serial.db'}"
        return
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with fresh_schema(admin, POSTGRES_URL, "s") as url:
            yield url
    finally:
        admin.dispose()


def _demo_requests(world: World) -> list[int]:
    """Three demo requests and a changed job title, delivered and stored, not processed: a batch and a cycle's
    worth of work."""
    portal = world.sb.portal
    portal.advance(60)
    requesters = world.without_task(3)
    for contact in requesters:
        portal.add_form_submission(contact, DEMO, page_url="https://leadwerk.example/demo")
    portal.update("contacts", world.without_task(4)[-1], {"jobtitle": "Chief Operating Officer"})
    world.deliver()
    assert world.rx.waiting() > 0
    # The cycle reads what changed before its start.
    portal.advance(1)
    return requesters


def _cycle(world: World, lock: WorkLock) -> None:
    rx = world.rx
    with lock.held():
        run_cycle(rx.settings, rx.engine, world.client, clock=rx.realtime.clock, work_lock=lock)


def _rows(conn: sa.Connection, table: sa.Table, *leave_out: str) -> list[tuple[Any, ...]]:
    rows = [tuple(v for k, v in r._mapping.items() if k not in leave_out) for r in conn.execute(sa.select(table))]
    return sorted(rows, key=repr)


def _outcome(world: World) -> dict[str, Any]:
    """What a cycle and a batch leave behind, without ids and times that only say in which order rows were made."""
    portal = world.sb.portal
    with portal.lock:
        portal_tasks = sorted(
            (
                tuple(sorted(portal.assoc.of("tasks", t, "contacts"))),
                tuple(sorted(portal.assoc.of("tasks", t, "companies"))),
                portal.stores["tasks"].by_id[t].props.get("hs_task_subject"),
                portal.stores["tasks"].by_id[t].props.get("hubspot_owner_id"),
                portal.stores["tasks"].by_id[t].props.get("hs_task_body"),
            )
            for t in portal.stores["tasks"].live
        )
    with world.rx.engine.connect() as conn:
        return {
            "contact scores": _rows(conn, contact_score_t),
            "company scores": _rows(conn, company_score_t),
            "history": _rows(conn, history_t, "id"),
            "pushed": _rows(conn, pushed_t),
            "pending": _rows(conn, pending_t),
            "tasks": _rows(conn, task_t, "id", "hubspot_task_id"),
            "portal tasks": portal_tasks,
            "waiting": world.rx.waiting(),
        }


# The serial outcome per kind of database: the same portal, requests and clock give the same outcome every time.
_SERIAL: dict[str, dict[str, Any]] = {}


def _serial(url: str, tmp: Path) -> dict[str, Any]:
    """The cycle, then the batch."""
    kind = url.split(":", 1)[0]
    if kind not in _SERIAL:
        _SERIAL[kind] = _serial_run(url, tmp)
    return _SERIAL[kind]


def _serial_run(url: str, tmp: Path) -> dict[str, Any]:
    lock = WorkLock()
    tmp.mkdir()
    with synced_world(url, tmp, work_lock=lock) as world:
        _demo_requests(world)
        _cycle(world, lock)
        assert world.rx.realtime.process_pending() > 0
        return _outcome(world)


@pytest.mark.parametrize("at", ["page_done", "fetch", "push_properties", "run_cycle"])
def test_a_batch_between_two_units_of_a_cycle_completes_and_leaves_the_serial_outcome(
    database_url: str, second_url: str, tmp_path: Path, at: str
) -> None:
    lock = PausingLock(at)
    (tmp_path / "interleaved").mkdir()
    with synced_world(database_url, tmp_path / "interleaved", work_lock=lock) as world:
        requesters = _demo_requests(world)
        if at == "page_done":
            # After the page that stored the requesters: their rescore is pending when the batch comes.
            def stored() -> bool:
                with world.rx.engine.connect() as conn:
                    return set(requesters) <= set(pending_work(conn).contacts)

            lock.when = stored
        tasks_after_batch: list[int] = []

        def batch() -> int:
            processed = world.rx.realtime.process_pending()
            tasks_after_batch.extend(world.tasks_on(c) for c in requesters)
            return processed

        lock.batch = batch
        _cycle(world, lock)
        # The batch ran inside the cycle, processed the events and handed the requesters over, before the cycle went on.
        assert lock.processed is not None
        assert lock.processed > 0
        assert tasks_after_batch == [1, 1, 1]
        interleaved = _outcome(world)
    serial = _serial(second_url, tmp_path / "serial")
    assert interleaved == serial
    assert interleaved["waiting"] == 0
    assert interleaved["pending"] == []


def test_a_page_read_before_a_batch_stored_a_newer_version_leaves_that_version(
    database_url: str, tmp_path: Path
) -> None:
    """The cycle's first page read ahead (companies) holds a company's old name when a batch stores its new one: the
    page, stored after the batch, keeps the newer name (newer wins)."""
    lock = PausingLock("fetch")
    with synced_world(database_url, tmp_path, work_lock=lock) as world:
        portal = world.sb.portal
        company = portal.stores["companies"].live[0]
        portal.advance(60)
        portal.update("companies", company, {"name": "Leadwerk Alt GmbH"})
        world.deliver()
        with world.rx.engine.begin() as conn:
            # The old name's event is dropped: only the change made while the page is in hand reaches a batch.
            conn.execute(sa.delete(webhook_event_t))
        portal.advance(1)

        def renamed_meanwhile() -> int:
            portal.advance(1)
            portal.update("companies", company, {"name": "Leadwerk Neu GmbH"})
            world.deliver()
            return world.rx.realtime.process_pending()

        lock.batch = renamed_meanwhile
        _cycle(world, lock)
        assert lock.processed == 1
        with world.rx.engine.connect() as conn:
            name = conn.execute(sa.select(company_t.c.name).where(company_t.c.id == company)).scalar_one()
    assert name == "Leadwerk Neu GmbH"
