"""Pure parts of the sales handoff: owner routing, the task's subject and body, recognising hubsync's tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hubsync.hubspot.tasks_api import hubspot_instant
from hubsync.jobs.open_tasks import is_hubsync_open
from hubsync.records import Activity, ActivityKind, Company, Contact
from hubsync.render.task_text import MARKER, task_body, task_subject
from hubsync.scoring import explain_contact, history_lines
from hubsync.scoring.handoff import route_owner
from hubsync.settings import load_settings
from tests.support.paths import DEFAULT_CONFIG

ROUTES = ("contact_owner", "company_owner", "round_robin")


def _route(contact: int | None, company: int | None, routing: tuple[str, ...] = ROUTES) -> int | None:
    free = {1: 20, 2: 20, 5: 20, 6: 20}
    return route_owner(
        routing, contact_owner=contact, company_owner=company, round_robin=[5, 6], free=free, need_room=True
    )


def test_routing_prefers_the_contact_owner_then_the_company_owner() -> None:
    assert _route(1, 2) == 1
    assert _route(None, 2) == 2
    # An owner who left (archived, not active) is skipped.
    assert _route(9, 2) == 2
    assert _route(1, 2, ("company_owner", "contact_owner")) == 2
    assert _route(None, None) == 5  # round robin


def test_routing_skips_an_owner_without_free_capacity_unless_told_not_to() -> None:
    free = {1: 0, 2: 3, 5: 1}
    kw = {"contact_owner": 1, "company_owner": 2, "round_robin": [5]}
    assert route_owner(ROUTES, **kw, free=free, need_room=True) == 2  # type: ignore[arg-type]  # the keywords above
    assert route_owner(ROUTES, **kw, free=free, need_room=False) == 1  # type: ignore[arg-type]  # the keywords above


def test_round_robin_takes_the_configured_owner_with_the_most_free_capacity_in_turn() -> None:
    free: dict[int, int] = {5: 17, 6: 17, 7: 20}
    picks = []
    for _ in range(4):
        owner = route_owner(
            ROUTES, contact_owner=None, company_owner=None, round_robin=[5, 6], free=free, need_room=True
        )
        assert owner is not None
        picks.append(owner)
        free[owner] -= 1
    # 7 is active but not on the list; 5 and 6 alternate, config order on a tie.
    assert picks == [5, 6, 5, 6]


def test_no_route_no_owner() -> None:
    none_free = {1: 20}
    assert (
        route_owner(ROUTES, contact_owner=None, company_owner=None, round_robin=[], free=none_free, need_room=True)
        is None
    )
    assert (
        route_owner(
            ("contact_owner",), contact_owner=None, company_owner=2, round_robin=[2], free={2: 5}, need_room=True
        )
        is None
    )


def test_subject_and_body_of_jan_kowalskis_task() -> None:
    model = load_settings({}, str(DEFAULT_CONFIG)).config.scoring
    now = datetime(2025, 3, 19, 10, tzinfo=UTC)
    jan = Contact(id=1, firstname="Jan", lastname="Kowalski", jobtitle="CEO", company_id=5)
    acme = Company(id=5, numberofemployees="500", industry="COMPUTER_SOFTWARE")
    acts = [
        Activity("1", 1, ActivityKind.FORM_SUBMISSION, datetime(2025, 3, 3, 9, tzinfo=UTC), form_name="E-Book: X"),
        Activity("2", 1, ActivityKind.MARKETING_EVENT, datetime(2025, 3, 10, 9, tzinfo=UTC), event_type="attended"),
        Activity("3", 1, ActivityKind.PAGE_VIEW, datetime(2025, 3, 17, 9, tzinfo=UTC), url="https://a.example/preise"),
        Activity("4", 1, ActivityKind.FORM_SUBMISSION, now, form_name="Beratung vereinbaren <b>"),
    ]
    explanation = explain_contact(jan, acme, acts, model, now=now)
    score = explanation.score
    subject = task_subject(score, "Jan Kowalski")
    assert subject == f"{MARKER} A1 lead, engagement 95: Jan Kowalski (sales_ready)"
    body = task_body(score, history_lines(explanation), triggers=["status", "segment"])
    lines = body.split("<br>\n")
    assert lines[0] == f"Why now: {score.reason}"
    assert "handed over for: status, segment." in lines[1]
    assert [line[:10] for line in lines if line[:4] == "2025"] == [
        "2025-03-03",
        "2025-03-10",
        "2025-03-17",
        "2025-03-19",
    ]
    assert "<b>" not in body  # text from HubSpot is escaped, the line breaks are the only markup


def test_long_histories_are_cut_to_the_newest_lines() -> None:
    model = load_settings({}, str(DEFAULT_CONFIG)).config.scoring
    now = datetime(2025, 3, 19, 10, tzinfo=UTC)
    acts = [
        Activity(str(i), 1, ActivityKind.PAGE_VIEW, datetime(2025, 3, 1 + i % 18, 9, tzinfo=UTC), url="https://a/x")
        for i in range(100)
    ]
    explanation = explain_contact(Contact(id=1), None, acts, model, now=now)
    body = task_body(explanation.score, history_lines(explanation), triggers=["score"])
    assert "earlier lines left out" in body
    assert len(body.split("<br>\n")) < 60


def test_hubsync_open_tasks_are_recognised_by_marker_and_status() -> None:
    assert is_hubsync_open({"hs_task_subject": f"{MARKER} A1 lead", "hs_task_status": "NOT_STARTED"})
    assert is_hubsync_open({"hs_task_subject": f"{MARKER} A1 lead", "hs_task_status": "WAITING"})
    assert not is_hubsync_open({"hs_task_subject": f"{MARKER} A1 lead", "hs_task_status": "COMPLETED"})
    assert not is_hubsync_open({"hs_task_subject": "Rückruf hubsync", "hs_task_status": "NOT_STARTED"})
    assert not is_hubsync_open({})


def test_due_dates_are_sent_as_utc_instants_with_milliseconds() -> None:
    berlin = timezone(timedelta(hours=1))
    assert hubspot_instant(datetime(2025, 3, 20, 10, 30, 5, 123_456, tzinfo=berlin)) == "2025-03-20T09:30:05.123Z"
    assert hubspot_instant(datetime(2025, 3, 20, 9, tzinfo=UTC)) == "2025-03-20T09:00:00.000Z"
