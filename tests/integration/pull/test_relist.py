"""A window that matches most of a stream (after hubsync wrote scores to most records) is read by listing the stream
instead (jobs/pull/crm.py, hubspot/relist.py): the sandbox's request log shows list calls, not search pages, and
the database ends equal to the portal; a run stopped in the middle of the relisting resumes it, nothing lost; a
record changed by someone else while it runs is read by the next window; records whose content did not change are
not written again (their modified date alone moves)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.errors import FatalHubSpotError
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.cursors import CrmCursor
from hubsync.sandbox.portal import Portal
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.store.cursors import load_cursor
from tests.support.sandbox import fast_client

from .portal_state import differences, expected, stored
from .pull_support import UNPACED

CONTACTS = 1_500
LIST = "GET /crm/v3/objects/{objectType}"


def _own_writes(portal: Portal) -> list[int]:
    """What a push does to a portal: a property hubsync writes (and does not pull) on nearly every contact moves
    their modified dates and nothing else the pull reads."""
    portal.advance(60)
    live = sorted(portal.stores["contacts"].live)
    for i, contact in enumerate(live[: len(live) * 9 // 10]):
        portal.update("contacts", contact, {"hubsync_score": str(i % 100)})
    portal.advance(60)
    return live


def _requests(sb: Sandbox, endpoint: str) -> int:
    return sum(sb.stats()["endpoints"].get(endpoint, {}).values())


class _Hooked(HubSpotClient):
    """The real client; `hook(n)` runs before the n-th live listing of contacts (it may raise to stop the run)."""

    def __init__(self, sb: Sandbox, hook: Callable[[int], None]) -> None:
        base = fast_client(sb)
        super().__init__(base.settings, sleep=lambda _s: None)
        base.close()
        self.hook = hook
        self.listed = 0

    def call(self, fn: Callable[..., Any], *args: Any, operation: str | None = None, **kwargs: Any) -> Any:
        if operation == "list contacts" and not kwargs.get("archived"):
            self.listed += 1
            self.hook(self.listed)
        return super().call(fn, *args, operation=operation, **kwargs)


@contextmanager
def _contact_rows_written(engine: Engine) -> Iterator[dict[str, int]]:
    """Rows written to the contact table, by statement kind ("insert": upserts of whole rows, "update")."""
    written = {"insert": 0, "update": 0, "copy": 0}

    def count(_conn: Any, cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool) -> None:
        head = statement.lstrip().upper()
        # As the database counts them: a statement per row, or one from a stage (PostgreSQL's COPY path).
        rows = cursor.rowcount
        if head.startswith("INSERT INTO CONTACT "):
            written["insert"] += rows
        elif head.startswith("UPDATE CONTACT "):
            written["update"] += rows
        elif head.startswith("COPY") and "CONTACT" in head:
            written["copy"] += 1

    sa.event.listen(engine, "after_cursor_execute", count)
    try:
        yield written
    finally:
        sa.event.remove(engine, "after_cursor_execute", count)


@pytest.mark.slow
def test_a_window_matching_most_records_is_listed_and_ends_equal_to_the_portal(
    make_puller: Callable[..., Any],
) -> None:
    with start_sandbox(contacts=CONTACTS, seed=21, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        puller = make_puller(sb)
        first = puller.now()
        puller()
        live = _own_writes(sb.portal)
        # One real change among the rewritten: it is stored and reported for rescoring.
        sb.portal.update("contacts", live[3], {"jobtitle": "Head of Data"})
        # A form submitted: the contact's conversion date in the listed window still makes the run read forms.
        sb.portal.add_form_submission(live[7], sb.portal.forms[0].guid, page_url="https://www.leadwerk.example/x")
        sb.portal.advance(60)
        sb.reset_stats()
        started = puller.now()
        with _contact_rows_written(puller.engine) as written:
            result, ops = puller.counted()
        # The window's first search page told how much matched; the rest was listed (one list call per 100).
        assert ops.get("search contacts") == 1, ops
        assert ops.get("list contacts") == -(-len(live) // 100), ops
        assert _requests(sb, LIST) >= ops["list contacts"], sb.stats()["endpoints"]
        # The deletions check still counts what was created before the window's start.
        assert ops.get("count contacts") == 1, ops
        # Only the changed contacts were written whole; the others had their modified date moved.
        # (PostgreSQL sends a few rows as one multi-row statement, counted once.)
        assert 1 <= written["insert"] <= 2, written
        assert written["update"] == len(live) * 9 // 10 - 2, written
        assert {live[3], live[7]} <= result.touched_contacts
        assert not set(live[8:100]) & result.touched_contacts
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)
        # The listing closed the stream at the run's start: the next window begins an overlap before it.
        with puller.engine.connect() as conn:
            assert CrmCursor.from_json(load_cursor(conn, "contacts")) == CrmCursor("incremental", synced_to=started)


@pytest.mark.slow
def test_unchanged_records_read_again_are_not_written(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=300, seed=22, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        puller = make_puller(sb)
        first = puller.now()
        puller()
        sb.portal.advance(60)
        edited = sorted(sb.portal.stores["contacts"].live)[:50]
        for contact in edited:
            sb.portal.update("contacts", contact, {"jobtitle": f"Analyst {contact}"})
        sb.portal.advance(60)
        puller()
        sb.portal.advance(60)
        # The next run reads the edited contacts again (they are inside the overlap): nothing moved, nothing written.
        with _contact_rows_written(puller.engine) as written:
            result = puller()
        assert result.counts["contacts"].stored >= len(edited)
        assert written == {"insert": 0, "update": 0, "copy": 0}
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)


@pytest.mark.slow
def test_a_relisting_stopped_midway_resumes_and_a_change_behind_it_is_read_next(
    make_puller: Callable[..., Any],
) -> None:
    with start_sandbox(contacts=CONTACTS, seed=23, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        plain = make_puller(sb)
        first = plain.now()
        plain()
        live = _own_writes(sb.portal)
        # Past the overlap: the window that follows the relisting does not match the rewritten contacts again.
        sb.portal.advance(15 * 60)
        behind = live[0]  # on the first list page

        def stop_on_the_sixth(n: int) -> None:
            if n == 4:
                # Someone edits a contact the listing has already passed.
                sb.portal.advance(1)
                sb.portal.update("contacts", behind, {"jobtitle": "Changed during the relisting"})
            if n == 6:
                raise FatalHubSpotError("injected: the relisting stops here", status=400)

        stopping = make_puller(sb, client=_Hooked(sb, stop_on_the_sixth))
        stopped_started = stopping.now()
        with pytest.raises(FatalHubSpotError, match="injected"):
            stopping()
        with plain.engine.connect() as conn:
            cursor = CrmCursor.from_json(load_cursor(conn, "contacts"))
        # Stored with each page: the listing, its start and what the stream was synced to before it.
        assert cursor.mode == "full"
        assert cursor.after is not None
        assert cursor.started == stopped_started
        assert cursor.synced_to is not None
        assert cursor.synced_to < stopped_started
        # Longer than the overlap: the change is read because the next window begins at the listing's own start.
        sb.portal.advance(20 * 60)
        sb.reset_stats()
        resumed = make_puller(sb, client=_Hooked(sb, lambda _n: None))
        _, ops = resumed.counted()
        # Resumed from its token: the five pages stored before the stop are not listed again; then one window page
        # since the listing's start.
        assert ops["list contacts"] == -(-len(live) // 100) - 5, ops
        assert ops["search contacts"] == 1, ops
        # The deletions check counts what was created before the relisting began.
        assert ops["count contacts"] == 1, ops
        diff = differences(
            expected(sb.portal, run_started=resumed.now(), first_run_started=first), stored(plain.engine)
        )
        assert diff == {}, repr(diff)
        with plain.engine.connect() as conn:
            title = conn.execute(sa.text("SELECT jobtitle FROM contact WHERE id = :i"), {"i": behind}).scalar_one()
        assert title == "Changed during the relisting"
