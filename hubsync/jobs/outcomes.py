"""Outcomes refreshed from the store (docs/scoring.md, "Outcomes"): read what the pull and the push stored about a
batch of contacts, derive each one's outcome (`scoring.outcomes`), store it in `contact_outcome`.

No HubSpot calls: the pull already reads the lifecycle dates, the lead status, deals with their associations and
the reps' engagements (with who logged them), and the push reads how hubsync's tasks ended. A cycle refreshes the
contacts it may have changed (`refresh_after_cycle`); the daily full rescore, or a database without any outcome yet
(new, or just upgraded), refreshes every contact.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Final

import structlog
from sqlalchemy.engine import Connection, Engine

from hubsync.batching import batches
from hubsync.hubspot.activity_mapping import engagement_of
from hubsync.hubspot.mapping import LIFECYCLE_DATE_PROPERTIES, lifecycle_dates
from hubsync.hubspot.streams.crm import ENGAGEMENT_OBJECTS
from hubsync.jobs.pull import PullResult
from hubsync.scoring import LeadStatus, ScoringModel
from hubsync.scoring.outcomes import (
    RESPONSE_KINDS,
    ContactOutcome,
    DealFact,
    HistoryPoint,
    HistorySummary,
    OutcomeFacts,
    ResponseFact,
    TaskFact,
    derive_outcome,
)
from hubsync.store import outcomes as store
from hubsync.store.db import transaction
from hubsync.store.reads import live_contact_ids

log = structlog.get_logger(__name__)

# Contacts per batch: one `IN` list per query (store.rows.id_chunks).
BATCH: Final = 900
_MQL_OR_BETTER: Final = (LeadStatus.MQL.value, LeadStatus.SALES_READY.value)
# The columns of `contact_outcome`: an outcome's fields, then when it was refreshed. The fields are plain values,
# read as they are (`dataclasses.asdict` deep-copies each one: most of a full refresh's time) into a tuple (no dict
# per row: a first cycle writes one per contact).
_FIELDS: Final = tuple(f.name for f in dataclasses.fields(ContactOutcome))
OUTCOME_COLUMNS: Final = (*_FIELDS, "refreshed_at")
_values: Final = operator.attrgetter(*_FIELDS)
# The contact properties an outcome reads: its lifecycle dates and its lead status.
_LEAD_STATUS: Final = "hs_lead_status"
_PROPERTIES: Final = (*LIFECYCLE_DATE_PROPERTIES.values(), _LEAD_STATUS)


def refresh_outcomes(
    engine: Engine, model: ScoringModel, *, now: datetime, contact_ids: Collection[int] | None = None
) -> int:
    """Derive and store the outcomes of these contacts (None: of every live contact, and drop those of contacts that
    are gone). Returns how many contacts were refreshed."""
    full = contact_ids is None
    if contact_ids is None:
        with engine.connect() as conn:
            contact_ids = live_contact_ids(conn)
    ids = sorted(set(contact_ids))
    for batch in batches(ids, BATCH):
        with transaction(engine) as conn:
            rows, gone = _refresh_batch(conn, batch, model, now=now)
            store.store_outcomes(conn, OUTCOME_COLUMNS, rows, gone=gone)
    if full:
        with transaction(engine) as conn:
            store.drop_outcomes_of_gone_contacts(conn)
    log.info("outcomes.refreshed", contacts=len(ids), full=full)
    return len(ids)


def open_task_contacts(engine: Engine) -> frozenset[int]:
    """Contacts with an open hubsync task: taken before a push, whose read-back may close their tasks."""
    with engine.connect() as conn:
        return frozenset(store.contacts_with_open_tasks(conn))


def refresh_after_cycle(
    engine: Engine,
    model: ScoringModel,
    pulled: PullResult,
    open_before: Collection[int],
    *,
    full: bool,
    now: datetime,
) -> int:
    """After a cycle: every contact on a full rescore (or when no outcome is stored yet); else those the pull touched,
    the contacts of the deals it read, and those with an open hubsync task before or after the push (created,
    completed, deleted or reopened tasks)."""
    with engine.connect() as conn:
        if full or not store.has_outcomes(conn):
            ids: set[int] | None = None
        else:
            ids = set(pulled.touched_contacts) | set(open_before) | store.contacts_with_open_tasks(conn)
            ids |= store.contacts_of_deals(conn, pulled.changed_deals)
    return refresh_outcomes(engine, model, now=now, contact_ids=ids)


def _refresh_batch(
    conn: Connection, batch: Collection[int], model: ScoringModel, *, now: datetime
) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The outcome rows of the live contacts of `batch` (in `OUTCOME_COLUMNS` order), and the contacts that are gone."""
    facts, gone = outcome_facts(conn, batch, now=now)
    statuses = {s.value for s in model.handoff.statuses}
    segments = set(model.handoff.segments)
    rows = [
        (*_values(derive_outcome(f, trigger_statuses=statuses, trigger_segments=segments, now=now)), now) for f in facts
    ]
    return rows, gone


def outcome_facts(conn: Connection, batch: Collection[int], *, now: datetime) -> tuple[list[OutcomeFacts], list[int]]:
    """What the store holds about the outcome of each live contact of `batch` (one query per kind of fact), and
    the contacts of `batch` that are gone."""
    contacts = {int(row.id): row for row in store.live_contacts(conn, batch, _PROPERTIES)}
    gone = [i for i in batch if i not in contacts]
    deals = store.deals_by_contact(conn, {i: row.company_id for i, row in contacts.items()})
    tasks = store.handoff_tasks(conn, contacts)
    summaries = store.history_summaries(conn, contacts, mql_statuses=_MQL_OR_BETTER)
    points = store.history_points(conn, [i for i in contacts if i in deals or i in tasks])
    handoffs = {c: min(t.created_at for t in rows) for c, rows in tasks.items()}
    responses = _responses(conn, handoffs, now=now)
    activity_times = store.activity_times(conn, handoffs)
    facts = []
    for contact_id, contact in contacts.items():
        properties = dict(zip(_PROPERTIES, contact[3:], strict=True))
        facts.append(
            OutcomeFacts(
                contact_id=contact_id,
                created_at=contact.created_at,
                lifecycle=lifecycle_dates(properties),
                lead_status=properties[_LEAD_STATUS] or None,
                deals=[
                    DealFact(d.id, d.created_at, d.closed_won, d.close_date, d.amount)
                    for d in deals.get(contact_id, ())
                ],
                tasks=[_task(t) for t in tasks.get(contact_id, ())],
                history=_summary(summaries.get(contact_id)),
                history_points=[
                    HistoryPoint(p.as_of, p.engagement, p.segment, p.status) for p in points.get(contact_id, ())
                ],
                responses=responses.get(contact_id, ()),
                activity_times=activity_times.get(contact_id, ()),
            )
        )
    return facts, gone


def _task(row: Any) -> TaskFact:
    return TaskFact(
        created_at=row.created_at,
        intent_at=row.intent_at,
        owner_id=row.owner_id,
        kind=row.kind,
        triggers=tuple(row.triggers or ()),
        closed_as=row.closed_as,
        completed_at=row.completed_at,
    )


def _summary(row: Any | None) -> HistorySummary:
    if row is None:
        return HistorySummary()
    return HistorySummary(
        scored_from=row.scored_from,
        mql_at=row.mql_at,
        peak=HistoryPoint(row.as_of, row.engagement, row.segment, row.status),
    )


def _responses(conn: Connection, since: Mapping[int, datetime], *, now: datetime) -> dict[int, list[ResponseFact]]:
    """The calls, meetings and emails on each handed-over contact since its handoff, with who logged them."""
    found = store.engagements_after(conn, since, RESPONSE_KINDS, until=now)
    keys = {row.id: (ENGAGEMENT_OBJECTS[ref[0]], ref[1]) for row in found if (ref := engagement_of(row.id))}
    owners = store.engagement_owners(conn, set(keys.values()))
    out: dict[int, list[ResponseFact]] = {}
    for row in found:
        owner = owners.get(keys[row.id]) if row.id in keys else None
        out.setdefault(int(row.contact_id), []).append(
            ResponseFact(row.occurred_at, row.event_type, row.direction, owner)
        )
    return out
