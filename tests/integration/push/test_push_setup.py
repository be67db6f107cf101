"""`hubsync setup` against the sandbox portal: scopes, property creation, idempotency, conflicts (acceptance 6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from hubsync.cli import app
from hubsync.errors import AuthenticationFailed, MissingScopes
from hubsync.hubspot.classify import SCOPES_WHERE
from hubsync.jobs.properties import definitions
from hubsync.jobs.setup import Action, setup
from hubsync.sandbox import schema
from hubsync.sandbox.catalog import PropertyDef
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.settings import PushConfig
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import fast_client

from .push_world import CREATE_GROUP, CREATE_PROPERTY, stat

HUBSYNC = PushConfig()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=20, seed=3, rate_limits=False) as sb:
        yield sb


def test_setup_creates_group_and_properties_then_nothing_the_second_time(sandbox: Sandbox) -> None:
    client = fast_client(sandbox)
    first = setup(client, HUBSYNC)
    assert len(first.groups_created) == 2
    assert len(first.properties_created) == 18
    for d in definitions(HUBSYNC):
        created = sandbox.portal.catalogs[d.object_type].properties[d.name]
        assert (created.type, created.field_type, created.group) == (d.type, d.field_type, "hubsync")
        assert created.options == tuple(value for value, _ in d.options)
        assert created.description == d.description
    assert "hubsync" in sandbox.portal.catalogs["companies"].groups

    sandbox.reset_stats()
    second = setup(client, HUBSYNC)
    assert second.groups_created == ()
    assert second.properties_created == ()
    assert {p.action for p in second.plan.properties} == {Action.EXISTS}
    # Only the two schema-scope probes reach the create endpoint (empty bodies, answered 400).
    assert sandbox.stats()["endpoints"][CREATE_PROPERTY] == {"400": 2}
    assert stat(sandbox, CREATE_GROUP) == 0


def test_conflicting_property_is_reported_and_left_alone(sandbox: Sandbox) -> None:
    catalog = sandbox.portal.catalogs["contacts"]
    # An admin's own text property that happens to have hubsync's name.
    theirs = PropertyDef("hubsync_segment", "Segment", "string", "text", "contactinformation", hubspot_defined=False)
    catalog.properties["hubsync_segment"] = theirs
    result = setup(fast_client(sandbox), HUBSYNC)
    assert [(c.definition.name, c.action) for c in result.conflicts] == [("hubsync_segment", Action.CONFLICT)]
    assert "type is 'string'" in result.conflicts[0].conflict
    assert catalog.properties["hubsync_segment"] is theirs
    assert "contacts.hubsync_segment" not in result.properties_created
    assert len(result.properties_created) == 17


def test_dry_run_shows_the_plan_and_changes_nothing(sandbox: Sandbox) -> None:
    result = setup(fast_client(sandbox), HUBSYNC, dry_run=True)
    assert {p.action for p in result.plan.properties} == {Action.CREATE}
    assert "hubsync_reason" not in sandbox.portal.catalogs["contacts"].properties
    assert stat(sandbox, CREATE_GROUP) == 0
    assert "plan (dry run, nothing changed):" in result.lines()[0]


def test_missing_scopes_are_all_named_before_anything_is_created(sandbox: Sandbox) -> None:
    without = tuple(s for s in schema.ALL_SCOPES if s not in {"crm.schemas.companies.write", "forms"})
    client = fast_client(sandbox, token=sandbox.add_token(without))
    with pytest.raises(MissingScopes) as caught:
        setup(client, HUBSYNC)
    assert set(caught.value.scopes) == {"crm.schemas.companies.write", "forms"}
    assert SCOPES_WHERE in str(caught.value)
    assert "hubsync" not in sandbox.portal.catalogs["contacts"].groups


@pytest.mark.usefixtures("restore_logging")
def test_cli_setup_twice_and_a_rejected_token(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_API_BASE_URL", sandbox.url)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", sandbox.token)
    monkeypatch.setenv("HUBSYNC_CONFIG", str(DEFAULT_CONFIG))
    runner = CliRunner()
    first = runner.invoke(app, ["setup"])
    assert first.exit_code == 0, first.output
    assert "created 2 group(s) and 18 property(ies); 0 conflict(s)" in first.output
    again = runner.invoke(app, ["setup"])
    assert again.exit_code == 0, again.output
    assert "created 0 group(s) and 0 property(ies); 0 conflict(s)" in again.output
    assert sandbox.token not in first.output + again.output

    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-not-a-real-token")
    rejected = runner.invoke(app, ["setup"])
    # `main()` turns this into one line and exit code 5; the runner calls the app underneath it.
    assert isinstance(rejected.exception, AuthenticationFailed)
    assert rejected.exception.exit_code == 5
