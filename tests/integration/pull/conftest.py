"""Fixtures for pull tests (helpers in pull_support.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.pull import PullOptions
from hubsync.sandbox.server import Sandbox
from hubsync.store.db import open_database
from tests.support.sandbox import fast_client

from .pull_support import Puller


@pytest.fixture
def make_puller(database_url: str) -> Iterator[Callable[..., Puller]]:
    made: list[Puller] = []

    def make(sb: Sandbox, options: PullOptions | None = None, client: HubSpotClient | None = None) -> Puller:
        engine = open_database(database_url)
        puller = Puller(sb, engine, client or fast_client(sb), options or PullOptions())
        made.append(puller)
        return puller

    yield make
    for puller in made:
        puller.client.close()
        puller.engine.dispose()
