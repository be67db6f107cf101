"""The activity streams are fetched while the ones before them store (jobs/pull/__init__.py `_fetch_ahead`), and
pages waiting to be stored are stored together (activity_logs.py `store_steps`). Neither moves the rule that a page
and its cursor commit together: a call of a stream fetched ahead that fails comes out only after every page of the
stream before it and its own earlier pages are stored with their cursors; none of its pages after the failed call
is, and the next run resumes from there to the same database an undisturbed pull leaves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.client import HubSpotClient
from hubsync.records import ActivityKind
from hubsync.sandbox.server import start_sandbox
from hubsync.store.cursors import load_cursor
from hubsync.store.tables import activity_t
from tests.support.sandbox import fast_client

from .portal_state import differences, expected, stored
from .pull_support import UNPACED

FAILING_CALL = 5


class _Watching(HubSpotClient):
    """The real client; notes how many e-mail event pages were stored when form submissions were first asked for,
    and fails the `FAILING_CALL`th submissions call for good (once)."""

    def __init__(self, sb: Any, email_pages_stored: Callable[[], int]) -> None:
        base = fast_client(sb)
        super().__init__(base._settings, sleep=lambda _s: None)
        base.close()
        self.email_pages_stored = email_pages_stored
        self.stored_at_first_submissions: int | None = None
        self.submission_calls = 0
        self.failed = False

    def request(self, method: str, path: str, *args: Any, operation: str | None = None, **kwargs: Any) -> Any:
        if operation == "form submissions" and not self.failed:
            self.submission_calls += 1
            if self.stored_at_first_submissions is None:
                self.stored_at_first_submissions = self.email_pages_stored()
            if self.submission_calls == FAILING_CALL:
                self.failed = True
                raise FatalHubSpotError("injected: a form submissions call", status=400)
        return super().request(method, path, *args, operation=operation, **kwargs)


def test_the_next_stream_is_fetched_while_this_one_stores_and_fails_in_order(
    make_puller: Callable[..., Any],
) -> None:
    with start_sandbox(contacts=800, seed=5, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        lock = threading.Lock()
        email_cursor_writes = [0]

        def email_pages_stored() -> int:
            with lock:
                return email_cursor_writes[0]

        client = _Watching(sb, email_pages_stored)
        puller = make_puller(sb, client=client)

        # Storing e-mail events is slowed, so that fetching the next stream has time to start meanwhile.
        def slow_email_events(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
            if "sync_cursor" in statement and "email_events" in repr(parameters):
                time.sleep(0.2)
                with lock:
                    email_cursor_writes[0] += 1

        sa.event.listen(puller.engine, "before_cursor_execute", slow_email_events)
        first = puller.now()
        with pytest.raises(FatalHubSpotError, match="injected"):
            puller()
        sa.event.remove(puller.engine, "before_cursor_execute", slow_email_events)

        written = email_pages_stored()
        assert written >= 2
        # Form submissions were asked for before e-mail events were all stored: the streams overlapped.
        assert client.stored_at_first_submissions is not None
        assert client.stored_at_first_submissions < written
        # E-mail events were all stored, with the cursor at the end of their window; of the form submissions, the
        # pages before the failed call, each with its cursor, and nothing after.
        with puller.engine.connect() as conn:
            email_cursor = load_cursor(conn, "email_events")
            forms_cursor = load_cursor(conn, "form_submissions")
            submissions = conn.execute(
                sa.select(sa.func.count())
                .select_from(activity_t)
                .where(activity_t.c.id.startswith(f"{ActivityKind.FORM_SUBMISSION}:"))
            ).scalar_one()
        assert email_cursor is not None
        assert email_cursor.get("window") is None
        assert forms_cursor is not None
        assert forms_cursor.get("form_index") is not None
        assert submissions > 0

        sb.portal.advance(60)
        puller()
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)
