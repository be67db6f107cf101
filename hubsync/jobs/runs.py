"""The run log, written in one place: a job runs inside `recorded_run`, which opens its row and closes it once.

However the job ends — done, stopped early by the quota, interrupted by a stop request, failed with a classified
error — the row gets its outcome, its counts and the API calls the job made, in one transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Engine

from hubsync.errors import HubsyncError, Interrupted
from hubsync.hubspot.client import HubSpotClient
from hubsync.store.db import transaction
from hubsync.store.runs import RunCounts, finish_run, start_run

STOPPED_ON_REQUEST = "stopped on request"


@dataclass(slots=True)
class RunLog:
    """What the job tells the run log: its counts (read when the run ends) and, when it stopped early, why."""

    run_id: int
    counts: Callable[[], RunCounts]
    outcome: str = "ok"
    note: str | None = None

    def stopped_early(self, note: str) -> None:
        self.outcome, self.note = "stopped", note


@contextmanager
def recorded_run(
    engine: Engine,
    client: HubSpotClient,
    kind: str,
    *,
    clock: Callable[[], datetime],
    counts: Callable[[], RunCounts],
    holder: str | None = None,
) -> Iterator[RunLog]:
    with transaction(engine) as conn:
        run_id = start_run(conn, kind, now=clock(), holder=holder)
    calls_before = client.stats().total
    run = RunLog(run_id, counts)
    try:
        yield run
    except Interrupted:
        _finish(engine, client, run, "stopped", STOPPED_ON_REQUEST, calls_before, clock())
        raise
    except HubsyncError as err:
        _finish(engine, client, run, "failed", str(err), calls_before, clock())
        raise
    _finish(engine, client, run, run.outcome, run.note, calls_before, clock())


def _finish(  # noqa: PLR0917  (one private caller, the context manager above)
    engine: Engine,
    client: HubSpotClient,
    run: RunLog,
    outcome: str,
    error: str | None,
    calls_before: int,
    now: datetime,
) -> None:
    counts = replace(
        run.counts(), api_calls=client.stats().total - calls_before, daily_quota_left=client.daily_remaining
    )
    with transaction(engine) as conn:
        finish_run(conn, run.run_id, outcome=outcome, counts=counts, now=now, error=error)
