"""A sandbox portal that lives through months with a sales team while hubsync syncs it: what a calibration report
needs to mean something. The sandbox keeps running while the caller looks (its clock is the report's `now`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.sales import SalesBehaviour
from hubsync.sandbox.simulate import DAY_MS, Simulation
from hubsync.settings import Settings
from hubsync.store.db import open_database
from tests.support.sandbox import fast_client, portal_now, sandbox_settings


@dataclass(frozen=True, slots=True)
class SimulatedRun:
    sandbox: Sandbox
    engine: Engine
    settings: Settings
    # The portal's clock at each cycle, the first one before the simulation.
    cycles: tuple[datetime, ...]


@contextmanager
def simulated_run(
    database_url: str,
    *,
    contacts: int = 150,
    seed: int = 11,
    days: int = 91,
    every: int = 3,
    buyers: int = 12,
    full_every: int | None = 3,
    simulation_seed: int | None = None,
) -> Iterator[SimulatedRun]:
    """setup, a first cycle, then `days` simulated days (buyers, browsers, arrivals, the sales team) with a cycle
    every `every` days, a full rescore every `full_every`-th one (as the daily job would; None: never, which is
    faster), scoring as of the portal's clock. The simulation draws from `simulation_seed` (default `seed + 1`)."""
    with start_sandbox(contacts=contacts, seed=seed, rate_limits=False) as sb:
        settings = sandbox_settings(sb, database_url)
        engine = open_database(database_url)

        def clock() -> datetime:
            return portal_now(sb.portal)

        try:
            cycles = []
            with fast_client(sb) as client:
                setup(client, settings.config.push)
                run_cycle(settings, engine, client, clock=clock)
                cycles.append(clock())
                sim = Simulation(
                    sb.portal,
                    days=days,
                    seed=seed + 1 if simulation_seed is None else simulation_seed,
                    buyers=buyers,
                    arrivals=1.0,
                    sales=SalesBehaviour(),
                )
                for n, day in enumerate(range(every, days + every, every), start=1):
                    sim.run_until(sim.start + min(day, days) * DAY_MS)
                    full = full_every is not None and n % full_every == 0
                    run_cycle(settings, engine, client, clock=clock, options=CycleOptions(full_rescore=full))
                    cycles.append(clock())
            yield SimulatedRun(sb, engine, settings, tuple(cycles))
        finally:
            engine.dispose()
