"""Sales tasks through the sandbox portal: worked example 1 (Jan Kowalski) end to end, never a duplicate across a
re-run, a crash between create and record, or a lost answer; completion and re-arming (acceptance 4), on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from hubsync.cli import app
from hubsync.errors import RetriableHubSpotError
from hubsync.hubspot import tasks_api
from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs import task_batches
from hubsync.jobs.push import PushResult, push
from hubsync.records import ActivityKind
from hubsync.render.push import push_lines
from hubsync.sandbox.records import CrmObject
from hubsync.sandbox.server import Sandbox
from hubsync.settings import Settings
from hubsync.store.tables import company_t, contact_score_t, contact_t
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import dt_to_ms, fast_client

from .push_world import BATCH_CREATE, activity, score, settings, start_world, stat, tasks_in_db, write_rows

DAY0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
JAN, ACME, OWNER, COMPANY_OWNER = 1001, 500, 77, 78


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


def iso(n: float) -> str:
    return day(n).isoformat().replace("+00:00", "Z")


def jan_snapshot() -> str:
    """Worked example 1 as a hand-written portal: Jan, CEO of a 500-person software company, and his four steps."""
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": iso(14.1), "nextId": 5000},
            "owners": [
                {"id": OWNER, "email": "vera.vertrieb@acme.example", "firstName": "Vera", "lastName": "Vertrieb"},
                {"id": COMPANY_OWNER, "email": "kai.konto@acme.example", "firstName": "Kai", "lastName": "Konto"},
            ],
            "objects": {
                "contacts": [
                    {
                        "id": JAN,
                        "properties": {
                            "email": "jan.kowalski@acme.example",
                            "firstname": "Jan",
                            "lastname": "Kowalski",
                            "jobtitle": "CEO",
                            "hubspot_owner_id": str(OWNER),
                        },
                    }
                ],
                "companies": [
                    {
                        "id": ACME,
                        "properties": {
                            "name": "Acme Software GmbH",
                            "domain": "acme.example",
                            "numberofemployees": "500",
                            "industry": "COMPUTER_SOFTWARE",
                            "hubspot_owner_id": str(COMPANY_OWNER),
                        },
                    }
                ],
            },
            "associations": [["contacts", JAN, "companies", ACME, True]],
            "forms": [
                {"guid": "ebook-1", "name": "E-Book: Lead Scoring für den Mittelstand"},
                {"guid": "beratung-1", "name": "Beratung vereinbaren"},
            ],
            "marketingEvents": [{"id": 900, "name": "Lead Scoring in der Praxis", "startAt": iso(7)}],
            "formSubmissions": [
                [iso(0), 4001, "ebook-1", JAN, "jan.kowalski@acme.example", "https://www.acme.example/ressourcen"],
                [iso(16), 4004, "beratung-1", JAN, "jan.kowalski@acme.example", "https://www.acme.example/beratung"],
            ],
            "marketingEventParticipations": [[iso(7), 4002, 900, JAN, "ATTENDED"]],
            "pageViews": [[iso(14), 4003, JAN, "https://www.acme.example/preise"]],
        }
    )


@dataclass
class Jan:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    cfg: Settings

    def cycle(self, n: float, client: HubSpotClient | None = None) -> PushResult:
        """One cycle as of day n: the portal clock moves there, rescore, push (properties and tasks)."""
        self.sb.portal.now = max(self.sb.portal.now, dt_to_ms(day(n)))
        score(self.engine, self.cfg, day(n))
        return push(client or self.client, self.engine, self.cfg, now=day(n))

    def hubsync_tasks(self) -> list[CrmObject]:
        return [
            t
            for t in self.sb.portal.stores["tasks"].by_id.values()
            if t.props.get("hs_task_subject", "").startswith("[hubsync]")
        ]

    def jan_score(self) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(contact_score_t).where(contact_score_t.c.contact_id == JAN)).one()


@pytest.fixture
def jan(database_url: str) -> Iterator[Jan]:
    with ExitStack() as stack:
        cfg = settings()
        yield Jan(*start_world(stack, jan_snapshot(), database_url, cfg), cfg)


def test_example_1_one_high_task_for_his_owner_and_none_on_a_rerun(jan: Jan) -> None:
    day14 = jan.cycle(14.1)
    assert (jan.jan_score().engagement, jan.jan_score().status) == (45, "mql")
    assert day14.tasks_created == 0
    assert jan.hubsync_tasks() == []

    day16 = jan.cycle(16.1)
    assert (jan.jan_score().engagement, jan.jan_score().status) == (95, "sales_ready")
    assert day16.tasks_created == 1
    (task,) = jan.hubsync_tasks()
    props = task.props
    assert props["hs_task_priority"] == "HIGH"
    assert props["hubspot_owner_id"] == str(OWNER)  # the contact's owner, not the company's
    assert props["hs_task_status"] == "NOT_STARTED"
    assert props["hs_timestamp"] == (day(16.1) + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert jan.sb.portal.assoc.of("tasks", task.id, "contacts") == [JAN]
    assert "A1" in props["hs_task_subject"]
    assert "95" in props["hs_task_subject"]
    body = props["hs_task_body"]
    for date, label in [
        ("2025-03-03", "content download"),
        ("2025-03-10", "webinar attended"),
        ("2025-03-17", "pricing page"),
        ("2025-03-19", "demo / consultation request"),
    ]:
        assert f"{date}  {label}" in body
    assert "Why now: demo / consultation request (+50)" in body

    (row,) = tasks_in_db(jan.engine)
    assert (row.state, row.hubspot_task_id, row.owner_id) == ("open", str(task.id), OWNER)
    assert jan.jan_score().handoff_armed is False

    # The cycle again, and once more a day later: no second task, no create call at all.
    jan.sb.reset_stats()
    again = jan.cycle(16.2)
    later = jan.cycle(17)
    assert again.tasks_created == later.tasks_created == 0
    assert stat(jan.sb, BATCH_CREATE) == 0
    assert len(jan.hubsync_tasks()) == 1
    # The rep's open task counts against the owner's capacity (read from HubSpot).
    assert later.tasks is not None
    assert later.tasks.open_by_owner == {OWNER: 1}


def test_completed_task_is_done_and_a_new_one_comes_only_after_a_fall_to_nurture(jan: Jan) -> None:
    jan.cycle(16.1)
    (task,) = jan.hubsync_tasks()
    jan.sb.portal.update("tasks", task.id, {"hs_task_status": "COMPLETED"})
    done = jan.cycle(17)
    assert done.tasks is not None
    assert done.tasks.completed == 1
    assert [r.state for r in tasks_in_db(jan.engine)] == ["done"]
    assert done.tasks_created == 0  # still sales ready, but handed over already

    # A year of silence: his score decays into nurture, which re-arms him ...
    jan.cycle(380)
    assert jan.jan_score().status == "nurture"
    assert jan.jan_score().handoff_armed is True
    # ... and a new consultation request hands him over again.
    write_rows(
        jan.engine,
        activities=[
            activity("test:again", JAN, ActivityKind.FORM_SUBMISSION, day(381), form_name="Beratung vereinbaren")
        ],
    )
    jan.cycle(381)
    assert jan.jan_score().status != "nurture"
    assert len(jan.hubsync_tasks()) == 2
    assert [r.state for r in tasks_in_db(jan.engine)] == ["done", "open"]


def test_crash_between_create_and_record_creates_no_duplicate_after_resume(
    jan: Jan, monkeypatch: pytest.MonkeyPatch
) -> None:
    jan.cycle(14.1)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("killed after HubSpot created the task, before the database recorded it")

    with monkeypatch.context() as m:
        m.setattr(task_batches, "record_created", crash)
        with pytest.raises(SystemExit):
            jan.cycle(16.1)
    assert len(jan.hubsync_tasks()) == 1
    assert [r.state for r in tasks_in_db(jan.engine)] == ["intent"]

    jan.sb.reset_stats()
    resumed = jan.cycle(16.2)
    assert resumed.tasks is not None
    assert (resumed.tasks_created, resumed.tasks.adopted) == (0, 1)
    assert stat(jan.sb, BATCH_CREATE) == 0
    (task,) = jan.hubsync_tasks()
    (row,) = tasks_in_db(jan.engine)
    assert (row.state, row.hubspot_task_id) == ("open", str(task.id))
    assert jan.jan_score().handoff_armed is False


def test_crash_before_the_create_lets_the_next_run_decide_again(jan: Jan, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("killed after the intent, before the create")

    with monkeypatch.context() as m:
        m.setattr(tasks_api, "_create_input", crash)
        with pytest.raises(SystemExit):
            jan.cycle(16.1)
    assert jan.hubsync_tasks() == []
    resumed = jan.cycle(16.2)
    assert resumed.tasks_created == 1
    # The dead run's intent left no row: the state equals a run that was never stopped (bench/chaos.py compares).
    assert [r.state for r in tasks_in_db(jan.engine)] == ["open"]
    assert len(jan.hubsync_tasks()) == 1


class LostAnswers(HubSpotClient):
    """The network between hubsync and HubSpot drops the answer to task creates: `after=True` once HubSpot has
    created the task (a timeout on the way back), `after=False` before the request arrives."""

    def __init__(self, *args: Any, after: bool, times: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after, self.left = after, times

    def call(self, fn: Any, *args: Any, operation: str | None = None, **kwargs: Any) -> Any:
        if operation != "push.tasks_batch_create" or self.left == 0:
            return super().call(fn, *args, operation=operation, **kwargs)
        self.left -= 1
        if self.after:
            super().call(fn, *args, operation=operation, **kwargs)
        raise RetriableHubSpotError("the connection to HubSpot failed (ReadTimeoutError); will retry")


@pytest.mark.parametrize("after", [True, False], ids=["answer-lost", "request-lost"])
def test_a_lost_answer_to_a_create_never_makes_a_second_task(jan: Jan, after: bool) -> None:
    base = fast_client(jan.sb)
    lossy = LostAnswers(base._settings, after=after, times=1, sleep=lambda _s: None)
    base.close()
    result = jan.cycle(16.1, client=lossy)
    lossy.close()
    assert result.tasks_created == 1
    assert len(jan.hubsync_tasks()) == 1
    # One create reached HubSpot either way: the one whose answer was lost (then found), or the retry.
    assert stat(jan.sb, BATCH_CREATE) == 1
    (row,) = tasks_in_db(jan.engine)
    assert row.state == "open"
    assert row.hubspot_task_id == str(jan.hubsync_tasks()[0].id)


def test_dry_run_plans_the_task_and_writes_nothing(jan: Jan) -> None:
    score(jan.engine, jan.cfg, day(16.1))
    jan.sb.portal.now = dt_to_ms(day(16.1))
    result = push(jan.client, jan.engine, jan.cfg, now=day(16.1), dry_run=True)
    assert result.records_changed == 2  # Jan and Acme
    assert result.updates_sent == 0
    assert result.tasks is not None
    assert [(c, o) for c, o, _ in result.tasks.planned] == [(JAN, OWNER)]
    assert jan.hubsync_tasks() == []
    assert tasks_in_db(jan.engine) == []
    assert "hubsync_segment" not in jan.sb.portal.stores["contacts"].by_id[JAN].props
    text = "\n".join(push_lines(result))
    assert "records would change: 2" in text
    assert "tasks would create: 1" in text


def test_lifecycle_stage_moves_forward_only_when_enabled(jan: Jan) -> None:
    jan.cycle(16.1)
    assert "lifecyclestage" not in jan.sb.portal.stores["contacts"].by_id[JAN].props  # off by default

    jan.cfg = settings(push={"advance_lifecycle_stage": True})
    jan.cycle(16.2)
    assert jan.sb.portal.stores["contacts"].by_id[JAN].props["lifecyclestage"] == "salesqualifiedlead"

    # Sales made him a customer (the pull brings that in): hubsync never moves him back.
    jan.sb.portal.update("contacts", JAN, {"lifecyclestage": "customer"})
    with jan.engine.begin() as conn:
        conn.execute(sa.update(contact_t).where(contact_t.c.id == JAN).values(lifecyclestage="customer"))
    again = jan.cycle(17)
    assert "lifecyclestage" not in again.properties_changed
    assert jan.sb.portal.stores["contacts"].by_id[JAN].props["lifecyclestage"] == "customer"


def test_round_robin_when_neither_contact_nor_company_has_an_owner(jan: Jan) -> None:
    with jan.engine.begin() as conn:
        conn.execute(sa.update(contact_t).where(contact_t.c.id == JAN).values(owner_id=None))
        conn.execute(sa.update(company_t).where(company_t.c.id == ACME).values(owner_id=None))
    jan.cfg = settings(tasks={"round_robin_owners": ("nobody@acme.example", "KAI.KONTO@acme.example")})
    jan.cycle(16.1)
    (task,) = jan.hubsync_tasks()
    assert task.props["hubspot_owner_id"] == str(COMPANY_OWNER)


@pytest.mark.usefixtures("restore_logging")
def test_cli_push_dry_run_then_push(jan: Jan, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_API_BASE_URL", jan.sb.url)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", jan.sb.token)
    monkeypatch.setenv("HUBSYNC_CONFIG", str(DEFAULT_CONFIG))
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", database_url)
    score(jan.engine, jan.cfg, day(16.1))
    runner = CliRunner()
    dry = runner.invoke(app, ["push", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "records would change: 2" in dry.output
    assert "hubsync_segment: 1" in dry.output
    assert "tasks would create: 1" in dry.output
    assert jan.hubsync_tasks() == []
    real = runner.invoke(app, ["push"])
    assert real.exit_code == 0, real.output
    assert "records changed: 2; pushed: 2; update requests: 2; failed: 0" in real.output
    assert "tasks created: 1" in real.output
    assert len(jan.hubsync_tasks()) == 1
    assert jan.sb.token not in dry.output + real.output


def test_a_task_reopened_in_hubspot_blocks_a_new_one_again(jan: Jan) -> None:
    jan.cycle(16.1)
    (task,) = jan.hubsync_tasks()
    jan.sb.portal.update("tasks", task.id, {"hs_task_status": "COMPLETED"})
    jan.cycle(17)
    # He falls back to nurture (re-armed) and rises again, but the rep has reopened the old task meanwhile.
    jan.cycle(380)
    jan.sb.portal.update("tasks", task.id, {"hs_task_status": "IN_PROGRESS"})
    write_rows(
        jan.engine,
        activities=[
            activity("test:back", JAN, ActivityKind.FORM_SUBMISSION, day(381), form_name="Beratung vereinbaren")
        ],
    )
    result = jan.cycle(381)
    assert result.tasks_created == 0
    assert len(jan.hubsync_tasks()) == 1
    assert [r.state for r in tasks_in_db(jan.engine)] == ["open"]
