"""An incremental push (a cycle without a full rescore) diffs the score rows still pending for push, not every
score: as many rows as were rescored, the same changes a full diff finds, a record HubSpot refused pushed again by the
next one; and a change of what push writes (its configuration, forgotten values) diffs every record again. On
SQLite and PostgreSQL, against the sandbox portal."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.push import PushResult, planned_changes, preview_properties, push
from hubsync.records import ActivityKind
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.settings import Settings
from hubsync.store.db import open_database, transaction
from hubsync.store.pushed import forget_pushed, settle
from hubsync.store.tables import company_score_t, contact_score_t, contact_t
from tests.support.sandbox import portal_now

from .push_world import activity, score, scored_world, settings, write_rows

CHANGED = 4
# Rescored without anything new: pending, diffed, found equal.
UNCHANGED = 6


@dataclasses.dataclass
class World:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    cfg: Settings

    def push(self, cfg: Settings | None = None) -> PushResult:
        now = portal_now(self.sb.portal)
        return push(self.client, self.engine, cfg or self.cfg, now=now, tasks=False, incremental=True)

    def scores(self) -> int:
        with self.engine.connect() as conn:
            count = sa.select(sa.func.count())
            return sum(conn.execute(count.select_from(t)).scalar_one() for t in (contact_score_t, company_score_t))

    def pending(self) -> set[tuple[str, int]]:
        with self.engine.connect() as conn:
            contacts = conn.execute(sa.select(contact_score_t.c.contact_id).where(contact_score_t.c.push_pending))
            companies = conn.execute(sa.select(company_score_t.c.company_id).where(company_score_t.c.push_pending))
            return {("contacts", i) for i in contacts.scalars()} | {("companies", i) for i in companies.scalars()}

    def full_plan(self, cfg: Settings | None = None) -> dict[tuple[str, int], dict[str, str]]:
        """Every change a full diff finds now, by record (a dry run: nothing sent, nothing stored)."""
        pages = planned_changes(self.engine, (cfg or self.cfg).config.push)
        return {(c.object_type, c.object_id): dict(c.changes) for page in pages for c in page.changes}


@pytest.fixture(scope="module")
def portal_600() -> Iterator[Sandbox]:
    with start_sandbox(contacts=600, seed=5, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def world(portal_600: Sandbox, database_url: str) -> Iterator[World]:
    cfg = settings()
    engine, client = scored_world(portal_600, database_url, cfg)
    yield World(portal_600, engine, client, cfg)
    client.close()
    engine.dispose()


def _lone_nurture_contacts(world: World) -> list[Any]:
    """Contacts without a company (no account score moves with them) that a consultation request will change."""
    primary = world.sb.portal.assoc.primary[("contacts", "companies")]
    with world.engine.connect() as conn:
        rows = conn.execute(sa.select(contact_score_t).order_by(contact_score_t.c.contact_id)).all()
    return [r for r in rows if r.contact_id not in primary and r.status == "nurture"]


def _request_consultation(world: World, contact_ids: list[int]) -> None:
    now = portal_now(world.sb.portal)
    form = "Beratung vereinbaren"
    rows = [activity(f"test:{i}", i, ActivityKind.FORM_SUBMISSION, now, form_name=form) for i in contact_ids]
    write_rows(world.engine, activities=rows)


@pytest.mark.slow
def test_an_incremental_push_diffs_what_was_rescored_and_pushes_what_a_full_diff_would(world: World) -> None:
    everything = world.scores()
    # No push has stored what its values were written with: the first diffs every record.
    first = world.push()
    assert first.failures == ()
    assert first.records_diffed == first.records_changed == everything
    assert world.pending() == set()

    idle = world.push()
    assert (idle.records_diffed, idle.records_changed, idle.updates_sent) == (0, 0, 0)

    lone = _lone_nurture_contacts(world)
    changed = [r.contact_id for r in lone[:CHANGED]]
    unchanged = [r.contact_id for r in lone[CHANGED : CHANGED + UNCHANGED]]
    _request_consultation(world, changed)
    score(world.engine, world.cfg, portal_now(world.sb.portal), [*changed, *unchanged])
    pending = world.pending()
    assert {("contacts", i) for i in [*changed, *unchanged]} == pending
    full = world.full_plan()
    assert set(full) == {("contacts", i) for i in changed}
    summary = preview_properties(world.engine, world.cfg)
    assert (summary.records_diffed, summary.records_changed) == (everything, len(full))

    result = world.push()
    # What was rescored, not the portal; the changes the full diff found, nothing else.
    assert result.records_diffed == len(pending) == CHANGED + UNCHANGED
    assert result.records_changed == result.records_pushed == len(full)
    assert result.properties_changed == summary.properties_changed
    live = world.sb.portal.stores["contacts"].by_id
    for (_, contact_id), changes in full.items():
        assert {k: live[contact_id].props.get(k) for k in changes} == changes
    assert world.full_plan() == {}
    assert world.pending() == set()
    assert world.push().records_diffed == 0


@pytest.mark.slow
def test_a_record_hubspot_refused_is_pushed_by_the_next_incremental_push(world: World) -> None:
    assert world.push().failures == ()
    (contact, *_) = _lone_nurture_contacts(world)
    _request_consultation(world, [contact.contact_id])
    score(world.engine, world.cfg, portal_now(world.sb.portal), [contact.contact_id])
    (change,) = world.full_plan().values()
    assert "hubsync_segment" in change, "the request moves the contact to another segment"
    # An admin removed the new segment's option: HubSpot refuses the contact's write (a 207 partial failure).
    catalog = world.sb.portal.catalogs["contacts"].properties
    segment = catalog["hubsync_segment"]
    new_segment = change["hubsync_segment"]
    catalog["hubsync_segment"] = dataclasses.replace(
        segment, options=tuple(o for o in segment.options if o != new_segment)
    )
    try:
        refused = world.push()
    finally:
        catalog["hubsync_segment"] = segment
    assert [(f.object_type, f.object_id) for f in refused.failures] == [("contacts", contact.contact_id)]
    assert world.pending() == {("contacts", contact.contact_id)}

    # Nothing rescored since: the next incremental push diffs the refused record alone and lands it.
    retry = world.push()
    assert (retry.records_diffed, retry.records_pushed, retry.failures) == (1, 1, ())
    assert world.sb.portal.stores["contacts"].by_id[contact.contact_id].props["hubsync_segment"] == new_segment
    assert world.pending() == set()
    assert world.full_plan() == {}


@pytest.mark.slow
def test_a_changed_push_configuration_or_forgotten_values_diff_every_record_again(world: World) -> None:
    everything = world.scores()
    assert world.push().records_diffed == everything
    # The portal is shared by the database variants: each starts from the lifecycle stages it was generated with.
    contacts = list(world.sb.portal.stores["contacts"].by_id.values())
    generated = [dict(c.props) for c in contacts]
    try:
        _advance_then_forget(world, everything)
    finally:
        for contact, props in zip(contacts, generated, strict=True):
            contact.props.clear()
            contact.props.update(props)


def _advance_then_forget(world: World, everything: int) -> None:
    # Moving lifecycle stages forward writes a property the stored values were not written with.
    advancing = settings(push={"advance_lifecycle_stage": True})
    wanted = world.full_plan(advancing)
    assert wanted, "some contact is an MQL below that stage"
    assert all(set(c) == {"lifecyclestage"} for c in wanted.values())
    changed = world.push(advancing)
    assert (changed.records_diffed, changed.records_pushed) == (everything, len(wanted))
    assert world.push(advancing).records_diffed == 0
    # Back to the shipped configuration: diffed all again, nothing to write (hubsync never moves a stage back).
    back = world.push()
    assert (back.records_diffed, back.records_changed) == (everything, 0)

    # Teardown forgets what was pushed to contacts: the next push writes every contact's values again.
    with transaction(world.engine) as conn:
        forgotten = forget_pushed(conn, ["contacts"])
    again = world.push()
    assert again.records_diffed == everything
    assert again.records_pushed == forgotten > 0
    assert world.push().records_diffed == 0


def test_settling_leaves_a_score_written_again_since_it_was_read_pending(database_url: str) -> None:
    engine = open_database(database_url)
    read_at, written_at = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    score_row = {
        "engagement": 40, "profile": 60, "completeness": 80, "segment": "B2", "status": "mql", "fit_light": "yellow",
        "tier": "smb", "surge": False, "reason": "", "as_of": read_at,
    }  # fmt: skip
    try:
        with transaction(engine) as conn:
            conn.execute(sa.insert(contact_t), [{"id": i, "properties": {}} for i in (1, 2)])
            conn.execute(sa.insert(contact_score_t), [{**score_row, "contact_id": i} for i in (1, 2)])
            # Contact 2 was rescored after push read it: what push diffed is no longer its score.
            conn.execute(sa.update(contact_score_t).where(contact_score_t.c.contact_id == 2).values(as_of=written_at))
            assert settle(conn, "contacts", {1: read_at, 2: read_at}) == 1
        with engine.connect() as conn:
            pending = conn.execute(sa.select(contact_score_t.c.contact_id).where(contact_score_t.c.push_pending))
            assert list(pending.scalars()) == [2]
    finally:
        engine.dispose()
