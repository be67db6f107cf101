"""Every activity stream is fetched ahead once the contacts are stored, and its pages are stored while another stream
waits for a page (jobs/pull/__init__.py `_fetch_ahead`, activity_logs.py `store_meanwhile`): the e-mail events are
stored while the associations, read slowly, are still being read. Each group still commits with its stream's
cursor: a call that fails for good stops the pull when its stream's turn comes, after its earlier pages, and the next
run resumes to the same database an undisturbed pull leaves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.client import HubSpotClient
from hubsync.sandbox.server import start_sandbox
from hubsync.store.cursors import load_cursor
from tests.support.sandbox import fast_client

from .portal_state import differences, expected, stored
from .pull_support import UNPACED

FAILING_WEB_CALL = 3


class _Slowed(HubSpotClient):
    """The real client; association reads take a while (the stream being stored waits for its pages), and the
    `fail_web_call`th web events call fails for good (once), if set."""

    def __init__(self, sb: Any, fail_web_call: int | None = None) -> None:
        base = fast_client(sb)
        super().__init__(base._settings, sleep=lambda _s: None)
        base.close()
        self.fail_web_call = fail_web_call
        self.web_calls = 0

    def call(self, fn: Any, *args: Any, operation: str | None = None, **kwargs: Any) -> Any:
        if operation is not None and operation.startswith("associations"):
            time.sleep(0.3)
        if operation == "web events" and self.fail_web_call is not None:
            self.web_calls += 1
            if self.web_calls == self.fail_web_call:
                self.fail_web_call = None
                raise FatalHubSpotError("injected: a web events call", status=400)
        return super().call(fn, *args, operation=operation, **kwargs)


def _cursor_writes(engine: Any) -> tuple[list[str], Callable[[], None]]:
    """The streams whose cursors are saved, in order; and how to stop listening."""
    written: list[str] = []
    lock = threading.Lock()

    def noted(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "sync_cursor" in statement and statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            for stream in ("associations", "email_events", "web_events"):
                if f"'{stream}'" in repr(parameters):
                    with lock:
                        written.append(stream)

    sa.event.listen(engine, "before_cursor_execute", noted)
    return written, lambda: sa.event.remove(engine, "before_cursor_execute", noted)


def test_activity_pages_are_stored_while_the_associations_are_read(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=400, seed=5, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        puller = make_puller(sb, client=_Slowed(sb))
        written, stop = _cursor_writes(puller.engine)
        first = puller.now()
        puller()
        stop()
        # The associations save their cursor once, at their end: e-mail events were stored before it.
        assert "associations" in written
        assert "email_events" in written[: written.index("associations")], written
        diff = differences(expected(sb.portal, run_started=first, first_run_started=first), stored(puller.engine))
        assert diff == {}, repr(diff)


def test_a_failed_call_of_a_stream_stored_meanwhile_comes_out_in_its_turn_and_the_next_run_resumes(
    make_puller: Callable[..., Any],
) -> None:
    with start_sandbox(contacts=400, seed=5, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        puller = make_puller(sb, client=_Slowed(sb, fail_web_call=FAILING_WEB_CALL))
        written, stop = _cursor_writes(puller.engine)
        first = puller.now()
        with pytest.raises(FatalHubSpotError, match="injected"):
            puller()
        stop()
        # The web events' pages before the failed call were stored, each group with its cursor, and the e-mail
        # events (a stream before them) all were.
        with puller.engine.connect() as conn:
            web_cursor = load_cursor(conn, "web_events")
            email_cursor = load_cursor(conn, "email_events")
        assert "web_events" in written
        assert web_cursor is not None
        assert web_cursor.get("window") is not None
        assert email_cursor is not None
        assert email_cursor.get("window") is None

        sb.portal.advance(60)
        puller()
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)
