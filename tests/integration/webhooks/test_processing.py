"""Webhook events from the sandbox portal, received, stored and processed on SQLite and PostgreSQL: a demo request
becomes a task, a batch delivered again is processed once, an event storm rescores each contact once, a standby
stores but does not process, and deletions, merges and association changes reach the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubsync.store.tables import association_t, contact_t, webhook_event_t
from tests.integration.webhooks.world import World, synced_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with synced_world(database_url, tmp_path) as w:
        yield w


def _counter(world: World, name: str, **labels: str) -> float:
    value = world.rx.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def test_a_demo_request_becomes_a_task_once(world: World) -> None:
    [contact] = world.without_task(1)
    world.sb.portal.add_form_submission(contact, "Demo anfragen", page_url="https://leadwerk.example/demo")
    world.deliver()
    assert world.rx.waiting() >= 1
    assert world.rx.realtime.process_pending() >= 1
    assert world.tasks_on(contact) == 1
    assert world.rx.waiting() == 0
    assert _counter(world, "hubsync_tasks_created_total") >= 1

    # The same batch delivered again (HubSpot retries a request it thinks failed): stored once, processed once.
    with world.rx.engine.connect() as conn:
        payloads = [dict(p) for p in conn.execute(sa.select(webhook_event_t.c.payload)).scalars()]
    answer = world.rx.post(json.dumps([{**p, "attemptNumber": 1} for p in payloads]).encode())
    assert answer.status_code == 204
    assert world.rx.waiting() == 0
    assert world.rx.realtime.process_pending() == 0
    assert world.tasks_on(contact) == 1


def test_an_event_storm_rescores_each_contact_once_per_batch(world: World) -> None:
    portal = world.sb.portal
    contacts = portal.stores["contacts"].live[:100]
    # 10,000 property changes, a hundred per contact: each one an event, delivered in batches of 100.
    for round_ in range(100):
        for contact in contacts:
            portal.update("contacts", contact, {"jobtitle": f"Head of Operations {round_}"})
    world.deliver()
    assert world.rx.waiting() == 10_000

    assert world.rx.realtime.process_pending() == 10_000
    assert _counter(world, "hubsync_runs_total", kind="webhooks", outcome="ok") == 1
    # Counted by the rescore as it scored: each of the hundred contacts once.
    assert _counter(world, "hubsync_contacts_rescored_total", source="webhooks") == 100
    assert world.rx.waiting() == 0


def test_a_standby_receives_and_stores_but_does_not_process(world: World) -> None:
    [contact] = world.without_task(1)
    world.rx.active.clear()
    world.sb.portal.add_form_submission(contact, "Demo anfragen", page_url="https://leadwerk.example/demo")
    world.deliver()
    waiting = world.rx.waiting()
    assert waiting >= 1
    assert world.rx.realtime.process_pending() == 0
    assert world.rx.waiting() == waiting
    assert world.tasks_on(contact) == 0
    # It takes over (the lease is its): what it stored is processed.
    world.rx.active.set()
    assert world.rx.realtime.process_pending() == waiting
    assert world.tasks_on(contact) == 1


def test_deletions_merges_and_association_changes_reach_the_database(world: World) -> None:
    portal = world.sb.portal
    gone, survivor, merged, moved = portal.stores["contacts"].live[10:14]
    other_company = portal.stores["companies"].live[-1]
    portal.archive("contacts", gone)
    portal.merge(survivor, merged)
    portal.associate("contacts", moved, "companies", other_company)
    world.deliver()
    assert world.rx.realtime.process_pending() > 0

    with world.rx.engine.connect() as conn:
        archived = dict(
            conn.execute(
                sa.select(contact_t.c.id, contact_t.c.archived_at).where(contact_t.c.id.in_([gone, survivor, merged]))
            ).all()
        )
        links = set(
            conn.execute(
                sa.select(association_t.c.to_id).where(
                    association_t.c.from_type == "contacts",
                    association_t.c.from_id == moved,
                    association_t.c.to_type == "companies",
                )
            ).scalars()
        )
    assert archived[gone] is not None
    assert archived[survivor] is None
    # The merged-away contact is gone: its activities and associations went to the survivor.
    assert merged not in archived
    assert other_company in links
    assert world.rx.waiting() == 0
