"""Five cycles on one portal, as `bench/scale.py` measures them at 50,000 contacts and
`tests/integration/pipeline/test_scale_small.py` checks them at a few hundred: the first cycle, the next scheduled
one (which re-reads what the first pushed), an idle one (nothing changed, the overlap behind the cursor passed), one
after a simulated day of portal activity and one after a simulated week.

The portal is reached through `PortalControl`: in this process for the test (`LocalPortal`), in a process of its
own for the bench. Each cycle is the service's incremental cycle (`run_cycle`, no full rescore), spaced at least
`cycle_minutes` apart on the portal's clock.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol

from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.cycle import run_cycle
from hubsync.sandbox import schema
from hubsync.sandbox.portal import Portal
from hubsync.sandbox.server import Sandbox
from hubsync.sandbox.simulate import simulate
from hubsync.settings import Settings
from tests.support.call_floor import changed_records, minimum_calls, minimum_push_calls, minimum_searches
from tests.support.handoff_sim import SimulationPlan
from tests.support.sandbox import ms_to_dt

KINDS = ("reads", "searches", "batch updates", "task creates", "other writes")
TASK_CREATE = "push.tasks_batch_create"


def call_kind(operation: str) -> str:
    """The client's operation names (`HubSpotClient.stats`) → the kinds the bench prints."""
    if operation == TASK_CREATE:
        return "task creates"
    if operation.endswith("batch_update"):
        return "batch updates"
    if operation.split(" ", maxsplit=1)[0] in ("search", "count", "scan") or operation.endswith("_search"):
        return "searches"
    if operation.startswith(("push.task_update", "setup.create")):
        return "other writes"
    return "reads"


@dataclass(frozen=True, slots=True)
class PortalChanges:
    """What changed in the portal in a span of its time: CRM records modified (created, edited, archived) per
    object type, and activities logged (page views, e-mail events, form submissions, event participations)."""

    records: Mapping[str, int]
    activities: int

    @property
    def total(self) -> int:
        return sum(self.records.values()) + self.activities


def portal_changes(portal: Portal, since_ms: int, until_ms: int) -> PortalChanges:
    with portal.lock:
        records = {t: len(changed_records(portal, t, since_ms, until_ms)) for t in schema.STANDARD_TYPES}
        logs = (portal.page_views, portal.email_events, portal.form_submissions, portal.participations)
        activities = sum(len(log.between(since_ms, until_ms)) for log in logs)
    return PortalChanges({t: n for t, n in records.items() if n}, activities)


def simulate_days(portal: Portal, days: int, seed: int) -> None:
    """`days` of the handoff simulation's activity (`SimulationPlan`'s defaults for the portal's size: buyers,
    browsers, arrivals, the sales team at the end of each day)."""
    plan = SimulationPlan(contacts=len(portal.stores[schema.CONTACTS].live), days=days, seed=seed)
    simulate(
        portal,
        days=days,
        seed=seed,
        buyers=plan.buyer_count,
        browsers=plan.browsers,
        arrivals=plan.arrivals_per_day,
        sales=plan.sales,
    )


@dataclass(frozen=True, slots=True)
class PullFloor:
    """The fewest calls a pull needs (per stream) and the search pages among them."""

    calls: Mapping[str, int]
    searches: int


def pull_floor(portal: Portal, since_ms: int | None, until_ms: int, history_ms: int) -> PullFloor:
    """A first sync's floor (`since_ms` None) or an incremental pull's, for what changed since `since_ms`."""
    calls = minimum_calls(portal, until_ms=until_ms, history_ms=history_ms, since_ms=since_ms)
    searches = 0 if since_ms is None else minimum_searches(portal, since_ms=since_ms, until_ms=until_ms)
    return PullFloor(calls, searches)


class PortalControl(Protocol):
    """What the cycles need of the portal besides its API."""

    def now_ms(self) -> int: ...

    def advance(self, seconds: float) -> None: ...

    def simulate(self, days: int, seed: int) -> None: ...

    def changes(self, since_ms: int, until_ms: int) -> PortalChanges: ...

    def floor(self, since_ms: int | None, until_ms: int, history_ms: int) -> PullFloor: ...

    def served_429(self) -> int: ...


class LocalPortal:
    """A sandbox served by this process."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def now_ms(self) -> int:
        return self.sb.portal.now

    def advance(self, seconds: float) -> None:
        self.sb.portal.advance(seconds)

    def simulate(self, days: int, seed: int) -> None:
        simulate_days(self.sb.portal, days, seed)

    def changes(self, since_ms: int, until_ms: int) -> PortalChanges:
        return portal_changes(self.sb.portal, since_ms, until_ms)

    def floor(self, since_ms: int | None, until_ms: int, history_ms: int) -> PullFloor:
        return pull_floor(self.sb.portal, since_ms, until_ms, history_ms)

    def served_429(self) -> int:
        return int(self.sb.stats()["byStatus"].get("429", 0))


@dataclass(frozen=True, slots=True)
class CycleFigures:
    name: str
    calls: Mapping[str, int]  # by kind (KINDS)
    wall_s: float
    pulled: int  # records and activities read (re-checks not counted)
    rechecked: int  # associations and owners read again
    scored: int
    pushed: int
    tasks: int
    task_create_calls: int
    minimum_pull_calls: int
    minimum_calls: int
    minimum_searches: int
    # The minimum calls at the allowed rate (the 10-second budget), or their searches at the search rate if slower.
    floor_s: float
    client_429: int
    server_429: int
    changes: PortalChanges  # what changed in the portal since the previous cycle started

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def floor_ratio(self) -> float:
        return self.wall_s / self.floor_s if self.floor_s else math.nan


CYCLES = ("first", "next", "idle", "day", "week")


def run_cycles(
    control: PortalControl,
    settings: Settings,
    engine: Engine,
    client: HubSpotClient,
    *,
    seed: int,
    on_cycle: Callable[[CycleFigures], None] | None = None,
    cycles: Sequence[str] = CYCLES,
    instrument: Callable[[str], AbstractContextManager[object]] | None = None,
) -> list[CycleFigures]:
    """The cycles of CYCLES (setup must have run), or its first `cycles`. `seed` seeds the simulated day and week.
    `instrument(name)` is entered around each cycle's `run_cycle` (bench/scale.py's timeline)."""
    config = settings.config
    history_ms = config.sync.history_days * 86_400_000
    # A gap longer than the overlap: the idle cycle's window no longer reaches back to the first push.
    gap = max(timedelta(minutes=config.schedule.cycle_minutes), timedelta(minutes=config.sync.overlap_minutes + 1))
    per_second = config.portal.effective_requests_per_10s / 10
    searches_per_second = config.portal.search_requests_per_second
    out: list[CycleFigures] = []
    previous: int | None = None
    for name in cycles:
        if name in ("next", "idle"):
            control.advance(gap.total_seconds())
        elif name == "day":
            control.simulate(1, seed)
        elif name == "week":
            control.simulate(7, seed + 1)
        started_ms = control.now_ms()
        changes = PortalChanges({}, 0) if previous is None else control.changes(previous, started_ms)
        floor = control.floor(previous, started_ms, history_ms)
        before_ops, before_status = client.stats().by_operation, client.stats().by_status
        served_before = control.served_429()
        # The portal's clock stands still while a cycle runs (the sandbox moves it only when told).
        with instrument(name) if instrument is not None else nullcontext():
            began = time.perf_counter()
            result = run_cycle(settings, engine, client, clock=partial(ms_to_dt, started_ms))
            wall = time.perf_counter() - began
        after = client.stats()
        ops = Counter({op: n - before_ops.get(op, 0) for op, n in after.by_operation.items()})
        calls: Counter[str] = Counter()
        for op, n in ops.items():
            calls[call_kind(op)] += n
        pushed = result.pushed
        records_pushed = pushed.records_pushed if pushed else 0
        tasks = pushed.tasks_created if pushed else 0
        minimum_pull = sum(floor.calls.values())
        minimum_all = minimum_pull + minimum_push_calls(records_pushed, tasks)
        figures = CycleFigures(
            name=name,
            calls={k: calls.get(k, 0) for k in KINDS},
            wall_s=wall,
            pulled=result.pulled.records,
            rechecked=result.pulled.rechecked,
            scored=result.scored.contacts_scored if result.scored else 0,
            pushed=records_pushed,
            tasks=tasks,
            task_create_calls=ops.get(TASK_CREATE, 0),
            minimum_pull_calls=minimum_pull,
            minimum_calls=minimum_all,
            minimum_searches=floor.searches,
            floor_s=max(minimum_all / per_second, floor.searches / searches_per_second),
            client_429=after.by_status.get("429", 0) - before_status.get("429", 0),
            server_429=control.served_429() - served_before,
            changes=changes,
        )
        out.append(figures)
        if on_cycle is not None:
            on_cycle(figures)
        previous = started_ms
    return out
