"""The handoff's read of hubsync's open tasks (`jobs/open_tasks.py`) reads what changed since the last read, not every
open task: an idle read costs the same whatever the number of open tasks, and completions, reopenings, new owners
and (at the latest on the full read) deletions in HubSpot are still seen, with each owner's load counted right."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from hubsync.jobs.open_tasks import record_created
from hubsync.jobs.teardown import TaskAction, apply_teardown, read_plan
from hubsync.render.task_text import MARKER
from hubsync.store import tasks as task_store
from hubsync.store.db import open_database, transaction
from tests.support.open_tasks_world import FIRST_CONTACT, OWNERS, SEARCH, World, start
from tests.support.sandbox import portal_now

from .push_world import settings, tasks_in_db


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with ExitStack() as stack:
        yield start(stack, database_url, 30)


@pytest.mark.parametrize("tasks", [150, 650])
def test_an_idle_read_costs_one_search_whatever_the_number_of_open_tasks(database_url: str, tasks: int) -> None:
    with ExitStack() as stack:
        world = start(stack, database_url, tasks)
        first, first_calls = world.cycle()
        # The first read has no cursor: every open task (200 a page), adopted through their contacts.
        assert first.full
        assert len(first.adopted) == tasks
        assert world.sb.stats()["endpoints"][SEARCH]["200"] == -(-tasks // 200)
        assert first_calls > 1
        for _ in range(3):
            idle, calls = world.cycle()
            assert not idle.full
            assert calls == 1
            assert idle.by_owner == world.hubspot_load()
            assert (idle.done, idle.reopened, idle.adopted) == ((), (), ())


def test_completed_reopened_reassigned_and_deleted_tasks_are_seen(world: World) -> None:
    world.cycle()
    task_ids = sorted(int(r.hubspot_task_id) for r in tasks_in_db(world.engine))
    completed, reassigned, deleted = task_ids[0], task_ids[1], task_ids[2]

    world.tick(1)
    world.sb.portal.update(
        "tasks", completed, {"hs_task_status": "COMPLETED", "hs_task_completion_date": "2025-03-03T09:31:00.000Z"}
    )
    world.sb.portal.update("tasks", reassigned, {"hubspot_owner_id": str(OWNERS[2])})
    world.sb.portal.archive("tasks", deleted)
    read, calls = world.cycle()
    assert calls == 1
    assert world.state_of(completed) == "done"
    assert [c.closed_as for c in read.closed] == ["completed"]
    # The deletion moved no modified date: it still counts until the full read; the rest is HubSpot's load.
    deleted_owner = int(world.sb.portal.stores["tasks"].by_id[deleted].props["hubspot_owner_id"])
    expected = world.hubspot_load()
    expected[deleted_owner] += 1
    assert read.by_owner == expected
    assert world.state_of(deleted) == "open"

    world.tick(1)
    world.sb.portal.update("tasks", completed, {"hs_task_status": "IN_PROGRESS"})
    reopened, calls = world.cycle()
    assert calls == 1
    assert len(reopened.reopened) == 1
    assert world.state_of(completed) == "open"
    expected = world.hubspot_load()
    expected[deleted_owner] += 1
    assert reopened.by_owner == expected

    # A week on: the full read finds the deletion.
    world.tick(7 * 24 * 60)
    full, _ = world.cycle()
    assert full.full
    assert world.state_of(deleted) == "done"
    assert [c.closed_as for c in full.closed] == ["deleted"]
    assert full.by_owner == world.hubspot_load()
    idle, calls = world.cycle()
    assert (idle.full, calls, idle.by_owner) == (False, 1, world.hubspot_load())


def test_a_task_the_search_does_not_show_yet_is_read_by_id(world: World) -> None:
    world.cycle()
    world.sb.portal.index_delay_ms = 60 * 60_000
    contact = FIRST_CONTACT + 31
    task_id = world.add_task(contact, OWNERS[0])
    with transaction(world.engine) as conn:
        row = task_store.add_intent(
            conn,
            contact_id=contact,
            owner_id=OWNERS[0],
            subject=f"{MARKER} follow up",
            intent_at=portal_now(world.sb.portal),
            due_at=portal_now(world.sb.portal),
        )
    record_created(world.engine, [(row, task_id, portal_now(world.sb.portal))])
    read, calls = world.cycle()
    # One search (it does not show the new task) and one read by id (it is open).
    assert calls == 2
    assert read.by_owner == world.hubspot_load()
    assert world.state_of(task_id) == "open"
    # Known open now: the next idle read does not read it again.
    _, calls = world.cycle()
    assert calls == 1


def test_a_read_whose_results_were_not_stored_is_made_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.cycle()
    task_id = int(tasks_in_db(world.engine)[0].hubspot_task_id)
    world.tick(1)
    world.sb.portal.update("tasks", task_id, {"hs_task_status": "COMPLETED"})

    def killed(*_args: Any, **_kwargs: Any) -> None:
        raise SystemExit("killed while the read's results were stored")

    with monkeypatch.context() as m:
        m.setattr(task_store, "store_open_tasks", killed)
        with pytest.raises(SystemExit):
            world.cycle()
    assert world.state_of(task_id) == "open"
    # A day later: the cursor did not move, so the completion is still read.
    world.tick(24 * 60)
    read, _ = world.cycle()
    assert world.state_of(task_id) == "done"
    assert read.by_owner == world.hubspot_load()


def test_a_lost_database_reads_every_open_task_again(world: World, tmp_path: Path) -> None:
    world.cycle()
    # A new, empty database (SQLite for either variant: what matters is that it holds no cursor).
    with ExitStack() as stack:
        fresh = open_database(f"sqlite:///{tmp_path / 'restored.db'}")
        stack.callback(fresh.dispose)
        lost = World(world.sb, fresh, world.client, world.sync)
        read, _ = lost.cycle()
        assert read.full
        assert len(read.adopted) == 30
        assert read.by_owner == world.hubspot_load()


def test_a_full_read_every_full_reconcile_days(world: World) -> None:
    assert world.sync.full_reconcile_days == 7
    world.cycle()
    world.tick(6 * 24 * 60)
    assert not world.cycle()[0].full
    world.tick(24 * 60)
    assert world.cycle()[0].full
    assert not world.cycle()[0].full


def test_tasks_a_teardown_deleted_no_longer_count(world: World) -> None:
    world.cycle()
    push = settings().config.push
    apply_teardown(world.client, world.engine, read_plan(world.client, world.engine, push, TaskAction.DELETE))
    assert world.hubspot_load() == {}
    # The deletions moved no modified date, and no full read is due: the rows teardown closed tell.
    read, calls = world.cycle()
    assert (read.full, calls, read.by_owner) == (False, 1, {})


def test_an_open_task_without_a_row_counts_until_a_full_read_finds_it_deleted(world: World) -> None:
    world.cycle()
    # A second hubsync task on a contact that has one (a rep's copy): never adopted, but it is the owner's load.
    extra = world.add_task(FIRST_CONTACT, OWNERS[1])
    read, _ = world.cycle()
    assert read.adopted == ()
    assert read.by_owner == world.hubspot_load()
    assert str(extra) not in {r.hubspot_task_id for r in tasks_in_db(world.engine)}

    world.tick(1)
    world.sb.portal.archive("tasks", extra)
    read, _ = world.cycle()
    expected = world.hubspot_load()
    expected[OWNERS[1]] += 1
    assert read.by_owner == expected
    world.tick(7 * 24 * 60)
    assert world.cycle()[0].full
    idle, calls = world.cycle()
    assert (idle.full, calls, idle.by_owner) == (False, 1, world.hubspot_load())
