"""`hubsync run`: the scheduled service.

Three APScheduler jobs share one worker thread, so they never overlap (and `max_instances=1`, `coalesce` keep a
long cycle from stacking up runs):

* an incremental cycle every `schedule.cycle_minutes` (pull what changed, rescore it, push what changed);
* a daily full rescore and push at `schedule.daily_rescore_at` (decay moves every score even without new data);
* a weekly full reconciliation of associations and deletions.

With `[report] schedule` set, the calibration report is written to `[report] out` in a thread of its own: after the
daily full rescore ("daily"; "weekly": on `weekly_reconcile_day`), or on a crontab. It reads the database only, so
it needs no lease and never holds up a cycle; only the active process writes it.

One active syncer per portal: the main thread holds a lease in the database and renews it every third of its
lifetime. A process that does not hold it is a standby; its jobs skip, and it takes over once the lease expires
(the active one died). A lost lease stops the cycle in progress. SIGTERM / SIGINT stop the cycle in progress after
the page in hand (its cursor saved), shut the scheduler down, release the lease and exit 0.

With `[webhooks] enabled`, every process also receives HubSpot's webhooks, and the active one processes them
(`jobs/realtime.py`): cycles and webhook batches take the same work lock and share the process's one HubSpot client,
so they never write at once and live within one pacer and one daily quota. A cycle lets a waiting batch in between
its units of work (`jobs/work_lock.py`, `jobs/cycle.py`), so a demo request is not held up for a whole cycle.
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
from hubsync.hubspot.pacing import priority_lane
from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.lease import LEASE_NAME, holder_id, take_over
from hubsync.jobs.realtime import Realtime
from hubsync.jobs.report_file import write_report
from hubsync.jobs.setup import verify_setup
from hubsync.jobs.work_lock import WorkLock
from hubsync.settings import Settings
from hubsync.store import lease
from hubsync.webhooks.metrics import Metrics

log = structlog.get_logger(__name__)

REPORT_JOB = "report"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

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
        # Set to stop the work in progress (signal, lost lease); cleared when the lease is taken again.
        self._cycle_stop = threading.Event()
        # Held by a cycle, and by a webhook batch: one writer at a time; a cycle lets batches in between its units.
        self._work = WorkLock()
        self.fatal: HubsyncError | None = None
        self.cycles = 0
        self.reports = 0
        # The running scheduler, for the report that follows the daily rescore.
        self._jobs: BackgroundScheduler | None = None
        # Checked once per process, before its first cycle that writes (two calls), not on every cycle.
        self._setup_verified = False
        self.metrics = Metrics()
        # One client for the life of the process (one pacer, one daily quota), made on first use.
        self._client: HubSpotClient | None = None
        self._client_lock = threading.Lock()
        self.realtime: Realtime | None = None

    # -- the jobs ---------------------------------------------------------------------------------------------

    def scheduler(self) -> BackgroundScheduler:
        schedule = self.settings.config.schedule
        zone = ZoneInfo(schedule.timezone)
        daily, weekly = schedule.daily_rescore_time, schedule.weekly_reconcile_time
        scheduler = BackgroundScheduler(
            # The report reads the database only: a thread of its own, so it never holds up a cycle.
            executors={"default": ThreadPoolExecutor(max_workers=1), REPORT_JOB: ThreadPoolExecutor(max_workers=1)},
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
        report = self.settings.config.report.schedule
        if report not in {"off", "daily", "weekly"}:
            trigger = CronTrigger.from_crontab(report, timezone=zone)
            scheduler.add_job(self.run_report, trigger, id=REPORT_JOB, name=REPORT_JOB, executor=REPORT_JOB)
        self._jobs = scheduler
        return scheduler

    def run_job(self, job: Job) -> None:
        if self.stop.is_set():
            return
        if not self.active.is_set():
            log.info("run.standby_skipped", job=job.name, holder=self.holder)
            return
        outcome = "failed"
        try:
            # While a webhook batch waits for the work lock, the cycle's requests go in the pacer's priority lane too:
            # the unit in hand ends sooner.
            with self._work.held(), priority_lane(when=lambda: self._work.batch_waiting):
                client = self.client()
                if job.options.push:
                    self.verify_setup(client)
                result = run_cycle(
                    self.settings,
                    self.engine,
                    client,
                    clock=self.clock,
                    options=job.options,
                    kind=job.name,
                    stop=self._cycle_stop,
                    holder=self.holder,
                    work_lock=self._work,
                )
            self.cycles += 1
            outcome = result.outcome
            self.report_after(job)
            self.metrics.tasks_created.inc(result.pushed.tasks_created if result.pushed else 0)
            self.metrics.contacts_rescored.labels(source=job.name).inc(
                result.scored.contacts_scored if result.scored else 0
            )
        except Interrupted:
            outcome = "stopped"
            log.info("run.cycle_interrupted", job=job.name)
        except _FATAL as err:
            self.fail(err, job=job.name)
        except HubsyncError as err:
            # Already logged and recorded by the cycle; the next scheduled run tries again.
            log.warning("run.cycle_failed", job=job.name, error=str(err), error_type=type(err).__name__)
        finally:
            self.metrics.runs.labels(kind=job.name, outcome=outcome).inc()

    def report_after(self, job: Job) -> None:
        """`[report] schedule` "daily" / "weekly": the report follows the daily full rescore (on
        `weekly_reconcile_day` for "weekly"), in the report's own thread."""
        schedule = self.settings.config.report.schedule
        if job.name != "daily" or schedule not in {"daily", "weekly"} or self._jobs is None:
            return
        zone = ZoneInfo(self.settings.config.schedule.timezone)
        today = _WEEKDAYS[system_clock().astimezone(zone).weekday()]
        if schedule == "weekly" and today != self.settings.config.schedule.weekly_reconcile_day:
            return
        self._jobs.add_job(self.run_report, id=REPORT_JOB, name=REPORT_JOB, executor=REPORT_JOB, replace_existing=True)

    def run_report(self) -> None:
        """Write the calibration report to `[report] out`. Only the active process writes it (two would write the
        same file); a failure is logged and the next scheduled report tries again."""
        if self.stop.is_set() or not self.active.is_set():
            log.info("run.report_skipped", holder=self.holder)
            return
        try:
            written = write_report(self.engine, self.settings, now=self.clock())
            self.reports += 1
            log.info("run.report_written", path=str(written.path))
        except Exception as err:  # noqa: BLE001  (a report must never stop the service; logged, tried next time)
            log.warning("run.report_failed", error=str(err), error_type=type(err).__name__)

    def client(self) -> HubSpotClient:
        with self._client_lock:  # cycles, batches and a /metrics scrape may ask at once
            if self._client is None:
                self._client = HubSpotClient(self.client_settings, stop=self._cycle_stop)
            return self._client

    def verify_setup(self, client: HubSpotClient) -> None:
        if not self._setup_verified:
            verify_setup(client, self.settings.config.push)
            self._setup_verified = True

    def fail(self, err: HubsyncError, *, job: str) -> None:
        """Retrying cannot help (bad token, missing scope): stop the service with the error's exit code."""
        log.error("run.fatal", job=job, error=str(err), error_type=type(err).__name__)
        self.fatal = err
        self.stop.set()

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
            if not self.stop.is_set():
                self._cycle_stop.clear()
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
        if self.settings.config.webhooks.enabled:
            self.realtime = Realtime(
                self.settings,
                self.engine,
                client=self.client,
                clock=self.clock,
                metrics=self.metrics,
                active=self.active,
                work=self._work,
                halt=self._cycle_stop,
                before_work=self.verify_setup,
                fatal=_FATAL,
                on_fatal=lambda err: self.fail(err, job="webhooks"),
            )
            self.realtime.start()
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
            if self.realtime is not None:
                self.realtime.stop()
            scheduler.shutdown(wait=True)
            if self._client is not None:
                self._client.close()
            if self.active.is_set():
                lease.release(self.engine, LEASE_NAME, self.holder)
            log.info("run.stopped", holder=self.holder, cycles=self.cycles)
