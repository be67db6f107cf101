"""The receiver over real HTTP (uvicorn) on SQLite and PostgreSQL: what it stores and answers, `/healthz` and
`/metrics`."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import structlog
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from hubsync import logs
from hubsync.clock import system_clock
from hubsync.jobs.lease import LEASE_NAME
from hubsync.store import lease
from hubsync.store.db import open_database, transaction
from hubsync.store.runs import RunCounts, finish_run, start_run
from tests.integration.webhooks.world import SECRET, Receiver, idle_client, receiver, webhook_settings

# A value only the body carries: it must never show in the log.
PERSONAL = "jane.doe@personal.example"


def _batch(*event_ids: int, object_id: int = 1001) -> bytes:
    return json.dumps(
        [
            {
                "eventId": event_id,
                "subscriptionId": 1,
                "portalId": 62515,
                "appId": 2,
                "occurredAt": int(time.time() * 1000),
                "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0,
                "objectId": object_id,
                "propertyName": "email",
                "propertyValue": PERSONAL,
                "changeSource": "CRM",
            }
            for event_id in event_ids
        ]
    ).encode()


@pytest.fixture
def rx(database_url: str, tmp_path: Path) -> Iterator[Receiver]:
    settings = webhook_settings(tmp_path, {"HUBSYNC_DATABASE_URL": database_url})
    engine = open_database(database_url)
    try:
        with receiver(settings, engine, idle_client()) as r:
            yield r
    finally:
        engine.dispose()


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    out = io.StringIO()
    config, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure(secrets=[SECRET], json=True, stream=out, level="info")
    yield out
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_signed_batch_is_stored_and_answered_204(rx: Receiver) -> None:
    answer = rx.post(_batch(11, 12, 13))
    assert answer.status_code == 204
    assert (rx.stored(), rx.waiting()) == (3, 3)


def test_a_batch_delivered_again_is_stored_once(rx: Receiver) -> None:
    body = _batch(21, 22)
    assert rx.post(body).status_code == 204
    # HubSpot's retry (the same events; attemptNumber moved) is answered 2xx too, and stores nothing new.
    assert rx.post(body.replace(b'"attemptNumber": 0', b'"attemptNumber": 1')).status_code == 204
    assert rx.post(_batch(22, 23)).status_code == 204
    assert rx.stored() == 3
    again = {
        s.labels["result"]: s.value
        for f in _metrics(rx)
        for s in f.samples
        if s.name.startswith("hubsync_webhook_events_total")
    }
    assert again == {"new": 3.0, "again": 3.0}


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("wrong secret", "bad_signature"),
        ("tampered body", "bad_signature"),
        ("stale timestamp", "stale"),
        ("no signature", "missing"),
    ],
)
def test_a_request_not_from_hubspot_is_refused_401_and_not_logged_with_its_body(
    rx: Receiver, log_text: io.StringIO, how: str, reason: str
) -> None:
    body = _batch(31)
    if how == "wrong secret":
        answer = rx.post(body, secret="another-secret")
    elif how == "tampered body":
        tampered = body.replace(b"1001", b"1002")
        answer = requests.post(rx.url, data=tampered, headers=rx.headers(body), timeout=10)
    elif how == "stale timestamp":
        six_minutes_ago = int(time.time() * 1000) - 6 * 60 * 1000
        answer = rx.post(body, timestamp=six_minutes_ago)
    else:
        answer = requests.post(rx.url, data=body, timeout=10)
    assert answer.status_code == 401
    assert rx.stored() == 0
    events = [json.loads(line) for line in log_text.getvalue().splitlines()]
    refused = [e for e in events if e["event"] == "webhooks.refused"]
    assert [(e["status"], e["reason"]) for e in refused] == [(401, reason)]
    assert PERSONAL not in log_text.getvalue()
    assert SECRET not in log_text.getvalue()


@pytest.mark.parametrize("body", [b"not json", b'{"eventId": 1}', b'[{"eventId": 1}]'])
def test_a_signed_body_that_is_not_a_batch_is_refused_400(rx: Receiver, body: bytes) -> None:
    assert rx.post(body).status_code == 400
    assert rx.stored() == 0


def test_a_body_over_the_limit_is_refused_413(rx: Receiver) -> None:
    limit = rx.settings.config.webhooks.max_body_bytes
    events = json.loads(_batch(41))
    events[0]["propertyValue"] = "x" * limit
    assert rx.post(json.dumps(events).encode()).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body is read
        for _ in range(limit // 4096 + 2):
            yield b"x" * 4096

    assert requests.post(rx.url, data=chunks(), timeout=10).status_code == 413
    assert rx.stored() == 0


def _metrics(rx: Receiver) -> list[Metric]:
    answer = requests.get(rx.base + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return list(text_string_to_metric_families(answer.text))


def test_metrics_parse_as_prometheus_text(rx: Receiver) -> None:
    assert rx.post(_batch(51, 52)).status_code == 204
    assert rx.post(_batch(53), secret="wrong").status_code == 401
    families = {f.name: f for f in _metrics(rx)}
    assert {
        "hubsync_runs",
        "hubsync_tasks_created",
        "hubsync_api_calls",
        "hubsync_api_rate_limited",
        "hubsync_webhook_queue_depth",
        "hubsync_webhook_queue_lag_seconds",
        "hubsync_webhook_requests",
        "hubsync_webhook_event_latency_seconds",
    } <= set(families)
    assert families["hubsync_webhook_queue_depth"].samples[0].value == 2
    assert families["hubsync_webhook_queue_lag_seconds"].samples[0].value >= 0
    requests_by_status = {
        s.labels["status"]: s.value for s in families["hubsync_webhook_requests"].samples if s.name.endswith("_total")
    }
    assert requests_by_status == {"204": 1.0, "401": 1.0}
    # No run finished yet: no last-success time to report.
    assert "hubsync_last_success_timestamp_seconds" not in families


def _health(rx: Receiver) -> tuple[int, dict[str, Any]]:
    answer = requests.get(rx.base + "/healthz", timeout=10)
    return answer.status_code, answer.json()


def test_healthz_reports_a_stale_syncer_and_a_healthy_one(rx: Receiver) -> None:
    status, report = _health(rx)
    assert status == 503
    assert report["status"] == "stale"
    assert report["lease_holder"] is None
    problems = " / ".join(report["problems"])
    assert "no process holds the lease" in problems
    assert "no run finished well" in problems

    now = system_clock()
    max_age = rx.settings.config.monitoring.max_age_minutes
    assert lease.acquire(rx.engine, LEASE_NAME, "host:1:syncer", now=now, ttl=timedelta(minutes=5))
    with transaction(rx.engine) as conn:
        # The syncer holds its lease but its last good run is older than [monitoring] max_age_minutes: stale.
        run_id = start_run(conn, "cycle", now=now - timedelta(minutes=max_age + 30), holder="host:1:syncer")
        finish_run(conn, run_id, outcome="ok", counts=RunCounts(), now=now - timedelta(minutes=max_age + 29))
    status, report = _health(rx)
    assert (status, report["lease_holder"]) == (503, "host:1:syncer")
    assert report["problems"] == [f"no run finished well within {max_age} minutes"]

    with transaction(rx.engine) as conn:
        run_id = start_run(conn, "cycle", now=now, holder="host:1:syncer")
        finish_run(conn, run_id, outcome="ok", counts=RunCounts(), now=now)
    assert rx.post(_batch(61)).status_code == 204
    status, report = _health(rx)
    assert (status, report["status"], report["queue_depth"]) == (200, "ok", 1)
    families = {f.name: f for f in _metrics(rx)}
    assert families["hubsync_last_success_timestamp_seconds"].samples[0].value == pytest.approx(now.timestamp())
