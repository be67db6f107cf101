"""Archiving properties and property groups, through the gateway (`hubspot/properties.py`) against the sandbox:
HubSpot's own properties cannot be archived, an unknown one is 404 (which the gateway reads as "gone already"), and
the sandbox refuses a group that still holds properties."""

from __future__ import annotations

import pytest

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot import properties as properties_api
from hubsync.hubspot.properties import PropertyDefinition
from hubsync.sandbox import start_sandbox
from tests.support.sandbox import fast_client

MINE = PropertyDefinition("contacts", "acme_score", "Score", "", "number", "number", "acme")


def test_archive_a_property_then_its_group_each_once() -> None:
    with start_sandbox(contacts=20, seed=1, rate_limits=False) as sb, fast_client(sb) as client:
        assert properties_api.create_group(client, "contacts", "acme", "Acme")
        assert properties_api.create_property(client, MINE) is None

        with pytest.raises(FatalHubSpotError, match="still holds properties: acme_score") as held:
            properties_api.archive_group(client, "contacts", "acme")
        assert held.value.status == 400

        assert properties_api.archive_property(client, "contacts", "acme_score") is True
        assert properties_api.archive_property(client, "contacts", "acme_score") is False  # 404: gone already
        assert "acme_score" not in properties_api.read_properties(client, "contacts")
        assert properties_api.archive_group(client, "contacts", "acme") is True
        assert properties_api.archive_group(client, "contacts", "acme") is False
        groups, _ = properties_api.read_portal_schema(client)
        assert "acme" not in groups["contacts"]


def test_hubspots_own_properties_cannot_be_archived() -> None:
    with start_sandbox(contacts=20, seed=1, rate_limits=False) as sb, fast_client(sb) as client:
        with pytest.raises(FatalHubSpotError, match="HubSpot-defined") as refused:
            properties_api.archive_property(client, "contacts", "email")
        assert refused.value.status == 400
        assert "email" in properties_api.read_properties(client, "contacts")
