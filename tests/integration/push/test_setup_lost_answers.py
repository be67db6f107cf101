"""Issue 12: `hubsync setup` when HubSpot processed a create but its answer was lost. The client retries, the retry
answers 409; setup reads the property back and accepts it when it is hubsync's own definition."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsync.jobs.properties import definitions
from hubsync.jobs.setup import Action, apply_setup, plan_setup, setup
from hubsync.sandbox.catalog import PropertyDef
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.settings import PushConfig
from tests.support.cli import cli_env, run_hubsync
from tests.support.config import UNPACED_CONFIG, config_with
from tests.support.sandbox import fast_client

from .push_world import CREATE_GROUP, CREATE_PROPERTY

HUBSYNC = PushConfig()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=20, seed=3, rate_limits=False) as sb:
        yield sb


def test_setup_accepts_its_own_property_after_a_lost_create_answer(sandbox: Sandbox, tmp_path: Path) -> None:
    # The first group and the first property are created, and their answers never arrive.
    sandbox.lose_answers(CREATE_GROUP)
    sandbox.lose_answers(CREATE_PROPERTY)
    env = cli_env(sandbox=sandbox, config=config_with(tmp_path, UNPACED_CONFIG))

    first = run_hubsync(env, "setup", log_json=False, timeout=120)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "created 2 group(s) and 18 property(ies); 0 conflict(s)" in first.stdout
    endpoints = sandbox.stats()["endpoints"]
    # The lost answers (status 0), and the retries that conflicted with what the lost requests had created.
    assert endpoints[CREATE_GROUP]["0"] == 1
    assert endpoints[CREATE_GROUP]["409"] == 1
    assert endpoints[CREATE_PROPERTY]["0"] == 1
    assert endpoints[CREATE_PROPERTY]["409"] == 1
    for d in definitions(HUBSYNC):
        created = sandbox.portal.catalogs[d.object_type].properties[d.name]
        assert (created.type, created.field_type, created.group) == (d.type, d.field_type, "hubsync")

    second = run_hubsync(env, "setup", log_json=False, timeout=120)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "created 0 group(s) and 0 property(ies); 0 conflict(s)" in second.stdout


def test_a_conflicting_property_that_appears_between_plan_and_create_is_reported(sandbox: Sandbox) -> None:
    client = fast_client(sandbox)
    # The plan sees a portal without hubsync's properties …
    plan = plan_setup(HUBSYNC, {t: [] for t in ("contacts", "companies")}, {})
    # … then an admin creates a text property of one of hubsync's names before the create reaches HubSpot.
    theirs = PropertyDef("hubsync_segment", "Segment", "string", "text", "contactinformation", hubspot_defined=False)
    sandbox.portal.catalogs["contacts"].properties["hubsync_segment"] = theirs

    result = apply_setup(client, plan)

    assert [(c.definition.name, c.action) for c in result.conflicts] == [("hubsync_segment", Action.CONFLICT)]
    assert "type is 'string'" in result.conflicts[0].conflict
    assert sandbox.portal.catalogs["contacts"].properties["hubsync_segment"] is theirs
    assert "contacts.hubsync_segment" not in result.properties_created
    assert len(result.properties_created) == 17
    assert setup(client, HUBSYNC).properties_created == ()
