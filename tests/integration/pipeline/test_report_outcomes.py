"""The calibration report on a sandbox portal simulated over 91 days with a sales team (issue 14, acceptance 2).

hubsync runs a cycle every third simulated day; the sales team (`sandbox/sales.py`) works hubsync's tasks, calls,
sets lead statuses, stamps lifecycle dates and wins or loses deals by each contact's hidden intent. Then every
outcome figure of `report_data` must equal a recount made here from the portal's own state — its contacts, deals,
tasks, engagements and associations — and not from hubsync's tables. Only what the model said (each contact's
score history, for its segment and its MQL status) is read from hubsync: that is what the outcomes are measured
against, not an outcome.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.jobs.report import report_data
from hubsync.render.task_text import MARKER
from hubsync.sandbox import Sandbox, schema
from hubsync.settings import ReportConfig, Settings
from hubsync.store.tables import history_t
from tests.support.sandbox import ms_to_dt
from tests.support.simulated_report import simulated_run

DAYS = 91
EVERY = 3  # days between cycles
MIN_N = 1  # every rate a number, so that each one is compared
WORKED = {"ATTEMPTED_TO_CONTACT", "CONNECTED", "IN_PROGRESS", "OPEN_DEAL"}


@dataclass
class Run:
    sandbox: Sandbox
    engine: sa.Engine
    settings: Settings
    cycles: list[datetime]
    now: datetime


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'hubsync.db'}"
    # The daily full rescore every third cycle: decay, and every outcome refreshed.
    with simulated_run(url, contacts=150, seed=11, days=DAYS, every=EVERY, full_every=3, simulation_seed=5) as sim:
        # [report] is read by the report alone, not by the cycles: the run's settings with every rate judged.
        report = sim.settings.config.model_copy(update={"report": ReportConfig(min_n=MIN_N)})
        yield Run(sim.sandbox, sim.engine, replace(sim.settings, config=report), list(sim.cycles), sim.cycles[-1])


# -- the recount, from the portal ----------------------------------------------------------------------------


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Recount:
    """One contact as the portal has it, with the model's word from hubsync's score history."""

    id: int
    created: datetime
    scored_from: datetime
    lifecycle: dict[str, datetime | None]
    lead_status: str | None
    hubsync_mql: datetime | None
    segment: str | None
    task: dict[str, Any] | None = None
    first_response: datetime | None = None
    deal_created: datetime | None = None
    won_created: datetime | None = None
    won_at: datetime | None = None

    @property
    def mql(self) -> datetime | None:
        dates = [d for d in (self.lifecycle["marketingqualifiedlead"], self.hubsync_mql) if d is not None]
        return min(dates, default=None)

    @property
    def won_since_scored(self) -> bool:
        return self.won_created is not None and self.won_created >= self.scored_from


def _associated(portal: Any, a_type: str, a_id: int, b_type: str) -> list[int]:
    return list(portal.assoc.of(a_type, a_id, b_type))


def _history(run: Run) -> dict[int, list[Any]]:
    with run.engine.connect() as conn:
        rows = conn.execute(
            sa.select(history_t.c.object_id, history_t.c.as_of, history_t.c.engagement, history_t.c.segment)
            .add_columns(history_t.c.status)
            .where(history_t.c.object_type == "contact")
            .order_by(history_t.c.object_id, history_t.c.as_of, history_t.c.id)
        ).all()
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[int(row.object_id)].append(row)
    return found


def recount(run: Run) -> list[Recount]:
    portal = run.sandbox.portal
    history = _history(run)
    out = []
    with portal.lock:
        contacts = portal.store(schema.CONTACTS)
        tasks = portal.store(schema.TASKS).by_id
        deals = portal.store(schema.DEALS)
        for contact_id in contacts.live:
            contact = contacts.by_id[contact_id]
            created = ms_to_dt(contact.created)
            scored_from = next(t for t in run.cycles if t >= created)
            props = contact.props
            lifecycle = {
                stage: _time(props.get(f"hs_lifecyclestage_{stage}_date"))
                for stage in ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
            }
            rows = history.get(contact_id, [])
            mql_rows = [r.as_of for r in rows if r.status in ("mql", "sales_ready")]
            item = Recount(
                contact_id,
                created,
                scored_from,
                lifecycle,
                props.get("hs_lead_status"),
                min(mql_rows, default=None),
                None,
            )
            # Deals: its own, and its company's that name no contact.
            own = [deals.by_id[d] for d in _associated(portal, schema.CONTACTS, contact_id, schema.DEALS)]
            company = int(props["associatedcompanyid"]) if props.get("associatedcompanyid") else None
            if company is not None:
                own.extend(
                    deals.by_id[d]
                    for d in _associated(portal, schema.COMPANIES, company, schema.DEALS)
                    if not _associated(portal, schema.DEALS, d, schema.CONTACTS)
                )
            live = [d for d in own if d.archived_at is None]
            later = [d for d in live if ms_to_dt(d.created) >= scored_from] or live
            if later:
                item.deal_created = min(ms_to_dt(d.created) for d in later)
            won = [d for d in later if d.props.get("dealstage") == "closedwon"]
            if won:
                first = min(won, key=lambda d: (d.created, d.id))
                item.won_created = ms_to_dt(first.created)
                item.won_at = _time(first.props.get("closedate")) or item.won_created
            # The peak before the first outcome deal (without one: ever).
            cut = item.deal_created if item.deal_created and item.deal_created >= scored_from else None
            before = [r for r in rows if cut is None or r.as_of < cut]
            if before:
                best = max(r.engagement for r in before)
                item.segment = next(r.segment for r in before if r.engagement == best)
            # hubsync's first task on the contact.
            mine = [
                tasks[t]
                for t in _associated(portal, schema.CONTACTS, contact_id, schema.TASKS)
                if tasks[t].props.get("hs_task_subject", "").startswith(MARKER)
            ]
            if mine:
                task = min(mine, key=lambda t: (t.created, t.id))
                handed = ms_to_dt(task.created)
                owner = int(task.props["hubspot_owner_id"])
                completed = task.archived_at is None and task.props.get("hs_task_status") == "COMPLETED"
                item.task = {
                    "at": handed,
                    "owner": owner,
                    "completed": completed,
                    "completed_at": _time(task.props.get("hs_task_completion_date")) if completed else None,
                }
                item.first_response = _first_response(portal, contact_id, item.task, now=run.now)
            if rows:
                out.append(item)
    return out


def _first_response(portal: Any, contact_id: int, task: Mapping[str, Any], *, now: datetime) -> datetime | None:
    """The owner's (or nobody's) first call, meeting or outgoing one-to-one email after the handoff, or the task's
    completion."""
    handed, owner = task["at"], task["owner"]
    found = [task["completed_at"]] if task["completed_at"] is not None else []
    for kind in (schema.CALLS, schema.MEETINGS, schema.EMAILS):
        store = portal.store(kind)
        for engagement_id in _associated(portal, schema.CONTACTS, contact_id, kind):
            obj = store.by_id[engagement_id]
            if obj.archived_at is not None:
                continue
            props = obj.props
            when = _time(props.get("hs_meeting_start_time")) if kind == schema.MEETINGS else None
            when = when or _time(props.get("hs_timestamp"))
            by = props.get("hubspot_owner_id")
            outgoing = kind != schema.EMAILS or props.get("hs_email_direction") in ("EMAIL", "FORWARDED_EMAIL")
            if when is not None and handed <= when <= now and outgoing and (not by or int(by) == owner):
                found.append(when)
    return min(found, default=None)


# -- the comparison ------------------------------------------------------------------------------------------


def _in(at: datetime | None, since: datetime | None, until: datetime) -> bool:
    return at is not None and at <= until and (since is None or at >= since)


def _p(values: Sequence[float], q: float) -> float | None:
    """The median, or the 90th percentile interpolated between the nearest ranks ("inclusive")."""
    if len(values) < 2:
        return values[0] if values else None
    return statistics.median(values) if q == 0.5 else statistics.quantiles(values, n=10, method="inclusive")[8]


def expected_kpis(items: Sequence[Recount], since: datetime | None, until: datetime) -> dict[str, float | None]:
    handed = [i for i in items if i.task and _in(i.task["at"], since, until)]
    rejected = [i for i in handed if i.lead_status == "UNQUALIFIED"]
    accepted = [
        i
        for i in handed
        if i.lead_status != "UNQUALIFIED" and (i.task["completed"] or i.lead_status in WORKED)  # type: ignore[index]  # handed: a task
    ]
    won = [i for i in items if i.won_since_scored and _in(i.won_at, since, until)]
    handed_won = [i for i in handed if i.won_since_scored and i.won_at is not None and i.won_at <= until]
    mqls = [i for i in items if _in(i.mql, since, until)]
    sqls = [i for i in mqls if i.lifecycle["salesqualifiedlead"] is not None]
    responses = [
        (i.first_response - i.task["at"]).total_seconds() / 3600  # type: ignore[index]  # handed: a task
        for i in handed
        if i.first_response is not None
    ]

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    return {
        "contacts": len(items),
        "handed_over": len(handed),
        "accepted": len(accepted),
        "rejected": len(rejected),
        "back_to_nurture": sum(i.lead_status == "BAD_TIMING" for i in handed),
        "won": len(won),
        "base_rate": share(len(won), len(items)),
        "mql_to_sql_rate": share(len(sqls), len(mqls)),
        "sales_acceptance_rate": share(len(accepted), len(handed)),
        "rejection_rate": share(len(rejected), len(handed)),
        "closed_won_ratio": share(len(handed_won), len(handed)),
        "response_rate": share(len(responses), len(handed)),
        "time_to_response_median_h": _p(responses, 0.5),
        "time_to_response_p90_h": _p(responses, 0.9),
    }


@pytest.mark.parametrize("half", [False, True], ids=["all", "since-day-45"])
def test_the_reports_outcome_figures_equal_a_recount_from_the_portal(run: Run, half: bool) -> None:
    since = run.cycles[0] + timedelta(days=45) if half else None
    report = report_data(run.engine, run.settings, now=run.now, since=since)
    items = recount(run)
    kpis = {k["key"]: k["value"] for k in report["kpis"]}
    expected = expected_kpis(items, since, run.now)
    for key, value in expected.items():
        assert kpis[key] == pytest.approx(value), key

    # The heatmap: contacts by the segment of their peak before the outcome, handoffs and wins.
    for row in report["segments"]:
        members = [i for i in items if i.segment == row["segment"]]
        assert row["contacts"] == len(members), row["segment"]
        assert row["won"] == sum(i.won_since_scored and _in(i.won_at, since, run.now) for i in members)
        assert row["handed_over"] == sum(bool(i.task) and _in(i.task["at"], since, run.now) for i in members)  # type: ignore[index]

    # Per owner: handoffs, accepted, rejected.
    by_owner: dict[int, list[Recount]] = defaultdict(list)
    for i in items:
        if i.task and _in(i.task["at"], since, run.now):
            by_owner[i.task["owner"]].append(i)
    got = {o["owner_id"]: (o["handed_over"], o["rejected"]) for o in report["owners"]}
    assert got == {o: (len(v), sum(i.lead_status == "UNQUALIFIED" for i in v)) for o, v in by_owner.items()}

    # Recall's denominator is the contacts won in the period.
    assert {t["n_won"] for t in report["thresholds"]} == {expected["won"]}


def test_the_simulated_period_produced_outcomes_worth_measuring(run: Run) -> None:
    """The recount above compares real numbers, not zeros."""
    items = recount(run)
    assert run.cycles[-1] - run.cycles[0] >= timedelta(days=DAYS - 1)
    assert sum(bool(i.task) for i in items) >= 10
    assert sum(i.first_response is not None for i in items) >= 5
    assert sum(i.won_since_scored for i in items) >= 1
    assert sum(i.lifecycle["salesqualifiedlead"] is not None for i in items) >= 3


def test_the_funnel_counts_each_contact_at_its_furthest_stage(run: Run) -> None:
    report = report_data(run.engine, run.settings, now=run.now, since=None)
    items = recount(run)

    def after(i: Recount, at: datetime | None) -> datetime | None:
        return at if at is not None and at >= i.scored_from else None

    furthest = []
    for i in items:
        opportunity = after(i, i.lifecycle["opportunity"]) or after(i, i.deal_created)
        stages = (
            True,
            i.mql is not None,
            i.task is not None,
            after(i, i.lifecycle["salesqualifiedlead"]) is not None,
            opportunity is not None,
            i.won_since_scored,
        )
        furthest.append(max(n for n, reached in enumerate(stages) if reached))
    assert [s["count"] for s in report["funnel"]] == [sum(f >= n for f in furthest) for n in range(6)]
