"""The manual backfill: point the cursors of some streams back to a date, then pull, with a progress bar.

Resumable: the request (date and streams) is remembered in the `backfill` cursor until the pull finishes, so running
the same backfill again after an interruption continues from the saved cursors instead of starting over.
Idempotent: every write is an upsert or a replacement, so a finished backfill run again only re-reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from hubsync.errors import StoppedForNow
from hubsync.hubspot import cursors
from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.cycle import pull_options
from hubsync.jobs.pull import PullResult, backfill, pull
from hubsync.jobs.runs import recorded_run
from hubsync.render.progress import progress_bars
from hubsync.settings import Settings
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import transaction
from hubsync.store.runs import RunCounts

MARKER = "backfill"


@dataclass(frozen=True, slots=True)
class BackfillOutcome:
    run_id: int
    result: PullResult
    resumed: bool

    @property
    def stopped(self) -> StoppedForNow | None:
        return self.result.stopped

    def line(self) -> str:
        state = f"stopped ({self.stopped}); run it again to continue" if self.stopped else "done"
        how = "resumed" if self.resumed else "started"
        return (
            f"backfill run {self.run_id} ({how}): {state}; stored {self.result.stored:,} records "
            f"with {self.result.api_calls:,} API calls"
        )


def run_backfill(
    settings: Settings,
    engine: Engine,
    client: HubSpotClient,
    *,
    since: datetime,
    streams: Sequence[str],
    clock: Callable[[], datetime],
    progress: bool = True,
    holder: str | None = None,
) -> BackfillOutcome:
    started = clock()
    request = {"since": cursors.iso(since), "streams": sorted(set(streams))}
    result: PullResult | None = None

    def counts() -> RunCounts:
        return RunCounts(pulled=result.records if result else 0)

    with recorded_run(engine, client, "backfill", clock=clock, counts=counts, holder=holder) as run:
        with transaction(engine) as conn:
            marker = load_cursor(conn, MARKER) or {}
            resumed = marker.get("request") == request
        if not resumed:
            backfill(engine, streams, since=since, now=started)
            with transaction(engine) as conn:
                save_cursor(conn, MARKER, {"request": request, "started": cursors.iso(started)}, now=started)
        options = pull_options(settings, streams=frozenset(streams))
        with progress_bars(enabled=progress) as on_page:
            result = pull(client, engine, options, now=clock, progress=on_page)
        if result.stopped is None:
            with transaction(engine) as conn:
                save_cursor(conn, MARKER, {"request": None, "finished": cursors.iso(clock())}, now=clock())
        else:
            run.stopped_early(str(result.stopped))
    return BackfillOutcome(run.run_id, result, resumed)
