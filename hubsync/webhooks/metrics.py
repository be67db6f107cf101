"""`/metrics`: what the service did, in Prometheus' text format (prometheus-client), one registry per process.

Counters are counted where things happen (runs, tasks, webhook requests and batches, rescored contacts); what the
database knows beyond this process (the queue, the last good run) and what the HubSpot client counted (requests,
429s) are read when Prometheus scrapes, through `Facts`, so every process, standby or active, reports the same queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
# From the receipt of an event to its processing: the real-time promise is "within a second".
_LATENCY_BUCKETS: Final = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True, slots=True)
class Facts:
    queue_depth: int
    # Seconds the oldest unprocessed event has waited (0 when none waits).
    queue_lag_seconds: float
    # Epoch seconds of the last run that finished well; None before the first.
    last_success: float | None
    # This process holds the lease (it is the active syncer).
    active: bool
    # Requests this process sent to HubSpot, and how many of them HubSpot answered 429.
    api_calls: int
    rate_limited: int


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "hubsync_runs",
            "Cycles and webhook batches, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.tasks_created = Counter("hubsync_tasks_created", "Sales tasks created in HubSpot.", registry=self.registry)
        self.contacts_rescored = Counter(
            "hubsync_contacts_rescored", "Contacts scored, by what caused it.", ["source"], registry=self.registry
        )
        self.webhook_requests = Counter(
            "hubsync_webhook_requests", "Webhook requests received, by HTTP status answered.", ["status"],
            registry=self.registry,
        )  # fmt: skip
        self.webhook_events = Counter(
            "hubsync_webhook_events", "Webhook events received, new or delivered again.", ["result"],
            registry=self.registry,
        )  # fmt: skip
        self.event_latency = Histogram(
            "hubsync_webhook_event_latency_seconds",
            "From an event's receipt to the end of its processing.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._facts: Callable[[], Facts] | None = None
        self.registry.register(_FactsCollector(self))

    def read_facts_with(self, facts: Callable[[], Facts]) -> None:
        self._facts = facts

    def facts(self) -> Facts | None:
        return self._facts() if self._facts is not None else None

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _FactsCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        facts = self._metrics.facts()
        if facts is None:
            return
        yield GaugeMetricFamily(
            "hubsync_webhook_queue_depth", "Webhook events waiting to be processed.", facts.queue_depth
        )
        yield GaugeMetricFamily(
            "hubsync_webhook_queue_lag_seconds",
            "How long the oldest waiting event has waited.",
            facts.queue_lag_seconds,
        )
        yield GaugeMetricFamily("hubsync_active", "1 when this process is the active syncer.", int(facts.active))
        if facts.last_success is not None:
            yield GaugeMetricFamily(
                "hubsync_last_success_timestamp_seconds", "When the last run finished well.", facts.last_success
            )
        yield CounterMetricFamily("hubsync_api_calls", "Requests sent to HubSpot by this process.", facts.api_calls)
        yield CounterMetricFamily(
            "hubsync_api_rate_limited", "Requests HubSpot answered 429 (rate limited).", facts.rate_limited
        )

    def describe(self) -> Iterator[Metric]:
        # Read at scrape time only: nothing to describe (and no database read) when the registry is built.
        return iter(())
