"""`hubsync run`: the scheduled service.

Three APScheduler jobs share one worker thread, so they never overlap (and `max_instances=1`, `coalesce` keep a
long cycle from stacking up runs):

* an incremental cycle every `schedule.cycle_minutes` (pull what changed, rescore it, push what changed);
* a daily full rescore and push at `schedule.daily_rescore_at` (decay moves every score even without new data);
* a weekly full reconciliation of associations and deletions.

One active syncer per portal: the main thread holds a lease in the database and renews it every third of its
lifetime. A process that does not hold it is a standby; its jobs skip, and it takes over once the lease expires
(the active one died). A lost lease stops the cycle in progress. SIGTERM / SIGINT stop the cycle in progress after
the page in hand (its cursor saved), shut the scheduler down, release the lease and exit 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from hubsync.clock import Clock, system_clock
from hubsync.errors import (
    AuthenticationFailed,
    ConfigError,
    HubsyncError,
    Interrupted,
    MissingScopes,
    SetupRequired,
    StoreError,
)
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.lease import LEASE_NAME, holder_id, take_over
from hubsync.jobs.setup import verify_setup
from hubsync.settings import Settings
from hubsync.store import lease

log = structlog.get_logger(__name__)

# Errors that the next cycle cannot fix: stop the service instead of failing every few minutes.
_FATAL = (AuthenticationFailed, MissingScopes, ConfigError, SetupRequired)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    options: CycleOptions


class Service:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        client_settings: ClientSettings,
        *,
        clock: Clock,
        stop: threading.Event,
        cycle_seconds: float | None = None,
        holder: str | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client_settings = client_settings
        self.clock = clock
        self.stop = stop
        self.holder = holder or holder_id()
        schedule = settings.config.schedule
        self.lease_ttl = timedelta(seconds=schedule.lease_seconds)
        self.cycle_seconds = cycle_seconds or schedule.cycle_minutes * 60
        self.active = threading.Event()
        # Set to stop the cycle in progress (signal, lost lease); a new one for every cycle.
        self._cycle_stop = threading.Event()
        self._lock = threading.Lock()
        self.fatal: HubsyncError | None = None
        self.cycles = 0
        # Checked once per process, before its first cycle that writes (two calls), not on every cycle.
        self._setup_verified = False

    # -- the jobs ---------------------------------------------------------------------------------------------

    def scheduler(self) -> BackgroundScheduler:
        schedule = self.settings.config.schedule
        zone = ZoneInfo(schedule.timezone)
        daily, weekly = schedule.daily_rescore_time, schedule.weekly_reconcile_time
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600},
            timezone=zone,
        )
        jobs: list[tuple[Job, Any]] = [
            (Job("cycle", CycleOptions()), IntervalTrigger(seconds=self.cycle_seconds, timezone=zone)),
            (
                Job("daily", CycleOptions(full_rescore=True)),
                CronTrigger(hour=daily.hour, minute=daily.minute, timezone=zone),
            ),
            (
                Job("reconcile", CycleOptions(full_reconcile=True)),
                CronTrigger(
                    day_of_week=schedule.weekly_reconcile_day,
                    hour=weekly.hour,
                    minute=weekly.minute,
                    timezone=zone,
                ),
            ),
        ]
        for job, trigger in jobs:
            scheduler.add_job(self.run_job, trigger, args=[job], id=job.name, name=job.name)
        return scheduler

    def run_job(self, job: Job) -> None:
        if self.stop.is_set():
            return
        if not self.active.is_set():
            log.info("run.standby_skipped", job=job.name, holder=self.holder)
            return
        with self._lock:
            self._cycle_stop = threading.Event()
            cycle_stop = self._cycle_stop
        try:
            with HubSpotClient(self.client_settings, stop=cycle_stop) as client:
                if job.options.push and not self._setup_verified:
                    verify_setup(client, self.settings.config.push)
                    self._setup_verified = True
                run_cycle(
                    self.settings,
                    self.engine,
                    client,
                    clock=self.clock,
                    options=job.options,
                    kind=job.name,
                    stop=cycle_stop,
                    holder=self.holder,
                )
            self.cycles += 1
        except Interrupted:
            log.info("run.cycle_interrupted", job=job.name)
        except _FATAL as err:
            # Retrying cannot help (bad token, missing scope): stop the service with the error's exit code.
            log.error("run.fatal", job=job.name, error=str(err), error_type=type(err).__name__)  # noqa: TRY400
            self.fatal = err
            self.stop.set()
        except HubsyncError as err:
            # Already logged and recorded by the cycle; the next scheduled run tries again.
            log.warning("run.cycle_failed", job=job.name, error=str(err), error_type=type(err).__name__)

    # -- the lease --------------------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Take or renew the lease; become active or standby accordingly."""
        abandoned = 0
        try:
            # The system clock, never the sandbox's: the lease measures whether a process is alive.
            held = lease.acquire(self.engine, LEASE_NAME, self.holder, now=system_clock(), ttl=self.lease_ttl)
            if held and not self.active.is_set():
                abandoned = take_over(self.engine, self.holder, now=self.clock())
        except (StoreError, HubsyncError) as err:
            log.warning("run.lease_unavailable", error=str(err))
            held = False
        except Exception as err:  # noqa: BLE001  (a database hiccup must not kill the service; logged)
            log.warning("run.lease_unavailable", error=f"{type(err).__name__}: {err}")
            held = False
        if held and not self.active.is_set():
            log.info("run.active", holder=self.holder, abandoned_runs=abandoned)
            self.active.set()
        elif not held and self.active.is_set():
            log.warning("run.lease_lost", holder=self.holder)
            self.active.clear()
            self._cycle_stop.set()
        elif not held:
            log.debug("run.standby", holder=self.holder)

    def request_stop(self) -> None:
        self.stop.set()
        self._cycle_stop.set()

    def serve(self, *, until: Callable[[], bool] | None = None) -> None:
        """Run until stopped (or `until()` is true, for tests): heartbeat in this thread, jobs in the scheduler's."""
        log.info(
            "run.started",
            holder=self.holder,
            cycle_seconds=self.cycle_seconds,
            lease_seconds=int(self.lease_ttl.total_seconds()),
        )
        self.heartbeat()
        scheduler = self.scheduler()
        scheduler.start()
        # The first incremental cycle runs at once rather than one interval after start.
        scheduler.modify_job("cycle", next_run_time=datetime.now(UTC))
        beat = max(1.0, self.lease_ttl.total_seconds() / 3)
        try:
            while not self.stop.wait(beat):
                self.heartbeat()
                if until is not None and until():
                    break
        finally:
            self._cycle_stop.set()
            scheduler.shutdown(wait=True)
            if self.active.is_set():
                lease.release(self.engine, LEASE_NAME, self.holder)
            log.info("run.stopped", holder=self.holder, cycles=self.cycles)
