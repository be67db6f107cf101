"""Write-back: the hubsync property values of every scored contact and company, diffed against what HubSpot last
confirmed (`pushed_values`), sent in batches of up to 100 — then the sales tasks (`tasks.py`).

Pure parts first (values from score rows, the diff, the lifecycle stage rule), then the I/O: read the score tables
in id order, page by page, so a million contacts never sit in memory at once; send what changed; store what HubSpot
confirmed after every batch, so a stop (quota, crash) loses at most the batch in flight.

A record that HubSpot refuses (207 partial failure, or a 400 for a batch, which is split until the bad record is
alone) is logged with its error and returned in the result, and is not stored as pushed: the next push sends it
again.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
import structlog
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput as CompanyBatchInput
from hubspot.crm.companies import SimplePublicObjectBatchInput as CompanyInput
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput as ContactBatchInput
from hubspot.crm.contacts import SimplePublicObjectBatchInput as ContactInput

from hubsync.batching import batches
from hubsync.errors import FatalHubSpotError, QuotaExhausted, SetupRequired
from hubsync.hubspot.properties import COMPANIES, CONTACTS, Prop, property_names
from hubsync.scoring import LeadStatus
from hubsync.store.db import transaction
from hubsync.store.tables import (
    company_score_t,
    company_t,
    contact_score_t,
    contact_t,
    pushed_t,
)
from hubsync.store.upsert import upsert

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, Engine

    from hubsync.hubspot.client import HubSpotClient
    from hubsync.hubspot.tasks import TaskResult
    from hubsync.settings import PushConfig, Settings

log = structlog.get_logger(__name__)

BATCH_MAX: Final = 100
# Score rows read per database round trip: large enough to fill many batches, small enough to stay flat in memory.
READ_PAGE: Final = 5_000
SAMPLE_SIZE: Final = 5
LIFECYCLE: Final = "lifecyclestage"
# HubSpot's default lifecycle stages in order; hubsync only ever moves a contact forward along them.
LIFECYCLE_ORDER: Final = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
_LIFECYCLE_TARGET: Final = {LeadStatus.MQL: "marketingqualifiedlead", LeadStatus.SALES_READY: "salesqualifiedlead"}


# -- pure: values, diff, lifecycle ----------------------------------------------------------------------------


def _number(value: float) -> str:
    return str(round(value))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def contact_values(row: Mapping[Any, Any], names: Mapping[Prop, str]) -> dict[str, str]:
    """The hubsync properties of a contact from its `contact_score` row, as the strings HubSpot stores."""
    return {
        names[Prop.ENGAGEMENT]: _number(row["engagement"]),
        names[Prop.PROFILE]: _number(row["profile"]),
        names[Prop.COMPLETENESS]: _number(row["completeness"]),
        names[Prop.SEGMENT]: str(row["segment"]),
        names[Prop.LEAD_STATUS]: str(row["status"]),
        names[Prop.FIT_LIGHT]: str(row["fit_light"]),
        names[Prop.TIER]: str(row["tier"]),
        names[Prop.SURGE]: _flag(bool(row["surge"])),
        names[Prop.REASON]: str(row["reason"]),
    }


def company_values(row: Mapping[Any, Any], names: Mapping[Prop, str]) -> dict[str, str]:
    """The hubsync properties of a company from its `company_score` row."""
    return {
        names[Prop.ACCOUNT_ENGAGEMENT]: _number(row["engagement"]),
        names[Prop.ACCOUNT_PROFILE]: _number(row["profile"]),
        names[Prop.COMPLETENESS]: _number(row["completeness"]),
        names[Prop.ACCOUNT_SEGMENT]: str(row["segment"]),
        names[Prop.FIT_LIGHT]: str(row["fit_light"]),
        names[Prop.TIER]: str(row["tier"]),
        names[Prop.BUYING_CENTER_ACTIVE]: _flag(bool(row["buying_center_active"])),
        names[Prop.ENGAGED_CONTACTS]: _number(row["engaged_contacts"]),
        names[Prop.ACCOUNT_REASON]: str(row["reason"]),
    }


def lifecycle_advance(status: str, current: str | None) -> str | None:
    """The stage to move a contact to (marketingqualifiedlead for an MQL, salesqualifiedlead when sales ready), or
    None: never backward, and never away from a stage hubsync cannot place in the order (a custom one, "other")."""
    try:
        target = _LIFECYCLE_TARGET.get(LeadStatus(status))
    except ValueError:
        return None
    if target is None:
        return None
    if not current:
        return target
    if current not in LIFECYCLE_ORDER:
        return None
    return target if LIFECYCLE_ORDER.index(target) > LIFECYCLE_ORDER.index(current) else None


def diff(new: Mapping[str, str], old: Mapping[str, str] | None) -> dict[str, str]:
    """The properties whose value differs from the last one HubSpot confirmed (all of them for a new record)."""
    base = old or {}
    return {name: value for name, value in new.items() if base.get(name) != value}


@dataclass(frozen=True, slots=True)
class RecordChange:
    object_type: str
    object_id: int
    # Only what changed: what is sent.
    changes: Mapping[str, str]
    # Everything hubsync wrote to the record once this change is confirmed: what is stored as pushed.
    values: Mapping[str, str]


# -- results --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushFailure:
    object_type: str
    object_id: int
    error: str


@dataclass(slots=True)
class PropertyPushResult:
    """What the property write-back did (or, in a dry run, would do)."""

    records_changed: int = 0
    records_pushed: int = 0
    updates_sent: int = 0
    properties_changed: Counter[str] = field(default_factory=Counter)
    failures: list[PushFailure] = field(default_factory=list)
    sample: list[RecordChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PushResult:
    dry_run: bool
    records_changed: int
    records_pushed: int
    updates_sent: int
    properties_changed: Mapping[str, int]
    failures: tuple[PushFailure, ...]
    sample: tuple[RecordChange, ...]
    tasks: TaskResult | None
    # "quota" when the daily quota (or hubsync's reserve of it) ran out: the rest is pushed next run.
    stopped: str | None = None

    @property
    def tasks_created(self) -> int:
        return self.tasks.created if self.tasks else 0

    @property
    def effective_threshold(self) -> int | None:
        return self.tasks.effective_threshold if self.tasks else None

    @property
    def free_capacity(self) -> int | None:
        return self.tasks.free_capacity if self.tasks else None

    def lines(self) -> list[str]:
        verb = "would change" if self.dry_run else "changed"
        out = [
            (
                f"records {verb}: {self.records_changed}; pushed: {self.records_pushed}; "
                f"update requests: {self.updates_sent}; failed: {len(self.failures)}"
            )
        ]
        out.extend(f"  {name}: {n}" for name, n in sorted(self.properties_changed.items()))
        if self.sample:
            out.append("sample:")
            out.extend(
                f"  {c.object_type} {c.object_id}: "
                + ", ".join(f"{k}={v[:60]!r}" for k, v in sorted(c.changes.items()))
                for c in self.sample
            )
        out.extend(f"  failed {f.object_type} {f.object_id}: {f.error}" for f in self.failures[:20])
        if self.tasks is not None:
            out.extend(self.tasks.lines())
        if self.stopped:
            out.append(f"stopped early ({self.stopped}); the rest is pushed on the next run")
        return out


# -- reading what changed -------------------------------------------------------------------------------------


def _pushed_values(conn: Connection, object_type: str, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    # `values` by position: as an attribute it is the Row's / ColumnCollection's own method.
    rows = conn.execute(
        sa.select(pushed_t.c.object_id, pushed_t.c["values"]).where(
            pushed_t.c.object_type == object_type, pushed_t.c.object_id.in_(ids)
        )
    )
    return {int(object_id): dict(values) for object_id, values in rows}


def contact_changes(
    conn: Connection, config: PushConfig, *, after: int = 0, limit: int = READ_PAGE
) -> tuple[list[RecordChange], int | None]:
    """Changes of the next `limit` scored contacts with id > after; and the id to continue after (None: done)."""
    names = property_names(config, CONTACTS)
    rows = (
        conn.execute(
            sa.select(contact_score_t, contact_t.c.lifecyclestage)
            .select_from(contact_score_t.outerjoin(contact_t, contact_t.c.id == contact_score_t.c.contact_id))
            .where(contact_score_t.c.contact_id > after, contact_t.c.archived_at.is_(None))
            .order_by(contact_score_t.c.contact_id)
            .limit(limit)
        )
        .mappings()
        .all()
    )
    if not rows:
        return [], None
    ids = [int(r["contact_id"]) for r in rows]
    old = _pushed_values(conn, CONTACTS, ids)
    out = []
    for row in rows:
        object_id = int(row["contact_id"])
        values = contact_values(row, names)
        if config.advance_lifecycle_stage:
            stage = lifecycle_advance(str(row["status"]), row["lifecyclestage"])
            if stage is not None:
                values[LIFECYCLE] = stage
        changes = diff(values, old.get(object_id))
        if changes:
            out.append(RecordChange(CONTACTS, object_id, changes, {**old.get(object_id, {}), **values}))
    return out, ids[-1] if len(rows) == limit else None


def company_changes(
    conn: Connection, config: PushConfig, *, after: int = 0, limit: int = READ_PAGE
) -> tuple[list[RecordChange], int | None]:
    names = property_names(config, COMPANIES)
    rows = (
        conn.execute(
            sa.select(company_score_t)
            .select_from(company_score_t.outerjoin(company_t, company_t.c.id == company_score_t.c.company_id))
            .where(company_score_t.c.company_id > after, company_t.c.archived_at.is_(None))
            .order_by(company_score_t.c.company_id)
            .limit(limit)
        )
        .mappings()
        .all()
    )
    if not rows:
        return [], None
    ids = [int(r["company_id"]) for r in rows]
    old = _pushed_values(conn, COMPANIES, ids)
    out = []
    for row in rows:
        object_id = int(row["company_id"])
        values = company_values(row, names)
        changes = diff(values, old.get(object_id))
        if changes:
            out.append(RecordChange(COMPANIES, object_id, changes, {**old.get(object_id, {}), **values}))
    return out, ids[-1] if len(rows) == limit else None


# -- sending --------------------------------------------------------------------------------------------------


_MODELS: Final = {CONTACTS: (ContactBatchInput, ContactInput), COMPANIES: (CompanyBatchInput, CompanyInput)}


def _send(client: HubSpotClient, object_type: str, batch: Sequence[RecordChange]) -> dict[int, str]:
    """Send one batch update; the error of every record HubSpot did not update (empty: all landed)."""
    batch_model, input_model = _MODELS[object_type]
    body = batch_model(inputs=[input_model(id=str(c.object_id), properties=dict(c.changes)) for c in batch])
    api = client.api(f"crm.{object_type}.batch_api")
    answer = client.call(api.update, body, operation=f"push.{object_type}.batch_update")
    updated = {str(r.id) for r in (getattr(answer, "results", None) or [])}
    errors: dict[str, str] = {}
    for error in getattr(answer, "errors", None) or []:
        context = error.context or {}
        message = f"{error.category or 'ERROR'}: {error.message or 'no message'}"
        for raw in context.get("ids") or []:
            errors.setdefault(str(raw), message)
    failed = {}
    for c in batch:
        key = str(c.object_id)
        if key not in updated:
            # A 207 that lists the record under no error's context: still not confirmed, so not pushed.
            failed[c.object_id] = errors.get(key, "HubSpot did not confirm the update")
    return failed


# HubSpot's message, as it may arrive quoted inside a JSON string: Property \"hubsync_segment\" does not exist.
_MISSING = re.compile(r'Property \\?"?([A-Za-z0-9_]+)\\?"? does not exist')


def _require_properties(error: str, batch: Sequence[RecordChange]) -> None:
    """A hubsync property that does not exist fails every record alike: stop with one message, not thousands."""
    match = _MISSING.search(error)
    if match and any(match.group(1) in c.changes for c in batch):
        raise SetupRequired(
            f"the property {match.group(1)} does not exist on {batch[0].object_type} in this portal: run "
            "`hubsync setup` once to create hubsync's properties, then sync again",
            status=400,
            category="PROPERTY_DOESNT_EXIST",
        )


def send_changes(
    client: HubSpotClient, engine: Engine, batch: Sequence[RecordChange], result: PropertyPushResult, *, now: datetime
) -> None:
    """Send one batch, store what landed. A 400 for the whole batch (real HubSpot refuses a batch that holds one
    invalid value) is split in halves until the bad records stand alone, so the valid ones still land."""
    object_type = batch[0].object_type
    try:
        failed = _send(client, object_type, batch)
    except FatalHubSpotError as err:
        if err.status != 400:  # noqa: PLR2004 -- HTTP 400: the request (some record in it) is invalid
            raise
        _require_properties(str(err), batch)
        result.updates_sent += 1
        if len(batch) == 1:
            failed = {batch[0].object_id: str(err)}
        else:
            half = len(batch) // 2
            send_changes(client, engine, batch[:half], result, now=now)
            send_changes(client, engine, batch[half:], result, now=now)
            return
    else:
        result.updates_sent += 1
        for error in set(failed.values()):
            _require_properties(error, batch)
    landed = [c for c in batch if c.object_id not in failed]
    with transaction(engine) as conn:
        upsert(
            conn,
            pushed_t,
            [
                {"object_type": c.object_type, "object_id": c.object_id, "values": dict(c.values), "pushed_at": now}
                for c in landed
            ],
        )
    result.records_pushed += len(landed)
    log.info("push.batch_sent", object_type=object_type, inputs=len(batch), landed=len(landed), failed=len(failed))
    for object_id, error in failed.items():
        result.failures.append(PushFailure(object_type, object_id, error))
        log.warning("push.record_failed", object_type=object_type, object_id=object_id, error=error)


def push_properties(
    client: HubSpotClient | None,
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    dry_run: bool = False,
) -> PropertyPushResult:
    """Diff every scored contact and company against what was last pushed; send the changes (not in a dry run)."""
    config = settings.config.push
    result = PropertyPushResult()
    for object_type in (CONTACTS, COMPANIES):
        after: int | None = 0
        while after is not None:
            with transaction(engine) as conn:
                if object_type == CONTACTS:
                    changes, after = contact_changes(conn, config, after=after)
                else:
                    changes, after = company_changes(conn, config, after=after)
            result.records_changed += len(changes)
            for change in changes:
                result.properties_changed.update(change.changes.keys())
            room = SAMPLE_SIZE - len(result.sample)
            result.sample.extend(changes[: max(0, room)])
            if dry_run or client is None:
                continue
            for batch in batches(changes, BATCH_MAX):
                send_changes(client, engine, batch, result, now=now)
    return result


def push(
    client: HubSpotClient,
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    dry_run: bool = False,
    tasks: bool = True,
) -> PushResult:
    """The write-back step of a cycle: properties, then sales tasks. `now` is the cycle's instant (due dates)."""
    from hubsync.hubspot.tasks import sync_tasks  # noqa: PLC0415  # tasks.py imports this module's results

    stopped = None
    props = PropertyPushResult()
    task_result = None
    try:
        props = push_properties(None if dry_run else client, engine, settings, now=now, dry_run=dry_run)
        if tasks:
            task_result = sync_tasks(client, engine, settings, now=now, dry_run=dry_run)
    except QuotaExhausted:
        # What was confirmed is stored batch by batch; the next run picks up from there.
        stopped = "quota"
        log.warning("push.stopped", reason="quota")
    log.info(
        "push.done",
        dry_run=dry_run,
        records_changed=props.records_changed,
        records_pushed=props.records_pushed,
        updates_sent=props.updates_sent,
        failures=len(props.failures),
        tasks_created=task_result.created if task_result else 0,
        effective_threshold=task_result.effective_threshold if task_result else None,
        free_capacity=task_result.free_capacity if task_result else None,
    )
    return PushResult(
        dry_run=dry_run,
        records_changed=props.records_changed,
        records_pushed=props.records_pushed,
        updates_sent=props.updates_sent,
        properties_changed=dict(props.properties_changed),
        failures=tuple(props.failures),
        sample=tuple(props.sample),
        tasks=task_result,
        stopped=stopped,
    )
