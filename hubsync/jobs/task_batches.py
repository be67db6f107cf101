"""Creating a handoff's tasks in HubSpot, up to 100 a request, exactly as crash-safe as one at a time.

For each batch: its intent rows are committed first, in one transaction; the batch create carries each row's id as
the input's `objectWriteTraceId`, which HubSpot echoes on the task it made, so every answer is matched to its row
whatever the order; the answer is recorded in one transaction (open with HubSpot's id, or failed with HubSpot's
error for that input, from a 207). A run killed in between leaves intents, which the next run settles through the
records' task associations (`open_tasks.reconcile_intents`). An answer lost on the way back (a timeout), or inputs a
207 names neither as created nor as refused, are settled the same way at once: hubsync looks for their tasks and
sends again only those it did not find, up to `CREATE_ATTEMPTS` times. A request HubSpot refuses as a whole (a 400)
is split in halves until the input it refuses stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import structlog

from hubsync.batching import batches
from hubsync.errors import FatalHubSpotError, RetriableHubSpotError
from hubsync.hubspot import tasks_api
from hubsync.hubspot.batch_update import BATCH_MAX
from hubsync.jobs.open_tasks import find_open_tasks, record_created, record_failed
from hubsync.store import tasks as task_store
from hubsync.store.db import transaction

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.hubspot.tasks_api import NewTask

log = structlog.get_logger(__name__)

# Attempts at one batch when HubSpot's answer is lost; each retry is preceded by a look for the tasks.
CREATE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class PlannedTask:
    task: NewTask
    # "lead", "hand_raiser" or "account".
    kind: str
    # The exemption that lets the task take its owner beyond capacity, if it does.
    over_capacity: str | None = None
    # Why it is handed over, in words (`render.task_text.trigger_words`).
    triggers: tuple[str, ...] = ()


class Created(StrEnum):
    """How one planned task ended in this run."""

    CREATED = "created"
    FAILED = "failed"
    # Still unanswered after every attempt: the intent stays, and the next run settles it.
    UNCONFIRMED = "unconfirmed"


def create_planned(
    client: HubSpotClient, engine: Engine, planned: Sequence[PlannedTask], *, now: datetime
) -> list[tuple[PlannedTask, Created]]:
    """Create the planned tasks in batches of up to 100, in plan order; how each ended."""
    if not planned:
        return []
    type_ids = {t: tasks_api.association_type_id(client, t) for t in sorted({p.task.object_type for p in planned})}
    out: list[tuple[PlannedTask, Created]] = []
    for chunk in batches(planned, BATCH_MAX):
        with transaction(engine) as conn:
            rows = {_intent(conn, p, now=now): p for p in chunk}
        ended = _send(client, engine, rows, type_ids, now=now)
        out.extend((p, ended[row_id]) for row_id, p in rows.items())
    return out


def _intent(conn: Connection, planned: PlannedTask, *, now: datetime) -> int:
    task = planned.task
    on_company = task.object_type == tasks_api.COMPANIES
    return task_store.add_intent(
        conn,
        contact_id=None if on_company else task.object_id,
        company_id=task.object_id if on_company else None,
        owner_id=task.owner_id,
        subject=task.subject,
        intent_at=now,
        due_at=task.due_at,
        kind=planned.kind,
        over_capacity=planned.over_capacity,
        triggers=planned.triggers,
    )


def _send(
    client: HubSpotClient,
    engine: Engine,
    rows: Mapping[int, PlannedTask],
    type_ids: Mapping[str, int],
    *,
    now: datetime,
) -> dict[int, Created]:
    """One batch of committed intents (row id → task) to HubSpot and into the database; how each ended."""
    ended: dict[int, Created] = {}
    pending = dict(rows)
    last_error: Exception | None = None
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            answer = tasks_api.create_tasks(client, [(str(r), p.task) for r, p in pending.items()], type_ids)
        except RetriableHubSpotError as err:
            # The answer is lost, not necessarily the tasks: look before trying again (below).
            last_error = err
        except FatalHubSpotError as err:
            if err.status in (401, 403):  # token or scope problems stop the whole push
                raise
            ended.update(_refused(client, engine, pending, type_ids, err, now=now))
            pending = {}
        else:
            ended.update(_record_answer(engine, answer, now=now))
        pending = {r: p for r, p in pending.items() if r not in ended}
        if pending:
            found = _look_for(client, engine, pending, now=now)
            ended.update(dict.fromkeys(found, Created.CREATED))
            pending = {r: p for r, p in pending.items() if r not in found}
        if not pending:
            break
        log.warning("push.task_create_retry", tasks=len(pending), attempt=attempt, error=str(last_error))
    ended.update(dict.fromkeys(pending, Created.UNCONFIRMED))
    for row_id, p in rows.items():
        # An unconfirmed intent stays, and the next run's reconcile settles it.
        event = "push.task_created" if ended[row_id] is Created.CREATED else f"push.task_{ended[row_id].value}"
        log.info(event, on=p.task.object_type, object_id=p.task.object_id, owner_id=p.task.owner_id)
    return ended


def _record_answer(engine: Engine, answer: tasks_api.BatchCreated, *, now: datetime) -> dict[int, Created]:
    """What HubSpot confirmed, into the database: the created tasks open, the refused inputs failed."""
    created = {int(trace): task_id for trace, task_id in answer.created.items()}
    failed = {int(trace): error for trace, error in answer.failed.items()}
    record_created(engine, [(r, t, now) for r, t in created.items()])
    record_failed(engine, failed)
    for row_id, error in failed.items():
        log.warning("push.task_refused", row_id=row_id, error=error)
    return {**dict.fromkeys(created, Created.CREATED), **dict.fromkeys(failed, Created.FAILED)}


def _refused(
    client: HubSpotClient,
    engine: Engine,
    rows: Mapping[int, PlannedTask],
    type_ids: Mapping[str, int],
    error: FatalHubSpotError,
    *,
    now: datetime,
) -> dict[int, Created]:
    """HubSpot refused the whole request: one input alone fails; several are sent again in halves, so that one bad
    input does not fail the rest."""
    if len(rows) == 1:
        record_failed(engine, dict.fromkeys(rows, str(error)))
        log.warning("push.task_refused", row_ids=list(rows), error=str(error))
        return dict.fromkeys(rows, Created.FAILED)
    items = list(rows.items())
    half = len(items) // 2
    return {
        **_send(client, engine, dict(items[:half]), type_ids, now=now),
        **_send(client, engine, dict(items[half:]), type_ids, now=now),
    }


def _look_for(client: HubSpotClient, engine: Engine, rows: Mapping[int, PlannedTask], *, now: datetime) -> set[int]:
    """The unconfirmed intents whose task HubSpot did make (found through the records' task associations, not
    search, which lags), recorded as open; their row ids."""
    found = find_open_tasks(client, ((p.task.object_type, p.task.object_id) for p in rows.values()))
    with transaction(engine) as conn:
        known = task_store.known_task_ids(conn)
    # Made in this run: handed over as of this run's instant, as if the answer had arrived.
    adopted = [
        (row_id, hit[0], now)
        for row_id, p in rows.items()
        if (hit := found.get((p.task.object_type, p.task.object_id))) is not None and str(hit[0]) not in known
    ]
    record_created(engine, adopted, adopted=True)
    for row_id, task_id, _ in adopted:
        log.info("push.task_found_after_error", row_id=row_id, task_id=task_id)
    return {row_id for row_id, _, _ in adopted}
