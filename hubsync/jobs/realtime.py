"""Real time inside `hubsync run`: the webhook receiver (every process) and its worker (the active syncer only).

The receiver (`hubsync/webhooks/`) stores each request's events and answers; storing wakes the worker, which takes
the stored events oldest first, up to `[webhooks] max_batch_events` at a time, and processes them as one batch
(`jobs/webhooks.py`): the batch is marked processed only after its work is committed, so a crash at any point
loses nothing (the events are processed again after a restart; every write is an upsert or a diff, the task
creation is crash-safe), and an event HubSpot delivers twice is stored once.

Batches and cycles never write at the same time: both take the service's work lock (`jobs/work_lock.py`), a batch
before a cycle, which lets a waiting batch in between its units of work; both go through the one HubSpot client of
the process (one pacer, one daily quota). A standby stores what it receives and processes
nothing; the active syncer also looks every `poll_seconds` for events another process stored. After a failure the
worker waits (1 s, 2 s, … up to a minute) before it tries the same events again; errors no retry can fix stop the
service like a cycle's. `/healthz` and `/metrics` report the lease, the last good run and the queue from the
database, so every process, standby or not, answers for the whole service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

import structlog
from sqlalchemy.engine import Engine

from hubsync.clock import Clock, system_clock
from hubsync.errors import FatalHubSpotError, HubsyncError, Interrupted
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.pacing import priority_lane
from hubsync.jobs.lease import LEASE_NAME
from hubsync.jobs.webhooks import WebhookResult, process_events
from hubsync.jobs.work_lock import WorkLock
from hubsync.records import WebhookEvent
from hubsync.settings import Settings
from hubsync.store.db import transaction
from hubsync.store.webhook_events import (
    QueuedEvent,
    mark_processed,
    prune_processed,
    service_facts,
    store_events,
    unprocessed,
)
from hubsync.webhooks.metrics import Facts, Metrics
from hubsync.webhooks.receiver import Health, ReceiverOptions, receiver_app
from hubsync.webhooks.server import ReceiverServer

log = structlog.get_logger(__name__)

_BACKOFF_MAX_SECONDS: Final = 60.0
# The share of hubsync's paced request rate that batches may use on average; the rest stays for the cycles.
_BUDGET_SHARE: Final = 0.75
_PRUNE_EVERY_SECONDS: Final = 3600.0


class Realtime:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        client: Callable[[], HubSpotClient],
        clock: Clock,
        metrics: Metrics,
        active: threading.Event,
        work: WorkLock,
        halt: threading.Event,
        before_work: Callable[[HubSpotClient], None],
        fatal: tuple[type[HubsyncError], ...],
        on_fatal: Callable[[HubsyncError], None],
    ) -> None:
        self.settings = settings
        self.config = settings.config.webhooks
        self.engine = engine
        self.clock = clock
        self.metrics = metrics
        self._client = client
        self._active = active
        self._work = work
        self._halt = halt
        self._before_work = before_work
        self._fatal = fatal
        self._on_fatal = on_fatal
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._failures = 0
        self._retry_at = 0.0
        portal = settings.config.portal
        self._calls_per_second = portal.effective_requests_per_10s * portal.pace_fraction / 10 * _BUDGET_SHARE
        self._next_batch_at = 0.0
        self._pruned_at = 0.0
        options = ReceiverOptions(
            path=self.config.path,
            secret=settings.require_webhook_secret(),
            window_seconds=self.config.timestamp_window_seconds,
            max_body_bytes=self.config.max_body_bytes,
            public_url=self.config.public_url,
        )
        app = receiver_app(options, store=self.store, health=self.health, metrics=metrics, on_stored=self._wake.set)
        self._server = ReceiverServer(app, host=self.config.host, port=self.config.port)
        self._worker = threading.Thread(target=self._run_worker, name="webhooks-worker", daemon=True)
        metrics.read_facts_with(self.facts)

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> None:
        self.start_receiver()
        self._worker.start()

    def start_receiver(self) -> None:
        """Receive and store, without the worker (`process_pending` processes on demand)."""
        self._server.start()
        log.info("webhooks.listening", host=self.config.host, port=self.port, path=self.config.path)

    def stop(self) -> None:
        """Stop receiving (requests in flight are answered, their events stored), then stop the worker after the
        batch in hand (a set `halt` cuts it short at its next request; its events stay queued)."""
        self._server.stop()
        self._stopping.set()
        self._wake.set()
        if self._worker.is_alive():
            self._worker.join()
        log.info("webhooks.stopped")

    # -- the receiver's collaborators -------------------------------------------------------------------------

    def store(self, events: list[WebhookEvent]) -> int:
        with transaction(self.engine) as conn:
            return store_events(conn, events, received_at=system_clock())

    def health(self) -> Health:
        """ok unless: no process holds the lease, no run finished well within `[monitoring] max_age_minutes`, or
        an event has waited longer than `[webhooks] max_lag_seconds`."""
        try:
            with self.engine.connect() as conn:
                facts = service_facts(conn, LEASE_NAME)
            service_now = self.clock()
        except HubsyncError as err:
            return Health(False, {"status": "error", "problems": [str(err)]})
        now = system_clock()
        max_age = self.settings.config.monitoring.max_age_minutes
        holder = facts.lease_holder if facts.lease_expires_at is not None and facts.lease_expires_at >= now else None
        lag = _age(facts.queue.oldest_received_at, now)
        problems = []
        if holder is None:
            problems.append("no process holds the lease: nothing is processed")
        if facts.last_good_run_at is None or service_now - facts.last_good_run_at > timedelta(minutes=max_age):
            problems.append(f"no run finished well within {max_age} minutes")
        if lag > self.config.max_lag_seconds:
            problems.append(f"the oldest event has waited {lag:.0f} s, more than {self.config.max_lag_seconds} s")
        return Health(
            not problems,
            {
                "status": "stale" if problems else "ok",
                "problems": problems,
                "lease_holder": holder,
                "this_process_active": self._active.is_set(),
                "last_good_run_at": _iso(facts.last_good_run_at),
                "queue_depth": facts.queue.depth,
                "queue_age_seconds": round(lag, 3),
            },
        )

    def facts(self) -> Facts:
        with self.engine.connect() as conn:
            facts = service_facts(conn, LEASE_NAME)
        stats = self._client().stats()
        last = facts.last_good_run_at
        return Facts(
            queue_depth=facts.queue.depth,
            queue_lag_seconds=_age(facts.queue.oldest_received_at, system_clock()),
            last_success=last.timestamp() if last is not None else None,
            active=self._active.is_set(),
            api_calls=stats.total,
            rate_limited=stats.by_status.get("429", 0),
        )

    # -- the worker -------------------------------------------------------------------------------------------

    def _run_worker(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.config.poll_seconds)
            self._wake.clear()
            try:
                while not self._stopping.is_set() and self.process_pending() >= self.config.max_batch_events:
                    pass  # a full batch: more may wait
            except Exception:  # a bug must not end real time for the life of the service; logged
                log.exception("webhooks.worker_failed")
                self._back_off()

    def process_pending(self) -> int:
        """Process one batch if this process is the active syncer and events wait; returns how many it processed
        (0 as a standby, when nothing waits, while backing off after a failure, or when stopped)."""
        if not self._active.is_set() or time.monotonic() < self._retry_at:
            return 0
        # Batches are spaced by what the last one cost, so that on average they stay within their share of the
        # pace: the pacer's 10-second window is never used up, which would stall everything for seconds. Under load
        # the events of the pause join the next batch instead.
        self._stopping.wait(max(0.0, self._next_batch_at - time.monotonic()))
        asked = time.monotonic()
        with self._work.held(urgent=True):
            if self._halt.is_set() or not self._active.is_set():
                return 0
            with transaction(self.engine) as conn:
                queued = unprocessed(conn, limit=self.config.max_batch_events)
            if not queued:
                self._prune()
                return 0
            return self._process(queued, lock_wait=time.monotonic() - asked)

    def _process(self, queued: list[QueuedEvent], *, lock_wait: float) -> int:
        client = self._client()
        started, calls_before = time.monotonic(), client.stats().total
        try:
            return self._processed(queued, client, lock_wait=lock_wait)
        finally:
            self._next_batch_at = started + (client.stats().total - calls_before) / self._calls_per_second

    def _processed(self, queued: list[QueuedEvent], client: HubSpotClient, *, lock_wait: float) -> int:
        events = [q.event for q in queued]
        try:
            self._before_work(client)
            # Its requests go before a cycle's (within the same budgets): a demo request waits for no cycle's pages.
            with priority_lane():
                result = process_events(
                    self.settings, self.engine, client, events, clock=self.clock, stop=self._halt, lock_wait=lock_wait
                )
        except Interrupted:
            log.info("webhooks.batch_interrupted", events=len(events))
            self.metrics.runs.labels(kind="webhooks", outcome="stopped").inc()
            return 0
        except self._fatal as err:
            log.error("webhooks.fatal", error=str(err), error_type=type(err).__name__)  # noqa: TRY400
            self.metrics.runs.labels(kind="webhooks", outcome="failed").inc()
            self._on_fatal(err)
            return 0
        except FatalHubSpotError as err:
            # HubSpot refuses a request of this batch for good: retrying the same events cannot help. They are set
            # aside as processed (logged); the scheduled cycle reads the same records its own way.
            log.error("webhooks.batch_dropped", events=len(events), error=str(err))  # noqa: TRY400
            self._done(queued, None, outcome="failed")
            return len(events)
        except HubsyncError as err:
            log.warning("webhooks.batch_failed", events=len(events), error=str(err), error_type=type(err).__name__)
            self.metrics.runs.labels(kind="webhooks", outcome="failed").inc()
            self._back_off()
            return 0
        self._done(queued, result, outcome="stopped" if result.stopped else "ok")
        return len(events)

    def _done(self, queued: list[QueuedEvent], result: WebhookResult | None, *, outcome: str) -> None:
        now = system_clock()
        with transaction(self.engine) as conn:
            mark_processed(conn, [q.event.event_id for q in queued], now=now)
        self._failures, self._retry_at = 0, 0.0
        self.metrics.runs.labels(kind="webhooks", outcome=outcome).inc()
        if result is not None:
            self.metrics.tasks_created.inc(result.tasks_created)
            self.metrics.contacts_rescored.labels(source="webhooks").inc(result.contacts_scored)
        for q in queued:
            self.metrics.event_latency.observe(max(0.0, (now - q.received_at).total_seconds()))

    def _back_off(self) -> None:
        self._failures += 1
        self._retry_at = time.monotonic() + min(_BACKOFF_MAX_SECONDS, 2.0 ** (self._failures - 1))

    def _prune(self) -> None:
        if time.monotonic() - self._pruned_at < _PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = time.monotonic()
        with transaction(self.engine) as conn:
            gone = prune_processed(conn, before=system_clock() - timedelta(days=self.config.keep_days))
        if gone:
            log.info("webhooks.pruned", events=gone)


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
