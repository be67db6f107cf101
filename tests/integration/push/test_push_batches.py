"""Property write-back against the sandbox portal: exact values, the diff, 207 partial failures (acceptance 1-3),
on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.push import push
from hubsync.records import ActivityKind
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.settings import Settings
from hubsync.store.tables import (
    company_score_t,
    contact_score_t,
    pushed_t,
)
from tests.support.sandbox import portal_now

from .push_world import BATCH_UPDATE, activity, score, scored_world, settings, stat, write_rows


def expected_contact(row: Any) -> dict[str, str]:
    """What the portal must show, written out here rather than taken from push.py."""
    return {
        "hubsync_engagement_score": str(row.engagement),
        "hubsync_profile_score": str(row.profile),
        "hubsync_data_completeness": str(row.completeness),
        "hubsync_segment": row.segment,
        "hubsync_lead_status": row.status,
        "hubsync_fit_light": row.fit_light,
        "hubsync_tier": row.tier,
        "hubsync_surge": "true" if row.surge else "false",
        "hubsync_reason": row.reason,
    }


def expected_company(row: Any) -> dict[str, str]:
    return {
        "hubsync_account_engagement": str(row.engagement),
        "hubsync_account_profile": str(row.profile),
        "hubsync_data_completeness": str(row.completeness),
        "hubsync_account_segment": row.segment,
        "hubsync_fit_light": row.fit_light,
        "hubsync_tier": row.tier,
        "hubsync_buying_center_active": "true" if row.buying_center_active else "false",
        "hubsync_engaged_contacts": str(row.engaged_contacts),
        "hubsync_account_reason": row.reason,
    }


def hubsync_props(props: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in props.items() if k.startswith("hubsync_")}


class World:
    def __init__(self, sb: Sandbox, engine: Engine, client: HubSpotClient, cfg: Settings) -> None:
        self.sb, self.engine, self.client, self.cfg = sb, engine, client, cfg

    def rows(self, table: sa.Table) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(table)))


@pytest.fixture(scope="module")
def portal_2000() -> Iterator[Sandbox]:
    # Rate limits on: the push must stay within the enterprise tier's 190 requests per 10 s.
    with start_sandbox(contacts=2000, seed=5) as sb:
        yield sb


@pytest.fixture
def world(portal_2000: Sandbox, database_url: str) -> Iterator[World]:
    sb = portal_2000
    cfg = settings()
    engine, client = scored_world(sb, database_url, cfg)
    sb.reset_stats()
    yield World(sb, engine, client, cfg)
    client.close()
    engine.dispose()


@pytest.mark.slow
def test_push_writes_exactly_the_local_values_then_only_what_changed(world: World) -> None:
    sb, portal = world.sb, world.sb.portal
    now = portal_now(portal)
    contacts = world.rows(contact_score_t)
    companies = world.rows(company_score_t)
    assert len(contacts) > 2000
    assert len(companies) > 200
    assert len({r.segment for r in contacts}) > 5  # real, varied scores, not one value everywhere

    first = push(world.client, world.engine, world.cfg, now=now, tasks=False)
    assert first.failures == ()
    assert first.records_changed == first.records_pushed == len(contacts) + len(companies)
    # At most 100 inputs per batch: contacts and companies in as few batches as that allows.
    assert first.updates_sent == -(-len(contacts) // 100) + -(-len(companies) // 100)
    assert stat(sb, BATCH_UPDATE) == first.updates_sent

    # Acceptance 1: every record in the portal carries exactly the locally computed values.
    live_contacts = portal.stores["contacts"].by_id
    for row in contacts:
        want = {k: v for k, v in expected_contact(row).items() if v != ""}  # HubSpot drops empty values
        assert hubsync_props(live_contacts[row.contact_id].props) == want, row.contact_id
    for row in companies:
        want = {k: v for k, v in expected_company(row).items() if v != ""}
        assert hubsync_props(portal.stores["companies"].by_id[row.company_id].props) == want, row.company_id
    pushed = {(r.object_type, r.object_id): r._mapping["values"] for r in world.rows(pushed_t)}
    assert len(pushed) == len(contacts) + len(companies)

    # Acceptance 2: nothing new, nothing sent.
    sb.reset_stats()
    again = push(world.client, world.engine, world.cfg, now=now, tasks=False)
    assert (again.records_changed, again.updates_sent) == (0, 0)
    assert stat(sb, BATCH_UPDATE) == 0

    # One contact (without a company, so no account score moves) requests a consultation: one batch, one input.
    primary = portal.assoc.primary[("contacts", "companies")]
    lone = next(r for r in contacts if r.contact_id not in primary and r.status == "nurture")
    write_rows(
        world.engine,
        activities=[
            activity("test:demo", lone.contact_id, ActivityKind.FORM_SUBMISSION, now, form_name="Beratung vereinbaren")
        ],
    )
    score(world.engine, world.cfg, now, [lone.contact_id])
    sb.reset_stats()
    one = push(world.client, world.engine, world.cfg, now=now, tasks=False)
    assert (one.records_changed, one.records_pushed, one.updates_sent) == (1, 1, 1)
    assert stat(sb, BATCH_UPDATE) == 1
    assert set(one.properties_changed) <= set(expected_contact(lone))
    assert "hubsync_engagement_score" in one.properties_changed
    (row,) = [r for r in world.rows(contact_score_t) if r.contact_id == lone.contact_id]
    assert row.engagement > lone.engagement
    assert live_contacts[lone.contact_id].props["hubsync_engagement_score"] == str(row.engagement)


@pytest.mark.slow
def test_partial_failures_land_the_valid_records_and_keep_the_others_unpushed(world: World) -> None:
    portal = world.sb.portal
    now = portal_now(portal)
    # Two contacts HubSpot no longer has (merged away since the last pull): known locally, scored, refused by
    # HubSpot as not found. And an admin's edit of a property: one tier option removed, so HubSpot refuses
    # hubsync's value for every contact of that tier.
    gone = (990_000_001, 990_000_002)
    write_rows(
        world.engine,
        contacts=[{"id": i, "email": f"merged{i}@example.com", "jobtitle": "CEO", "properties": {}} for i in gone],
    )
    score(world.engine, world.cfg, now, gone)
    catalog = portal.catalogs["contacts"].properties
    tier_def = catalog["hubsync_tier"]
    with world.engine.connect() as conn:
        tiers = {r.contact_id: r.tier for r in conn.execute(sa.select(contact_score_t))}
    refused_tier = "mid_market"
    catalog["hubsync_tier"] = dataclasses.replace(
        tier_def, options=tuple(o for o in tier_def.options if o != refused_tier)
    )
    refused = {i for i in tiers if tiers[i] == refused_tier}
    try:
        result = push(world.client, world.engine, world.cfg, now=now, tasks=False)
    finally:
        catalog["hubsync_tier"] = tier_def
    failed = {f.object_id: f.error for f in result.failures if f.object_type == "contacts"}
    assert refused
    assert set(failed) == set(gone) | refused
    assert "OBJECT_NOT_FOUND" in failed[gone[0]]
    assert all("was not one of the allowed options" in failed[i] for i in refused)
    pushed = {r.object_id for r in world.rows(pushed_t) if r.object_type == "contacts"}
    assert not pushed & set(failed)
    live = portal.stores["contacts"].by_id
    landed = [i for i in tiers if i not in failed]
    assert len(landed) > 1000
    assert all("hubsync_segment" in live[i].props for i in landed)
    assert all("hubsync_segment" not in live[i].props for i in refused)

    # The next push sends the failed ones again (and only those); with the option back, the refused ones land.
    world.sb.reset_stats()
    retry = push(world.client, world.engine, world.cfg, now=now, tasks=False)
    assert retry.records_changed == len(failed)
    assert {f.object_id for f in retry.failures} == set(gone)
