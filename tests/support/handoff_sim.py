"""The handoff simulation of issue 13 (acceptance 2), shared by `bench/handoff.py` and
tests/integration/pipeline/test_handoff_simulation.py.

A generated sandbox portal lives through simulated days: contacts act (`Simulation`: buyers walking to a demo
request, browsers, new contacts arriving with a download), the sales team works its tasks at the end of each day
(`sales.py`), and hubsync runs its real cycle (`run_cycle`) as the scheduler would: an incremental cycle every
`cycle_hours`, the daily full rescore at `schedule.daily_rescore_at` and the weekly reconciliation, all scoring as of
the portal's clock.

After every cycle an `Observer` looks at what sales would see and at what the database says about scores. No check
reads the planner's own bookkeeping (the task table's kinds and exemptions, the owner load it stores, the episode
flags it keeps); some of it is printed beside, for comparison.

* hubsync's tasks are the portal's tasks whose subject starts with the marker; each is classified once, in the
  cycle that created it, from the contact's stored score: a ceiling lead (engagement at or above the capacity
  ceiling) or a hand-raiser (a hand-raise within `hand_raiser_days`);
* capacity: per owner, the open hubsync tasks in the portal that are neither ceiling leads nor hand-raisers never
  exceed the owner's capacity (the config's, read independently);
* one task per episode: of two tasks for one contact, the later one needs either a stretch of `rearm_after_days`
  between two scorings at which a trigger held (status, segment, surge, engagement at the floor: the scores the
  database stored, as of their own instants), or a hand-raise newer than anything sales heard (the earlier task's
  creation, or a later update of its body) with the earlier task no longer open; and never two open tasks for
  one contact (or one company) at once;
* no contact scored as surging while its history (its create date or first activity of any kind in the portal,
  whichever is earlier) is younger than the surge horizon (window + baseline: 35 days).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.setup import setup
from hubsync.render.task_text import MARKER
from hubsync.sandbox import generate_portal, schema, start_sandbox
from hubsync.sandbox.sales import SalesBehaviour, SalesDay, rep_profile
from hubsync.sandbox.simulate import DAY_MS, Simulation
from hubsync.store.db import open_database
from hubsync.store.tables import contact_score_t, task_t
from tests.support.config import config_with
from tests.support.sandbox import dt_to_ms, fast_client, ms_to_dt, portal_now, sandbox_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from hubsync.sandbox import Portal
    from hubsync.scoring import ScoringModel
    from hubsync.settings import ScheduleConfig

HOUR_MS = 3_600_000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class SimulationPlan:
    contacts: int = 2000
    days: int = 60
    cycle_hours: float = 1.0
    seed: int = 7
    # Contacts that walk to a demo request during the period (default: one in fifty).
    buyers: int | None = None
    # Share of contacts that read a page or open a newsletter each day.
    browsers: float = 0.05
    # New contacts a day (default: one per 400 contacts).
    arrivals: float | None = None
    # Open hubsync tasks an owner can take (None: the shipped config's).
    capacity: int | None = None
    sales: SalesBehaviour = field(default_factory=SalesBehaviour)

    @property
    def buyer_count(self) -> int:
        return self.buyers if self.buyers is not None else max(4, self.contacts // 50)

    @property
    def arrivals_per_day(self) -> float:
        return self.arrivals if self.arrivals is not None else self.contacts / 400


@dataclass(frozen=True, slots=True)
class Tick:
    at: int
    kind: str  # "sync", "daily", "reconcile": the scheduler's job names
    options: CycleOptions


def schedule(start: int, end: int, cycle_hours: float, config: ScheduleConfig) -> list[Tick]:
    """The scheduler's jobs between `start` (exclusive) and `end` (inclusive): an incremental cycle every
    `cycle_hours`, the daily rescore and the weekly reconciliation at their local times."""
    step = round(cycle_hours * HOUR_MS)
    ticks = [Tick(at, "sync", CycleOptions()) for at in range(start + step, end + 1, step)]
    zone = ZoneInfo(config.timezone)
    day = ms_to_dt(start).astimezone(zone).date()
    while True:
        daily = datetime.combine(day, config.daily_rescore_time, zone)
        weekly = datetime.combine(day, config.weekly_reconcile_time, zone)
        if dt_to_ms(daily) > end and dt_to_ms(weekly) > end:
            break
        if start < dt_to_ms(daily) <= end:
            ticks.append(Tick(dt_to_ms(daily), "daily", CycleOptions(full_rescore=True)))
        if WEEKDAYS[day.weekday()] == config.weekly_reconcile_day and start < dt_to_ms(weekly) <= end:
            ticks.append(Tick(dt_to_ms(weekly), "reconcile", CycleOptions(full_reconcile=True)))
        day += timedelta(days=1)
    return sorted(ticks, key=lambda t: (t.at, t.kind))


# -- what the observer keeps ----------------------------------------------------------------------------------


@dataclass(slots=True)
class SeenTask:
    task_id: int
    created: int
    owner: int | None
    contact: int | None  # None: an account task (on a company)
    company: int | None
    exemption: str | None  # "ceiling lead", "hand-raiser" or None, judged in the cycle that created it
    hand_raise_at: int | None
    outside_icp: bool
    body: str
    open: bool = True
    closed_at: int | None = None  # completed (its completion date) or deleted (when seen deleted)
    deleted: bool = False
    # When sales last heard of a hand-raise through this task: its creation, then each update of its body.
    heard_at: int = 0


@dataclass(slots=True)
class Overload:
    observations: int = 0
    most_open: int = 0
    # Open exempt tasks when over capacity, by exemption, at the worst moment.
    by_exemption: Counter[str] = field(default_factory=Counter)


@dataclass
class Findings:
    plan: SimulationPlan
    database: str
    owners: list[tuple[int, str, int, str]]  # id, name, capacity, rep profile
    start: int
    cycles: Counter[str]
    seconds: float
    cycle_seconds: float
    tasks: dict[int, SeenTask]
    open_at_day_end: dict[int, dict[int, int]]  # day -> owner -> open hubsync tasks
    overloads: dict[int, Overload]
    violations: dict[str, list[str]]
    second_tasks: Counter[str]
    hot_after_done: int
    surging_rows: int
    young_rows: int
    episodes_in_db: tuple[int, int]  # contacts handed over at least once, contacts in an episode now
    db_kinds: Counter[str]  # the task table's own kinds, for comparison only
    sales: SalesDay
    arrivals: int
    buyers: int

    CHECKS = (
        ("one task per episode", "episode"),
        ("capacity per owner (beyond it only ceiling leads and hand-raisers)", "capacity"),
        ("no surge younger than the surge horizon", "surge"),
    )

    def ok(self, check: str) -> bool:
        return not self.violations[check]

    @property
    def contact_tasks(self) -> list[SeenTask]:
        return [t for t in self.tasks.values() if t.contact is not None]

    @property
    def completed(self) -> int:
        return sum(1 for t in self.tasks.values() if t.closed_at is not None and not t.deleted)

    def lines(self) -> list[str]:
        """The bench's report: figures, then PASS/FAIL per check."""
        plan, sales, tasks = self.plan, self.sales, list(self.tasks.values())
        cycles = ", ".join(f"{kind} {n}" for kind, n in sorted(self.cycles.items()))
        owners = "; ".join(f"{name} ({o}): capacity {cap}, {rep}" for o, name, cap, rep in self.owners)
        contacts = {t.contact for t in self.contact_tasks}
        handed, in_episode = self.episodes_in_db
        deleted = sum(1 for t in tasks if t.deleted)
        still_open = sum(1 for t in tasks if t.open)
        raisers = sum(1 for t in tasks if t.exemption == "hand-raiser")
        outside = sum(1 for t in tasks if t.outside_icp)
        ceiling = sum(1 for t in tasks if t.exemption == "ceiling lead")
        out = [
            (
                f"handoff simulation: {plan.contacts:,} contacts, {plan.days} days, a cycle every "
                f"{plan.cycle_hours:g} h on {self.database}; {sum(self.cycles.values())} cycles ({cycles}) in "
                f"{self.seconds:.0f} s ({self.cycle_seconds:.0f} s in cycles)"
            ),
            f"contacts acting: {self.buyers} buyers walking to a demo request, {self.arrivals} new contacts",
            (
                f"sales: {sales.tasks_worked} tasks worked, {sales.tasks_completed} completed, {sales.tasks_deleted} "
                f"deleted (all tasks, not only hubsync's); {sales.deals_created} deals opened ({sales.deals_inbound} "
                f"inbound), {sales.deals_won} won, {sales.deals_lost} lost"
            ),
            f"owners: {owners}",
            "",
            *self._per_day(),
            "",
            (
                f"tasks: {len(tasks)} hubsync tasks ({len(self.contact_tasks)} on contacts, "
                f"{len(tasks) - len(self.contact_tasks)} on companies), {self.completed} completed, {deleted} deleted, "
                f"{still_open} open at the end"
            ),
            (
                f"episodes: {len(contacts)} contacts handed over; second tasks: {self.second_tasks['re-armed']} "
                f"after a re-arm, {self.second_tasks['hand-raise']} for a new hand-raise; in the database: "
                f"{handed} contacts handed over, {in_episode} in an episode now; {self.hot_after_done} tasks done "
                "while their contact stayed hot (where a stream of tasks would show)"
            ),
            (
                f"hand-raisers: {raisers} tasks ({outside} outside the ICP); ceiling leads: {ceiling}; the task "
                f"table's own kinds, for comparison: {dict(sorted(self.db_kinds.items()))}"
            ),
            *self._overload_lines(),
            (
                f"surge: {self.surging_rows} surging scores checked; {self.young_rows} scores of contacts younger than "
                "the horizon with at least the surge's minimum points (none may surge)"
            ),
            "",
        ]
        for title, key in self.CHECKS:
            status = "PASS" if self.ok(key) else f"FAIL ({len(self.violations[key])})"
            out.append(f"{status:<10} {title}")
            out.extend(f"           {v}" for v in self.violations[key][:10])
        return out

    def _per_day(self) -> list[str]:
        created: dict[int, Counter[int]] = defaultdict(Counter)
        completed: dict[int, Counter[int]] = defaultdict(Counter)
        for task in self.tasks.values():
            if task.owner is None:
                continue
            created[(task.created - self.start - 1) // DAY_MS][task.owner] += 1
            if task.closed_at is not None and not task.deleted:
                completed[(task.closed_at - self.start - 1) // DAY_MS][task.owner] += 1
        owners = [o for o, *_ in self.owners]
        head = "day  " + "".join(f"{'owner ' + str(i + 1):>14}" for i in range(len(owners)))
        rows = [
            "hubsync tasks per owner and day: created / completed / open at day end",
            head,
        ]
        for day in range(-1, self.plan.days):
            cells = "".join(
                f"{created[day][o]:>6} /{completed[day][o]:>3} /{self.open_at_day_end.get(day, {}).get(o, 0):>3}"
                for o in owners
            )
            rows.append(f"{'start' if day < 0 else day + 1:>5}{cells}")
        return rows

    def _overload_lines(self) -> list[str]:
        over = {o: v for o, v in self.overloads.items() if v.observations}
        if not over:
            return ["overloads: no owner held more open hubsync tasks than its capacity"]
        names = {o: name for o, name, *_ in self.owners}
        return [
            "overloads (owners beyond capacity, after a cycle):",
            *(
                f"  {names.get(o, o)}: {v.observations} cycles, at most {v.most_open} open; beyond capacity through "
                f"{dict(v.by_exemption) or 'nothing exempt'}"
                for o, v in sorted(over.items())
            ),
        ]


# -- the observer ---------------------------------------------------------------------------------------------


class Observer:
    """Reads the portal and the database after each cycle; keeps what the checks need (see the module docstring)."""

    def __init__(self, portal: Portal, engine: Engine, model: ScoringModel) -> None:
        self.portal = portal
        self.engine = engine
        self.model = model
        handoff = model.handoff
        self.ceiling = handoff.capacity.ceiling
        self.horizon_ms = (model.surge.window_days + model.surge.baseline_days) * DAY_MS
        self.rearm_ms = handoff.rearm_after_days * DAY_MS
        by_email = {e.lower(): c for e, c in handoff.capacity.owners.items()}
        self.capacity = {o.id: by_email.get(o.email.lower(), handoff.capacity.default) for o in portal.owners}
        self.first_seen = _history_starts(portal)
        self.tasks: dict[int, SeenTask] = {}
        self.held: dict[int, list[int]] = defaultdict(list)  # contact -> scoring instants at which a trigger held
        self.last_as_of: datetime | None = None
        self.overloads: dict[int, Overload] = defaultdict(Overload)
        self.open_at_day_end: dict[int, dict[int, int]] = {}
        self.violations: dict[str, list[str]] = {"episode": [], "capacity": [], "surge": []}
        self.surging_rows = self.young_rows = 0

    def after_cycle(self, start: int) -> None:
        now = self.portal.now
        self._scores()
        self._tasks(now)
        by_owner: dict[int, list[SeenTask]] = defaultdict(list)
        per_record: Counter[str] = Counter()
        for task in self.tasks.values():
            if task.open and task.owner is not None:
                by_owner[task.owner].append(task)
            if task.open:
                per_record[f"contact {task.contact}" if task.contact is not None else f"company {task.company}"] += 1
        for record, count in per_record.items():
            if count > 1:
                self.violations["episode"].append(f"{ms_to_dt(now):%m-%d %H:%M} {record}: {count} open tasks")
        for owner, open_tasks in by_owner.items():
            self._capacity(owner, open_tasks, now)
        self.open_at_day_end[(now - start - 1) // DAY_MS] = {o: len(t) for o, t in by_owner.items()}

    def _capacity(self, owner: int, open_tasks: list[SeenTask], now: int) -> None:
        capacity = self.capacity.get(owner, self.model.handoff.capacity.default)
        if len(open_tasks) <= capacity:
            return
        exempt = Counter(t.exemption for t in open_tasks if t.exemption is not None)
        record = self.overloads[owner]
        record.observations += 1
        if len(open_tasks) > record.most_open:
            record.most_open, record.by_exemption = len(open_tasks), exempt
        plain = len(open_tasks) - sum(exempt.values())
        if plain > capacity:
            self.violations["capacity"].append(
                f"{ms_to_dt(now):%m-%d %H:%M} owner {owner}: {plain} open tasks neither ceiling lead nor "
                f"hand-raiser, capacity {capacity}"
            )

    def _scores(self) -> None:
        """The scores stored since the last look: when a trigger held, and surges against the contact's age."""
        handoff = self.model.handoff
        statuses = {s.value for s in handoff.statuses}
        query = sa.select(
            contact_score_t.c.contact_id,
            contact_score_t.c.as_of,
            contact_score_t.c.status,
            contact_score_t.c.segment,
            contact_score_t.c.surge,
            contact_score_t.c.engagement,
        )
        if self.last_as_of is not None:
            query = query.where(contact_score_t.c.as_of > self.last_as_of)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            at = dt_to_ms(row.as_of)
            self.last_as_of = max(self.last_as_of or row.as_of, row.as_of)
            triggered = (
                row.status in statuses
                or row.segment in handoff.segments
                or (row.surge and handoff.surge)
                or row.engagement >= handoff.capacity.floor
            )
            if triggered:
                self.held[row.contact_id].append(at)
            age = at - self.first_seen.get(row.contact_id, self._created(row.contact_id))
            young = age < self.horizon_ms
            if young and row.engagement >= self.model.surge.min_points:
                self.young_rows += 1
            if row.surge:
                self.surging_rows += 1
                if young:
                    self.violations["surge"].append(
                        f"{ms_to_dt(at):%m-%d %H:%M} contact {row.contact_id} surging at {age / DAY_MS:.1f} days old"
                    )

    def _created(self, contact_id: int) -> int:
        found = self.portal.store(schema.CONTACTS).by_id.get(self.portal.resolve_contact(contact_id))
        created = found.created if found is not None else self.portal.now
        self.first_seen[contact_id] = created
        return created

    def _tasks(self, now: int) -> None:
        store = self.portal.store(schema.TASKS)
        new: list[int] = []
        with self.portal.lock:
            for task_id, task in store.by_id.items():
                props = task.props
                if not props.get("hs_task_subject", "").startswith(MARKER):
                    continue
                seen = self.tasks.get(task_id)
                if seen is None:
                    contacts = sorted(self.portal.assoc.of(schema.TASKS, task_id, schema.CONTACTS))
                    companies = sorted(self.portal.assoc.of(schema.TASKS, task_id, schema.COMPANIES))
                    owner = props.get("hubspot_owner_id")
                    seen = SeenTask(
                        task_id,
                        task.created,
                        int(owner) if owner and owner.isdigit() else None,
                        contacts[0] if contacts else None,
                        companies[0] if companies else None,
                        None,
                        None,
                        "outside ICP" in props["hs_task_subject"],
                        props.get("hs_task_body", ""),
                        heard_at=task.created,
                    )
                    self.tasks[task_id] = seen
                    new.append(task_id)
                elif seen.open and props.get("hs_task_body", "") != seen.body:
                    seen.body, seen.heard_at = props.get("hs_task_body", ""), now
                if seen.open and (task.archived_at is not None or props.get("hs_task_status") == "COMPLETED"):
                    seen.open = False
                    seen.deleted = task.archived_at is not None
                    completed = props.get("hs_task_completion_date")
                    seen.closed_at = task.archived_at if seen.deleted or not completed else _iso_ms(completed)
        self._classify([self.tasks[t] for t in new])

    def _classify(self, tasks: list[SeenTask]) -> None:
        """A new task's exemption, from its contact's stored score in the cycle that created it."""
        contacts = [t.contact for t in tasks if t.contact is not None]
        if not contacts:
            return
        with self.engine.connect() as conn:
            rows = {
                r.contact_id: r
                for r in conn.execute(
                    sa.select(
                        contact_score_t.c.contact_id, contact_score_t.c.engagement, contact_score_t.c.hand_raise_at
                    ).where(contact_score_t.c.contact_id.in_(contacts))
                )
            }
        for task in tasks:
            row = rows.get(task.contact) if task.contact is not None else None
            if row is None:
                continue
            task.hand_raise_at = dt_to_ms(row.hand_raise_at) if row.hand_raise_at is not None else None
            if task.hand_raise_at is not None:
                task.exemption = "hand-raiser"
            elif row.engagement >= self.ceiling:
                task.exemption = "ceiling lead"

    def episodes(self) -> Counter[str]:
        """Check every later task of a contact against the one before; how the justified ones were justified."""
        justified: Counter[str] = Counter()
        by_contact: dict[int, list[SeenTask]] = defaultdict(list)
        for task in self.tasks.values():
            if task.contact is not None:
                by_contact[task.contact].append(task)
        for contact, tasks in by_contact.items():
            tasks.sort(key=lambda t: (t.created, t.task_id))
            for before, after in pairwise(tasks):
                why = self._second_task(contact, before, after)
                if why is None:
                    self.violations["episode"].append(
                        f"contact {contact}: task {after.task_id} on {ms_to_dt(after.created):%m-%d %H:%M} in the "
                        f"episode of task {before.task_id} ({ms_to_dt(before.created):%m-%d %H:%M})"
                    )
                else:
                    justified[why] += 1
        return justified

    def hot_after_done(self) -> int:
        """Tasks completed or deleted while a trigger still held for their contact afterwards: where a stream of
        tasks would show if a done task re-armed the contact."""
        return sum(
            1
            for task in self.tasks.values()
            if task.contact is not None
            and task.closed_at is not None
            and any(t > task.closed_at for t in self.held[task.contact])
        )

    def _second_task(self, contact: int, before: SeenTask, after: SeenTask) -> str | None:
        closed_in_time = before.closed_at is not None and before.closed_at <= after.created
        heard = max(before.created, before.heard_at)
        if after.hand_raise_at is not None and after.hand_raise_at > heard and closed_in_time:
            return "hand-raise"
        held = sorted({before.created, *(t for t in self.held[contact] if before.created <= t <= after.created)})
        if any(b - a >= self.rearm_ms for a, b in pairwise(held)):
            return "re-armed"
        return None


def _history_starts(portal: Portal) -> dict[int, int]:
    """Each contact's create date or first activity of any kind in the portal, whichever is earlier."""
    contacts = portal.store(schema.CONTACTS)
    first = {cid: obj.created for cid, obj in contacts.by_id.items()}

    def seen(contact_id: int, at: int) -> None:
        survivor = portal.resolve_contact(contact_id)
        if at < first.get(survivor, at + 1):
            first[survivor] = at

    for log in (portal.page_views, portal.form_submissions, portal.participations):
        for at, contact_id in zip(log.col("ts"), log.col("contact"), strict=True):
            seen(contact_id, at)
    by_email = {obj.props["email"].lower(): cid for cid, obj in contacts.by_id.items() if obj.props.get("email")}
    strings = portal.strings
    for at, recipient in zip(portal.email_events.col("ts"), portal.email_events.col("recipient"), strict=True):
        found = by_email.get(strings[recipient].lower())
        if found is not None:
            seen(found, at)
    for kind in schema.ENGAGEMENT_TYPES:
        for engagement_id, engagement in portal.store(kind).by_id.items():
            for contact_id in portal.assoc.of(kind, engagement_id, schema.CONTACTS):
                seen(contact_id, engagement.created)
    return first


def _iso_ms(value: str) -> int:
    return dt_to_ms(datetime.fromisoformat(value).astimezone(UTC))


# -- running it -----------------------------------------------------------------------------------------------


def run_handoff_simulation(
    plan: SimulationPlan, database_url: str | None = None, *, progress: Callable[[str], None] | None = None
) -> Findings:
    """Run the simulation (a SQLite file in a temporary folder unless `database_url` is given) and check it."""
    with tempfile.TemporaryDirectory(prefix="hubsync-handoff-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'hubsync.db'}"
        return _run(plan, url, Path(tmp), progress or (lambda _line: None))


def _run(plan: SimulationPlan, url: str, tmp: Path, progress: Callable[[str], None]) -> Findings:
    began = time.monotonic()
    portal = generate_portal(plan.contacts, plan.seed)
    with start_sandbox(portal=portal, rate_limits=False) as sb:
        replacements = {} if plan.capacity is None else {"default = 20": f"default = {plan.capacity}"}
        settings = sandbox_settings(sb, url, config_with(tmp, replacements))
        engine = open_database(url)
        client = fast_client(sb)
        model = settings.config.scoring
        setup(client, settings.config.push)
        observer = Observer(portal, engine, model)
        start = portal.now
        sim = Simulation(
            portal,
            days=plan.days,
            seed=plan.seed + 1,
            buyers=plan.buyer_count,
            browsers=plan.browsers,
            arrivals=plan.arrivals_per_day,
            sales=plan.sales,
        )
        cycles: Counter[str] = Counter()
        in_cycles = 0.0

        def cycle(kind: str, options: CycleOptions) -> None:
            nonlocal in_cycles
            took = time.monotonic()
            run_cycle(settings, engine, client, clock=lambda: portal_now(portal), options=options, kind=kind)
            in_cycles += time.monotonic() - took
            cycles[kind] += 1
            observer.after_cycle(start)

        cycle("sync", CycleOptions())  # the first run: the whole portal
        for tick in schedule(start, sim.end, plan.cycle_hours, settings.config.schedule):
            sim.run_until(tick.at)
            cycle(tick.kind, tick.options)
            if tick.kind == "daily":
                day = (tick.at - start) // DAY_MS + 1
                progress(
                    f"day {day}/{plan.days}: {len(observer.tasks)} hubsync tasks so far, "
                    f"{time.monotonic() - began:.0f} s"
                )
        result = sim.result()
        second = observer.episodes()
        with engine.connect() as conn:
            handed = conn.execute(
                sa.select(sa.func.count()).where(contact_score_t.c.handed_over_at.is_not(None))
            ).scalar_one()
            in_episode = conn.execute(
                sa.select(sa.func.count()).where(contact_score_t.c.handoff_armed.is_(False))
            ).scalar_one()
            kinds = Counter(
                str(k) for (k,) in conn.execute(sa.select(task_t.c.kind).where(task_t.c.state != "failed")).all()
            )
        engine.dispose()
        return Findings(
            plan=plan,
            database=url.split(":", 1)[0].split("+", 1)[0],
            owners=[
                (
                    o.id,
                    f"{o.first_name} {o.last_name}",
                    observer.capacity[o.id],
                    rep_profile(portal, o.id, plan.sales).name,
                )
                for o in sorted(portal.owners, key=lambda o: o.id)
            ],
            start=start,
            cycles=cycles,
            seconds=time.monotonic() - began,
            cycle_seconds=in_cycles,
            tasks=observer.tasks,
            open_at_day_end=observer.open_at_day_end,
            overloads=dict(observer.overloads),
            violations=observer.violations,
            second_tasks=second,
            hot_after_done=observer.hot_after_done(),
            surging_rows=observer.surging_rows,
            young_rows=observer.young_rows,
            episodes_in_db=(handed, in_episode),
            db_kinds=kinds,
            sales=result.sales_total,
            arrivals=len(result.arrivals),
            buyers=len(result.buyers),
        )
