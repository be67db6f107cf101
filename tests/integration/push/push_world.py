"""Shared helpers for the push tests: a fast client on a sandbox portal, settings from config/hubsync.toml, and a
loader that copies a portal's records and activities into the database (the pull's job, done here from the
portal's Python handle so these tests depend on the push side only) before `rescore` scores them for real."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.rescore import RescoreResult, rescore
from hubsync.jobs.setup import setup
from hubsync.records import ActivityKind
from hubsync.sandbox import snapshot
from hubsync.sandbox.portal import PARTICIPATION_STATES, Portal
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.scoring import ScoringModel
from hubsync.settings import Settings, load_settings
from hubsync.store.db import open_database, transaction
from hubsync.store.tables import (
    activity_t,
    company_t,
    contact_t,
    owner_t,
    task_t,
)
from hubsync.store.upsert import upsert
from hubsync.validation import parse
from tests.support.paths import DEFAULT_CONFIG
from tests.support.sandbox import fast_client, ms_to_dt, portal_now
from tests.unit.scoring.scoring_builders import raw_scoring


def settings(**sections: Mapping[str, Any]) -> Settings:
    """The default configuration, with `sections` (e.g. tasks={"round_robin_owners": (...)}) changed."""
    loaded = load_settings({}, str(DEFAULT_CONFIG))
    config = loaded.config
    updates = {name: getattr(config, name).model_copy(update=dict(values)) for name, values in sections.items()}
    return Settings(config=config.model_copy(update=updates), config_source=loaded.config_source)


def with_capacity(**capacity: Any) -> Settings:
    """The default configuration with `[scoring.handoff.capacity]` changed, e.g. `default=500` or `owners={…}`."""
    data = raw_scoring()
    data["handoff"]["capacity"].update(capacity)
    model = parse(ScoringModel, data, source=str(DEFAULT_CONFIG), prefix=("scoring",))
    base = settings()
    return Settings(config=base.config.model_copy(update={"scoring": model}), config_source=base.config_source)


def stat(sb: Sandbox, endpoint: str) -> int:
    """Requests the sandbox answered on `endpoint` ("POST /crm/v3/objects/{objectType}/batch/update"), any status."""
    return sum(sb.stats()["endpoints"].get(endpoint, {}).values())


BATCH_UPDATE = "POST /crm/v3/objects/{objectType}/batch/update"
CREATE_OBJECT = "POST /crm/v3/objects/{objectType}"
# Tasks are created 100 a request.
BATCH_CREATE = "POST /crm/v3/objects/{objectType}/batch/create"
CREATE_PROPERTY = "POST /crm/v3/properties/{objectType}"
CREATE_GROUP = "POST /crm/v3/properties/{objectType}/groups"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def load_portal(portal: Portal, engine: Engine) -> None:
    """Contacts, companies, owners, page views, form submissions and webinar participations of `portal` into the
    database."""
    contacts, companies = [], []
    primary = portal.assoc.primary[("contacts", "companies")]
    for obj in portal.stores["contacts"].by_id.values():
        p = obj.props
        contacts.append(
            {
                "id": obj.id, "email": p.get("email"), "firstname": p.get("firstname"), "lastname": p.get("lastname"),
                "jobtitle": p.get("jobtitle"), "country": p.get("country"), "lifecyclestage": p.get("lifecyclestage"),
                "owner_id": _int(p.get("hubspot_owner_id")), "company_id": primary.get(obj.id),
                "created_at": ms_to_dt(obj.created), "updated_at": ms_to_dt(obj.updated), "properties": dict(p),
                "archived_at": None if obj.archived_at is None else ms_to_dt(obj.archived_at),
            }
        )  # fmt: skip
    for obj in portal.stores["companies"].by_id.values():
        p = obj.props
        companies.append(
            {
                "id": obj.id, "name": p.get("name"), "domain": p.get("domain"), "industry": p.get("industry"),
                "numberofemployees": p.get("numberofemployees"), "annualrevenue": p.get("annualrevenue"),
                "country": p.get("country"), "owner_id": _int(p.get("hubspot_owner_id")),
                "created_at": ms_to_dt(obj.created), "updated_at": ms_to_dt(obj.updated), "properties": dict(p),
                "archived_at": None if obj.archived_at is None else ms_to_dt(obj.archived_at),
            }
        )  # fmt: skip
    owners = [
        {"id": o.id, "email": o.email, "firstname": o.first_name, "lastname": o.last_name, "user_id": o.user_id,
         "archived": o.archived, "open_tasks": 0}
        for o in portal.owners
    ]  # fmt: skip
    live = {c["id"] for c in contacts}
    activities = [
        activity(f"page_view:{row_id}", contact, ActivityKind.PAGE_VIEW, ms_to_dt(ts), url=portal.strings[url])
        for ts, row_id, contact, url in portal.page_views.rows()
        if contact in live
    ]
    activities += [
        activity(
            f"form_submission:{row_id}", contact, ActivityKind.FORM_SUBMISSION, ms_to_dt(ts),
            form_id=portal.forms[form].guid, form_name=portal.forms[form].name, url=portal.strings[page],
        )
        for ts, row_id, form, contact, _email, page in portal.form_submissions.rows()
        if contact in live
    ]  # fmt: skip
    activities += [
        activity(
            f"marketing_event:{row_id}", contact, ActivityKind.MARKETING_EVENT, ms_to_dt(ts),
            event_type=PARTICIPATION_STATES[state].lower(), event_name=portal.marketing_events[event].name,
            campaign_id=str(portal.marketing_events[event].id),
        )
        for ts, row_id, event, contact, state in portal.participations.rows()
        if contact in live
    ]  # fmt: skip
    write_rows(engine, contacts=contacts, companies=companies, owners=owners, activities=activities)


def start_world(
    stack: ExitStack, doc: str, database_url: str, cfg: Settings, activities: Sequence[Mapping[str, Any]] = ()
) -> tuple[Sandbox, Engine, HubSpotClient]:
    """A sandbox portal from the snapshot `doc`, its records (and `activities`) in the database, hubsync's properties
    set up in it; all closed when `stack` closes."""
    sb = stack.enter_context(start_sandbox(portal=snapshot.loads(doc), rate_limits=False))
    engine = open_database(database_url)
    stack.callback(engine.dispose)
    client = stack.enter_context(fast_client(sb))
    load_portal(sb.portal, engine)
    write_rows(engine, activities=activities)
    setup(client, cfg.config.push)
    return sb, engine, client


def scored_world(sb: Sandbox, database_url: str, cfg: Settings) -> tuple[Engine, HubSpotClient]:
    """The portal of `sb` without hubsync values (each database variant starts from one), its records in the database
    at `database_url`, scored as of the portal's now, hubsync's properties set up; the caller closes both."""
    for object_type in ("contacts", "companies"):
        for obj in sb.portal.stores[object_type].by_id.values():
            for name in [k for k in obj.props if k.startswith("hubsync_")]:
                del obj.props[name]
    engine = open_database(database_url)
    client = fast_client(sb)
    load_portal(sb.portal, engine)
    score(engine, cfg, portal_now(sb.portal))
    setup(client, cfg.config.push)
    return engine, client


def activity(activity_id: str, contact_id: int, kind: ActivityKind, at: datetime, **attrs: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": activity_id, "contact_id": contact_id, "kind": kind.value, "occurred_at": at, "event_type": None,
        "url": None, "title": None, "form_id": None, "form_name": None, "campaign_id": None, "event_name": None,
        "direction": None, "status": None,
    }  # fmt: skip
    row.update(attrs)
    return row


def write_rows(
    engine: Engine,
    *,
    contacts: Sequence[Mapping[str, Any]] = (),
    companies: Sequence[Mapping[str, Any]] = (),
    owners: Sequence[Mapping[str, Any]] = (),
    activities: Sequence[Mapping[str, Any]] = (),
) -> None:
    with transaction(engine) as conn:
        upsert(conn, contact_t, contacts)
        upsert(conn, company_t, companies)
        upsert(conn, owner_t, owners)
        upsert(conn, activity_t, activities)


def score(engine: Engine, cfg: Settings, now: datetime, contact_ids: Iterable[int] | None = None) -> RescoreResult:
    return rescore(engine, cfg.config.scoring, now=now, contact_ids=None if contact_ids is None else list(contact_ids))


def tasks_in_db(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(task_t).order_by(task_t.c.id)))


def day(base: datetime, n: float) -> datetime:
    return base + timedelta(days=n)
