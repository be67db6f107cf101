"""The database a correct pull must leave, computed from the sandbox portal's own state (its Python handle), not
through the API: CRM rows field by field, activities, associations, owners."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot import activity_mapping, mapping, values
from hubsync.hubspot.streams import crm
from hubsync.jobs.pull import ASSOCIATION_PAIRS
from hubsync.records import Activity, EngagementType, email_key
from hubsync.sandbox.crm.answers import prop_value
from hubsync.sandbox.marketing.rows import row_uuid
from hubsync.sandbox.portal import EMAIL_EVENT_TYPES, PARTICIPATION_STATES, Portal
from hubsync.store.rows import record_row
from hubsync.store.tables import activity_t, association_t, company_t, contact_t, deal_t, engagement_t, owner_t
from tests.support.sandbox import dt_to_ms

_EMAIL_TYPES = {
    "OPEN": "open",
    "CLICK": "click",
    "BOUNCE": "bounce",
    "STATUSCHANGE": "unsubscribe",
    "SPAMREPORT": "spam_report",
    "DELIVERED": "delivered",
}


def _props(object_type: str, obj: Any, names: Iterable[str]) -> dict[str, str]:
    return {n: v for n in names if (v := prop_value(object_type, obj, n)) is not None}


def _ms(value: datetime | None) -> int | None:
    return None if value is None else dt_to_ms(value)


def _crm_rows(portal: Portal, object_type: str, names: tuple[str, ...]) -> dict[int, dict[str, Any]]:
    mapper = {
        "contacts": mapping.contact_from_hubspot,
        "companies": mapping.company_from_hubspot,
        "deals": mapping.deal_from_hubspot,
    }[object_type]
    out: dict[int, dict[str, Any]] = {}
    for obj in portal.stores[object_type].by_id.values():
        record = mapper({"id": str(obj.id), "properties": _props(object_type, obj, names)})
        assert not isinstance(record, values.Skip)
        row = record_row(record)
        row["archived_at"] = None if obj.archived_at is None else obj.archived_at
        out[obj.id] = _normalise(row)
    return out


def _normalise(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _ms(v) if isinstance(v, datetime) else v for k, v in row.items()}


def expected(
    portal: Portal,
    *,
    run_started: datetime,
    history: timedelta = timedelta(days=730),
    first_run_started: datetime | None = None,
    extra_emails: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Everything the database should hold after a pull that started at `run_started` (portal time).
    `extra_emails` maps addresses of contacts merged away after they were pulled to their survivor: their
    e-mail activity stays with the survivor."""
    start = _ms((first_run_started or run_started) - history)
    end = _ms(run_started)
    assert start is not None
    assert end is not None
    with portal.lock:
        owners = {
            o.id: {
                "id": o.id,
                "email": o.email,
                "firstname": o.first_name,
                "lastname": o.last_name,
                "user_id": o.user_id,
                "archived": o.archived,
            }
            for o in portal.owners
        }
        by_email = _email_map(portal, extra_emails or {})
        return {
            "contacts": _crm_rows(portal, "contacts", crm.CONTACT_PROPERTIES),
            "companies": _crm_rows(portal, "companies", crm.COMPANY_PROPERTIES),
            "deals": _crm_rows(portal, "deals", crm.DEAL_PROPERTIES),
            "owners": owners,
            "activities": _engagement_activities(portal) | _log_activities(portal, by_email, start, end),
            "associations": _associations(portal),
            "engagements": _engagements(portal),
        }


def _engagements(portal: Portal) -> set[tuple[Any, ...]]:
    """Every engagement, live or archived, with or without contacts: (type, id, created, archived)."""
    out: set[tuple[Any, ...]] = set()
    for object_type in crm.ENGAGEMENT_OBJECTS.values():
        for obj in portal.stores[object_type].by_id.values():
            created = values.parse_timestamp(prop_value(object_type, obj, "hs_createdate"))
            out.add((object_type, obj.id, _ms(created), obj.archived_at))
    return out


def _engagement_activities(portal: Portal) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for engagement, object_type in crm.ENGAGEMENT_OBJECTS.items():
        for obj in portal.stores[object_type].by_id.values():
            if obj.archived_at is not None:
                continue
            raw = {"id": str(obj.id), "properties": _props(object_type, obj, crm.ENGAGEMENT_PROPERTIES[engagement])}
            links = portal.assoc.of(object_type, obj.id, "contacts")
            for item in activity_mapping.engagement_to_activities(
                raw, engagement_type=EngagementType(engagement), contact_ids=links
            ):
                if isinstance(item, Activity):
                    out[item.id] = _activity_key(item)
    return out


def _email_map(portal: Portal, extra_emails: Mapping[str, int]) -> dict[str, int]:
    """As the pull resolves recipients: live contacts before archived ones, then the lowest id."""
    by_email: dict[str, int] = {}
    ordered = sorted(portal.stores["contacts"].by_id.values(), key=lambda o: (o.archived_at is None, -o.id))
    for obj in ordered:
        if obj.props.get("email"):
            by_email[email_key(obj.props["email"])] = obj.id
    for address, survivor in extra_emails.items():
        by_email.setdefault(email_key(address), survivor)
    return by_email


def _log_activities(portal: Portal, by_email: Mapping[str, int], start: int, end: int) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    ts, ids, rec, typ, _camp, _url, _cat = portal.email_events.data
    for i in range(len(ts)):
        contact = by_email.get(email_key(portal.strings[rec[i]]))
        if start <= ts[i] < end and contact is not None:
            key = f"email_event:{row_uuid(portal, ids[i])}"
            out[key] = (key, contact, "email_event", ts[i], _EMAIL_TYPES[EMAIL_EVENT_TYPES[typ[i]]])
    ts, ids, contact_col, _urls = portal.page_views.data
    for i in range(len(ts)):
        if start <= ts[i] < end:
            key = f"page_view:{row_uuid(portal, ids[i])}"
            out[key] = (key, portal.resolve_contact(contact_col[i]), "page_view", ts[i], None)
    ts, ids, _form_col, _contacts, emails, _pages = portal.form_submissions.data
    for i in range(len(ts)):
        contact = by_email.get(email_key(portal.strings[emails[i]]))
        if start <= ts[i] < end and contact is not None:
            key = f"form_submission:{row_uuid(portal, ids[i])}"
            out[key] = (key, contact, "form_submission", ts[i], None)
    ts, ids, _events, contact_col, states = portal.participations.data
    for i in range(len(ts)):
        # Participations have no time filter in the API: all of them are read.
        key = f"marketing_event:{ids[i]}"
        state = PARTICIPATION_STATES[states[i]].lower()
        out[key] = (key, portal.resolve_contact(contact_col[i]), "marketing_event", ts[i], state)
    return out


def _associations(portal: Portal) -> set[tuple[Any, ...]]:
    """The pairs the pull reads, from live records (an archived record's own associations are dropped)."""
    links: set[tuple[Any, ...]] = set()
    for from_type, to_type in ASSOCIATION_PAIRS:
        for from_id in portal.stores[from_type].live:
            for to_id in portal.assoc.of(from_type, from_id, to_type):
                for type_id, label in portal.assoc.type_ids(from_type, from_id, to_type, to_id):
                    links.add((from_type, from_id, to_type, to_id, type_id, label))
    return links


def _activity_key(activity: Activity) -> tuple[Any, ...]:
    return (activity.id, activity.contact_id, str(activity.kind), _ms(activity.occurred_at), activity.event_type)


def stored(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:

        def rows(table: sa.Table) -> dict[int, dict[str, Any]]:
            return {r["id"]: _normalise(r) for r in (dict(x._mapping) for x in conn.execute(sa.select(table)))}

        owners = {
            k: {c: v[c] for c in ("id", "email", "firstname", "lastname", "user_id", "archived")}
            for k, v in rows(owner_t).items()
        }
        # Profile changes are hubsync's own activities, made by the pull from two readings; the portal has none.
        activities = {
            r.id: (r.id, r.contact_id, r.kind, _ms(r.occurred_at), r.event_type)
            for r in conn.execute(sa.select(activity_t).where(activity_t.c.kind != "profile_change"))
        }
        t = association_t
        links = {
            tuple(r)
            for r in conn.execute(sa.select(t.c.from_type, t.c.from_id, t.c.to_type, t.c.to_id, t.c.type_id, t.c.label))
        }
        return {
            "contacts": rows(contact_t),
            "companies": rows(company_t),
            "deals": rows(deal_t),
            "owners": owners,
            "activities": activities,
            "associations": links,
            "engagements": {
                (r.object_type, r.id, _ms(r.created_at), _ms(r.archived_at))
                for r in conn.execute(sa.select(engagement_t))
            },
        }


def differences(want: Mapping[str, Any], have: Mapping[str, Any], limit: int = 5) -> dict[str, Any]:
    """Per section, a few examples of what differs (empty when the database equals the portal)."""
    out: dict[str, Any] = {}
    for section, expected_items in want.items():
        got = have[section]
        if isinstance(expected_items, set):
            missing, extra = (
                sorted(expected_items - got, key=str)[:limit],
                sorted(got - expected_items, key=str)[:limit],
            )
            wrong: list[Any] = []
        else:
            missing = sorted(set(expected_items) - set(got), key=str)[:limit]
            extra = sorted(set(got) - set(expected_items), key=str)[:limit]
            wrong = [
                (k, expected_items[k], got[k])
                for k in sorted(set(expected_items) & set(got), key=str)
                if expected_items[k] != got[k]
            ][:limit]
        if missing or extra or wrong:
            out[section] = {"missing": missing, "extra": extra, "wrong": wrong}
    return out
