"""`hubsync run` writes the calibration report on `[report] schedule`, in a thread of its own, and only while active."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubsync.clock import system_clock
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.cycle import CycleOptions
from hubsync.jobs.scheduler import REPORT_JOB, Job, Service
from hubsync.settings import load_settings
from hubsync.store.db import open_database
from tests.support.config import config_with
from tests.support.html_scan import PageScan

DAILY = Job("daily", CycleOptions(full_rescore=True))


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[[str], Service]]:
    services: list[Service] = []

    def make(schedule: str) -> Service:
        config = config_with(
            tmp_path,
            {
                'schedule = "off"': f'schedule = "{schedule}"',
                'out = "hubsync-report.html"': f'out = "{tmp_path / "reports" / "calibration.html"}"',
            },
        )
        env = {"HUBSPOT_ACCESS_TOKEN": "pat-test", "HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'hubsync.db'}"}
        settings = load_settings(env, str(config))
        engine = open_database(settings.database_url)
        service = Service(settings, engine, client_settings(settings), clock=system_clock, stop=threading.Event())
        services.append(service)
        return service

    yield make
    for service in services:
        service.engine.dispose()


def _report_path(service: Service) -> Path:
    return Path(service.settings.config.report.out)


def test_a_crontab_schedule_is_a_job_on_the_report_thread(make_service: Callable[[str], Service]) -> None:
    service = make_service("0 7 * * mon")
    job = service.scheduler().get_job(REPORT_JOB)
    assert job is not None
    assert job.executor == REPORT_JOB
    assert "day_of_week='mon'" in str(job.trigger)
    assert "hour='7'" in str(job.trigger)
    for schedule in ("off", "daily"):
        assert make_service(schedule).scheduler().get_job(REPORT_JOB) is None


def test_the_daily_rescore_is_followed_by_the_report(make_service: Callable[[str], Service]) -> None:
    service = make_service("daily")
    scheduler = service.scheduler()
    scheduler.start()
    try:
        service.active.set()
        service.report_after(Job("cycle", CycleOptions()))  # an incremental cycle is not followed by one
        assert scheduler.get_job(REPORT_JOB) is None
        service.report_after(DAILY)
        deadline = time.monotonic() + 60
        while service.reports == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert service.reports == 1
    page = PageScan(_report_path(service).read_text(encoding="utf-8"))
    assert len(page.find("td", **{"data-segment": None})) == 16


def test_a_standby_writes_no_report(make_service: Callable[[str], Service]) -> None:
    service = make_service("daily")
    service.run_report()
    assert service.reports == 0
    assert not _report_path(service).exists()
    service.active.set()
    service.run_report()
    assert service.reports == 1
    assert _report_path(service).exists()
