"""Strict pages against the sandbox portal: a 2xx answer whose body is not the endpoint's page is never taken for an
empty page. It is retried; if it persists the pull stops with one line naming the call and what was wrong, the
stream's cursor stays where it was, and a run after the fault is gone recovers everything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from hubsync.errors import HubsyncError, MalformedAnswer
from hubsync.hubspot.streams import crm, email_events, forms, owners
from hubsync.jobs.pull import PullOptions
from hubsync.sandbox.limits import BODY_FAULT_KINDS, FaultSettings
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.store.cursors import load_cursor
from hubsync.store.tables import activity_t
from tests.support.cli import cli_env, run_hubsync
from tests.support.config import UNPACED_CONFIG, config_with
from tests.support.sandbox import fast_client, portal_now

from .portal_state import differences, expected, stored
from .pull_support import UNPACED

SUBMISSIONS = "GET /form-integrations/v1/submissions/forms/{formGuid}"


def _form_submissions(puller: Any) -> set[str]:
    with puller.engine.connect() as conn:
        return set(conn.execute(sa.select(activity_t.c.id).where(activity_t.c.kind == "form_submission")).scalars())


@pytest.mark.parametrize(
    ("endpoint", "operation", "kind", "problem"),
    [
        ("GET /marketing/v3/forms", "list forms", "not_json", "a body that is not JSON"),
        (SUBMISSIONS, "form submissions", "not_json", "a body that is not JSON"),
        (SUBMISSIONS, "form submissions", "empty", "an empty body"),
    ],
    ids=["form list", "submissions", "empty submissions"],
)
def test_an_invalid_json_page_on_the_forms_stream_moves_no_cursor_and_a_rerun_recovers_all(
    make_puller: Callable[..., Any], endpoint: str, operation: str, kind: str, problem: str
) -> None:
    with start_sandbox(contacts=150, seed=4, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        # Every run re-lists the forms (as the weekly reconciliation does), so both endpoints of the stream are read.
        puller = make_puller(sb, PullOptions(full_reconcile_every=timedelta(0)))
        first = puller.now()
        puller()
        # New submissions after the first run: the contacts' conversion dates make the next run poll the forms.
        portal = sb.portal
        for contact_id in portal.stores["contacts"].live[:6]:
            portal.add_form_submission(contact_id, portal.forms[0].guid, page_url="https://www.leadwerk.example/demo")
        portal.advance(60)
        with puller.engine.connect() as conn:
            cursor_before = load_cursor(conn, "form_submissions")
        stored_before = _form_submissions(puller)
        assert cursor_before is not None
        sb.set_faults(FaultSettings(rate=1.0, kinds=(kind,), endpoints=(endpoint,)))
        sb.reset_stats()

        with pytest.raises(MalformedAnswer) as failed:
            puller()

        message = str(failed.value)
        assert message == (
            f"HubSpot's answer to '{operation}' (200) is not what that endpoint sends: {problem} "
            "(gave up after 6 attempts)"
        )
        assert isinstance(failed.value, HubsyncError)
        assert failed.value.exit_code == 4
        assert sb.stats()["endpoints"][endpoint] == {"200": 6}
        with puller.engine.connect() as conn:
            assert load_cursor(conn, "form_submissions") == cursor_before
        assert _form_submissions(puller) == stored_before

        sb.set_faults(FaultSettings())
        puller()
        want = expected(portal, run_started=puller.now(), first_run_started=first)
        submissions = {k for k in want["activities"] if k.startswith("form_submission:")}
        assert len(submissions) > len(stored_before)
        assert _form_submissions(puller) == submissions
        assert differences(want, stored(puller.engine)) == {}


def _pull_call(sb: Sandbox, kind: str) -> tuple[str, Callable[[], Any]]:
    """One call of each way the gateway reads: a raw JSON SDK call, an SDK model, and two legacy requests."""
    client = fast_client(sb)
    now = portal_now(sb.portal)
    form = sb.portal.forms[0].guid
    spec = crm.ObjectSpec("contacts", "contacts", ("email",))
    calls: dict[str, tuple[str, Callable[[], Any]]] = {
        "list contacts": ("GET /crm/v3/objects/{objectType}", lambda: crm.list_page(client, spec, None)),
        "list owners": ("GET /crm/v3/owners", lambda: owners.read_all(client)),
        "form submissions": (
            SUBMISSIONS,
            lambda: forms.submissions_page(
                client, form_id=form, form_name=None, since=now, position=None, contact_id_by_email={}
            ),
        ),
        "email events": ("GET /email/public/v1/events", lambda: email_events.page(client, now, now, None, {})),
    }
    return calls[kind]


@pytest.mark.parametrize("operation", ["list contacts", "list owners", "form submissions", "email events"])
def test_every_bad_body_kind_is_a_malformed_answer_whatever_the_way_of_reading(operation: str) -> None:
    with start_sandbox(contacts=20, seed=3, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        for kind in BODY_FAULT_KINDS:
            endpoint, call = _pull_call(sb, operation)
            sb.set_faults(FaultSettings(rate=1.0, kinds=(kind,), endpoints=(endpoint,)))
            sb.reset_stats()
            with pytest.raises(MalformedAnswer) as failed:
                call()
            assert f"HubSpot's answer to '{operation}' (200)" in str(failed.value), kind
            assert "gave up after 6 attempts" in str(failed.value)
            assert sb.stats()["endpoints"][endpoint] == {"200": 6}, kind


def test_owners_answering_null_now_and_then_are_read_whole() -> None:
    with start_sandbox(contacts=20, seed=3, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        sb.set_faults(FaultSettings(rate=0.5, seed=1, kinds=("null",), endpoints=("GET /crm/v3/owners",)))
        found, skipped = owners.read_all(fast_client(sb, max_retries=10))
        assert sb.stats()["endpoints"]["GET /crm/v3/owners"]["200"] > 2  # some answers were null, and retried
        assert skipped == 0
        assert sorted(o.id for o in found) == sorted(o.id for o in sb.portal.owners)


@pytest.mark.slow
def test_bad_bodies_now_and_then_on_every_stream_change_nothing(make_puller: Callable[..., Any]) -> None:
    faults = FaultSettings(rate=0.15, seed=11, kinds=BODY_FAULT_KINDS)
    with start_sandbox(contacts=300, seed=6, rate_limits=False, per_ten_seconds=UNPACED, faults=faults) as sb:
        puller = make_puller(sb, client=fast_client(sb, max_retries=10))
        first = puller.now()
        with capture_logs() as logs:
            puller()
            sb.portal.advance(60)
            live = sb.portal.stores["contacts"].live
            sb.portal.bulk_update("contacts", live[:50], {"lifecyclestage": "lead"})
            sb.portal.add_form_submission(live[3], sb.portal.forms[0].guid, page_url="https://www.leadwerk.example/x")
            sb.portal.advance(60)
            puller()
        problems = {entry["problem"] for entry in logs if entry["event"] == "client.malformed_answer"}
        # Every kind of bad body was met (a cut-off body, none, null, a list, an object without its results).
        assert {"a body that is not JSON", "an empty body", "JSON null", "a JSON list, not an object"} <= problems
        assert 'no "results" list' in problems
        want = expected(sb.portal, run_started=puller.now(), first_run_started=first)
        assert differences(want, stored(puller.engine)) == {}


@pytest.mark.slow
def test_hubsync_sync_names_the_bad_page_in_one_line_and_exits_4(tmp_path: Path) -> None:
    # The client's real backoff runs here (about 31 s over six attempts): that is what an admin's run does.
    db = f"sqlite:///{tmp_path / 'h.db'}"
    faults = FaultSettings(rate=1.0, kinds=("not_json",), endpoints=("GET /marketing/v3/forms",))
    with start_sandbox(contacts=30, seed=2, rate_limits=False, per_ten_seconds=UNPACED, faults=faults) as sb:
        config = config_with(tmp_path, UNPACED_CONFIG)
        result = run_hubsync(cli_env(db, sandbox=sb, config=config), "sync", "--no-push")
    assert result.returncode == 4, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("hubsync:")]
    assert lines == [
        (
            "hubsync: HubSpot's answer to 'list forms' (200) is not what that endpoint sends: a body that is not JSON "
            "(gave up after 6 attempts)"
        )
    ]
    assert "Traceback" not in result.stderr
