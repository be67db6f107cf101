"""Fetching runs several pages ahead of storing (jobs/pull/pipelined.py). A call that fails while pages fetched
before it still wait to be stored comes out after those pages, in order: they are stored with their cursors, nothing
after them is, and the next run resumes from the last stored cursor to the same database an undisturbed pull
leaves (nothing lost, nothing stored twice)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.pull.pipelined import AHEAD
from hubsync.sandbox.server import start_sandbox
from hubsync.store.tables import contact_t
from tests.support.sandbox import fast_client

from .portal_state import differences, expected, stored
from .pull_support import UNPACED

FAILING_PAGE = 4


class _FailsOnPage(HubSpotClient):
    """The real client, but the `FAILING_PAGE`th live listing of contacts fails for good (once)."""

    def __init__(self, sb: Any, stored_pages: Callable[[], int]) -> None:
        base = fast_client(sb)
        super().__init__(base._settings, sleep=lambda _s: None)
        base.close()
        self.listed = 0
        self.failed = False
        self.stored_pages = stored_pages
        self.stored_when_failed: int | None = None

    def call(self, fn: Callable[..., Any], *args: Any, operation: str | None = None, **kwargs: Any) -> Any:
        if operation == "list contacts" and not kwargs.get("archived") and not self.failed:
            self.listed += 1
            if self.listed == FAILING_PAGE:
                self.failed = True
                self.stored_when_failed = self.stored_pages()
                raise FatalHubSpotError("injected: the fourth page of contacts", status=400)
        return super().call(fn, *args, operation=operation, **kwargs)


def test_a_failed_fetch_ahead_surfaces_after_the_pages_before_it(make_puller: Callable[..., Any]) -> None:
    assert AHEAD >= FAILING_PAGE  # the failing call is made while earlier pages still wait to be stored
    with start_sandbox(contacts=600, seed=3, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        inserts = [0]
        lock = threading.Lock()

        def contact_pages_written() -> int:
            with lock:
                return inserts[0]

        client = _FailsOnPage(sb, contact_pages_written)
        puller = make_puller(sb, client=client)

        # Storing a page of contacts is slowed, so fetching gets ahead of it.
        def slow_contacts(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.startswith("INSERT INTO contact "):
                time.sleep(0.3)
                with lock:
                    inserts[0] += 1

        sa.event.listen(puller.engine, "before_cursor_execute", slow_contacts)
        first = puller.now()
        with pytest.raises(FatalHubSpotError, match="injected"):
            puller()
        sa.event.remove(puller.engine, "before_cursor_execute", slow_contacts)
        # The failing call was made before the three pages ahead of it were stored, yet they all were, with their
        # cursor, and nothing after them.
        assert client.stored_when_failed is not None
        assert client.stored_when_failed < FAILING_PAGE - 1
        assert _count(puller.engine) == 3 * 100
        sb.portal.advance(60)
        puller()
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(contact_t)).scalar_one())
