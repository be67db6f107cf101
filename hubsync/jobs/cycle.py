"""One cycle: pull → score → push, taking its collaborators as arguments, recorded as one row of the run log.

The cycle rescores what is pending — what this pull touched, and what an earlier run stored but died before
scoring — unless asked for a full rescore (the daily job: decay moves every score even without new data). Push
diffs the scores still pending for push against what HubSpot last confirmed (after a full rescore: every score), and
a score stays pending until HubSpot holds its values, so nothing an earlier run scored is left unpushed either.
A daily quota that runs out ends the cycle early but cleanly (outcome "stopped"); a
stop request (SIGTERM) ends it after the page in hand (outcome "stopped", Interrupted re-raised for the caller).

In `hubsync run` the cycle holds the service's work lock (`jobs/work_lock.py`) and lets a waiting webhook batch in
between units that leave the database consistent: each page of the pull (and while it waits for a page it reads
ahead), the rescore with the scoring instant and pending work taken inside it, each page of the property push, the
handoff (plan and apply: it counts open tasks and capacity), the outcomes. A batch between two units is a batch before
the next unit, so the result is one that the cycle and the batch run one after the other would give: a batch's newer
record versions are not overwritten by a page read before them (newer wins), what a batch rescored and pushed is no
longer pending and is diffed as pushed, and no task is planned from a count a batch changed meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from hubsync.errors import HubsyncError, Interrupted
from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.outcomes import open_task_contacts, refresh_after_cycle
from hubsync.jobs.pull import Progress, PullOptions, PullResult, pull
from hubsync.jobs.push import PushResult, push
from hubsync.jobs.rescore import RescoreResult, rescore
from hubsync.jobs.runs import recorded_run
from hubsync.jobs.work_lock import WorkLock
from hubsync.settings import Settings
from hubsync.store.pending import pending_work
from hubsync.store.runs import RunCounts

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CycleOptions:
    # Rescore every contact, not only those the pull touched (daily: decay).
    full_rescore: bool = False
    # Re-check every association and deletion now, whatever the last reconciliation (weekly).
    full_reconcile: bool = False
    push: bool = True
    streams: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class CycleResult:
    run_id: int
    # ok: everything done; stopped: quota or a stop request ended it early, to continue next run.
    outcome: str
    pulled: PullResult
    scored: RescoreResult | None
    pushed: PushResult | None


def pull_options(
    settings: Settings, *, full_reconcile: bool = False, streams: frozenset[str] | None = None
) -> PullOptions:
    """The pull's options from the configuration, with the properties the profile rules need."""
    rules = settings.config.scoring.profile.rules
    options = PullOptions.from_config(
        settings.config.sync,
        contact_properties=sorted({r.property for r in rules if r.source == "contact"}),
        company_properties=sorted({r.property for r in rules if r.source == "company"}),
        streams=streams,
        scoring=settings.config.scoring,
    )
    return replace(options, full_reconcile_every=timedelta(0)) if full_reconcile else options


def run_cycle(
    settings: Settings,
    engine: Engine,
    client: HubSpotClient,
    *,
    clock: Callable[[], datetime],
    options: CycleOptions = CycleOptions(),
    kind: str = "sync",
    stop: threading.Event | None = None,
    holder: str | None = None,
    progress: Progress | None = None,
    work_lock: WorkLock | None = None,
) -> CycleResult:
    """`progress`, when given, is told what the pull stores per stream and how many contacts are scored (the bars
    of a sync at a terminal). `work_lock`: the service's work lock, held by the caller, offered to webhook batches
    between units."""
    between = work_lock.between_units if work_lock is not None else None
    pulled: PullResult | None = None
    scored: RescoreResult | None = None
    pushed: PushResult | None = None

    def counts() -> RunCounts:
        return RunCounts(
            pulled=pulled.records if pulled else 0,
            scored=scored.contacts_scored if scored else 0,
            pushed=pushed.records_pushed if pushed else 0,
            tasks_created=pushed.tasks_created if pushed else 0,
            effective_threshold=pushed.effective_threshold if pushed else None,
            free_capacity=pushed.free_capacity if pushed else None,
        )

    calls_before = client.stats().total
    with recorded_run(engine, client, kind, clock=clock, counts=counts, holder=holder) as run:
        try:
            log.info(
                "cycle.started", run_id=run.run_id, kind=kind, full_rescore=options.full_rescore, push=options.push
            )
            pulled = pull(
                client,
                engine,
                pull_options(settings, full_reconcile=options.full_reconcile, streams=options.streams),
                now=clock,
                progress=progress,
                work=work_lock,
            )
            # One scoring instant per cycle: every score of this cycle is "as of" the same moment. Taken in the
            # rescore's unit, after any batch let in before it: no batch scores later than the cycle's instant and is
            # then scored again as of an earlier one.
            now = clock()
            if options.full_rescore:
                scored = rescore(
                    engine, settings.config.scoring, now=now, stop=stop, on_progress=_scoring(progress, None)
                )
            else:
                # What this pull touched and whatever an earlier run stored but did not live to rescore.
                with engine.connect() as conn:
                    work = pending_work(conn)
                scored = rescore(
                    engine,
                    settings.config.scoring,
                    now=now,
                    contact_ids=work.contacts,
                    company_ids=work.companies,
                    stop=stop,
                    on_progress=_scoring(progress, len(work.contacts)),
                )
            open_before = open_task_contacts(engine)
            if options.push and pulled.stopped is None:
                # After a full rescore every record is diffed; otherwise those whose scores are pending (jobs/push.py).
                incremental = not options.full_rescore
                pushed = push(client, engine, settings, now=now, incremental=incremental, between_pages=between)
            if between is not None:
                between()
            # What happened to the contacts this cycle touched (deals, tasks, lifecycle), for the report.
            refresh_after_cycle(
                engine, settings.config.scoring, pulled, open_before, full=options.full_rescore, now=now
            )
            if pulled.stopped is not None or (pushed is not None and pushed.stopped is not None):
                run.stopped_early(str(pulled.stopped or (pushed and pushed.stopped)))
        except Interrupted:
            log.info("cycle.interrupted", run_id=run.run_id)
            raise
        except HubsyncError as err:
            # A classified error already says what happened; a traceback would add nothing for the admin.
            log.error("cycle.failed", run_id=run.run_id, error=str(err), error_type=type(err).__name__)  # noqa: TRY400
            raise
    log.info(
        "cycle.finished",
        run_id=run.run_id,
        outcome=run.outcome,
        pulled=pulled.records,
        rechecked=pulled.rechecked,
        scored=scored.contacts_scored,
        pushed=pushed.records_pushed if pushed else 0,
        tasks_created=pushed.tasks_created if pushed else 0,
        api_calls=client.stats().total - calls_before,
    )
    return CycleResult(run.run_id, run.outcome, pulled, scored, pushed)


def _scoring(progress: Progress | None, total: int | None) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda n: progress("scoring contacts", n, total)
