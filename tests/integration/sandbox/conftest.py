"""Fixtures for the sandbox portal tests: small portals, served over real HTTP, read through the official SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hubspot import HubSpot

from hubsync.sandbox import start_sandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hubsync.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A 300-contact portal without rate limits: conformance tests make many calls quickly."""
    with start_sandbox(contacts=300, seed=11, rate_limits=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> HubSpot:
    return HubSpot(access_token=sandbox.token, host=sandbox.url, base_url=sandbox.url)
