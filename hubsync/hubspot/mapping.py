"""HubSpot JSON (or the SDK's model objects) → hubsync records. Pure functions, no I/O, no clock.

Every mapper accepts a plain dict as HubSpot sends it or an SDK model (converted with `to_dict(serialize=True)`,
which gives the same camelCase keys). Odd values never raise: an unparseable optional value becomes None, and a
record that cannot be used at all (no id, no time, no known contact) comes back as a `Skip` naming the reason, so
the caller can count and log skips instead of losing the page.

Activity ids are `<stream>:<source id>` (records.py). Streams: `email_event`, `form_submission`, `page_view`,
`marketing_event`, and `crm_engagement` whose source id is `<type>:<engagement id>:<contact id>`, since one
engagement (a meeting with three attendees) yields one activity per associated contact.

Lookups by email (`contact_id_by_email`) expect keys made with `email_key` (trimmed, lower case): HubSpot treats
addresses case-insensitively and the legacy APIs send them as typed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from hubsync.records import (
    Activity,
    ActivityKind,
    Association,
    Company,
    Contact,
    Deal,
    EmailEventType,
    EngagementType,
    MarketingEventType,
    Owner,
)

# Below this an epoch number cannot be milliseconds of a plausible HubSpot time (it would be before 1973).
_MIN_EPOCH_MS: Final = 100_000_000_000
_MAX_EPOCH_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@dataclass(frozen=True, slots=True)
class Skip:
    """A source record that was not mapped, and why."""

    reason: str
    source_id: str | None = None


# -- value parsing --------------------------------------------------------------------------------------------


def as_json(raw: Any) -> Mapping[str, Any]:
    """A record as HubSpot's JSON: dicts pass through, SDK models serialise to their wire keys."""
    if isinstance(raw, Mapping):
        return raw
    to_dict = getattr(raw, "to_dict", None)
    if callable(to_dict):
        try:
            converted = to_dict(serialize=True)
        except TypeError:
            # Models of other generator versions take no argument (and then use snake_case keys).
            converted = to_dict()
        if isinstance(converted, Mapping):
            return converted
    return {}


def parse_timestamp(value: Any) -> datetime | None:  # noqa: PLR0911 -- one return per input shape reads best
    """A UTC datetime from what HubSpot sends: ms epoch (int or digits), ISO 8601 with or without millis / 'Z',
    a date, or a datetime (SDK models). Anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return _from_epoch_ms(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return _from_epoch_ms(int(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _from_epoch_ms(value: float) -> datetime | None:
    if not math.isfinite(value) or not _MIN_EPOCH_MS <= value <= _MAX_EPOCH_MS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def parse_id(value: Any) -> int | None:
    """A HubSpot numeric id from an int or a string of digits; None for anything else ("", "abc", -1, 1.5)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.isdigit() else None
    return None


def email_key(email: str) -> str:
    return email.strip().lower()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def _properties(obj: Mapping[str, Any]) -> dict[str, str]:
    props = obj.get("properties")
    if not isinstance(props, Mapping):
        return {}
    # Properties HubSpot sends as null carry nothing; everything else is kept raw, as a string.
    return {
        str(key): value if isinstance(value, str) else str(value) for key, value in props.items() if value is not None
    }


def _created(obj: Mapping[str, Any], props: Mapping[str, str], name: str = "createdate") -> datetime | None:
    """The create date: the property (`createdate`; `hs_createdate` on engagements), else the record's `createdAt`."""
    return parse_timestamp(props.get(name)) or parse_timestamp(obj.get("createdAt"))


def engagement_created_at(raw: Any) -> datetime | None:
    obj = as_json(raw)
    return _created(obj, _properties(obj), "hs_createdate")


def _nested(obj: Mapping[str, Any], *keys: str) -> Any:
    current: Any = obj
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _source_id(obj: Mapping[str, Any], key: str = "id") -> str | None:
    return _text(obj.get(key))


# -- CRM objects ----------------------------------------------------------------------------------------------


def contact_from_hubspot(raw: Any) -> Contact | Skip:
    obj = as_json(raw)
    contact_id = parse_id(obj.get("id"))
    if contact_id is None:
        return Skip("contact without a numeric id", _source_id(obj))
    props = _properties(obj)
    return Contact(
        id=contact_id,
        email=_text(props.get("email")),
        firstname=_text(props.get("firstname")),
        lastname=_text(props.get("lastname")),
        jobtitle=_text(props.get("jobtitle")),
        country=_text(props.get("country")),
        lifecyclestage=_text(props.get("lifecyclestage")),
        owner_id=parse_id(props.get("hubspot_owner_id")),
        company_id=parse_id(props.get("associatedcompanyid")),
        created_at=_created(obj, props),
        updated_at=parse_timestamp(props.get("lastmodifieddate")) or parse_timestamp(obj.get("updatedAt")),
        properties=props,
    )


def company_from_hubspot(raw: Any) -> Company | Skip:
    obj = as_json(raw)
    company_id = parse_id(obj.get("id"))
    if company_id is None:
        return Skip("company without a numeric id", _source_id(obj))
    props = _properties(obj)
    return Company(
        id=company_id,
        name=_text(props.get("name")),
        domain=_text(props.get("domain")),
        industry=_text(props.get("industry")),
        # Raw strings on purpose ("1,000", "50-100"): scoring parses them.
        numberofemployees=_text(props.get("numberofemployees")),
        annualrevenue=_text(props.get("annualrevenue")),
        country=_text(props.get("country")),
        owner_id=parse_id(props.get("hubspot_owner_id")),
        created_at=_created(obj, props),
        updated_at=parse_timestamp(props.get("hs_lastmodifieddate")) or parse_timestamp(obj.get("updatedAt")),
        properties=props,
    )


def owner_from_hubspot(raw: Any) -> Owner | Skip:
    """An owner from `/crm/v3/owners` (`firstName`, `lastName`, `userId`, `archived`)."""
    obj = as_json(raw)
    owner_id = parse_id(obj.get("id"))
    if owner_id is None:
        return Skip("owner without a numeric id", _source_id(obj))
    return Owner(
        id=owner_id,
        email=_text(obj.get("email")),
        firstname=_text(obj.get("firstName")),
        lastname=_text(obj.get("lastName")),
        user_id=parse_id(obj.get("userId")),
        archived=obj.get("archived") is True,
    )


def deal_from_hubspot(raw: Any) -> Deal | Skip:
    obj = as_json(raw)
    deal_id = parse_id(obj.get("id"))
    if deal_id is None:
        return Skip("deal without a numeric id", _source_id(obj))
    props = _properties(obj)
    return Deal(
        id=deal_id,
        name=_text(props.get("dealname")),
        pipeline=_text(props.get("pipeline")),
        stage=_text(props.get("dealstage")),
        amount=_text(props.get("amount")),
        closed_won=_closed_won(props),
        close_date=parse_timestamp(props.get("closedate")),
        owner_id=parse_id(props.get("hubspot_owner_id")),
        created_at=_created(obj, props),
        updated_at=parse_timestamp(props.get("hs_lastmodifieddate")) or parse_timestamp(obj.get("updatedAt")),
    )


def _closed_won(props: Mapping[str, str]) -> bool | None:
    """True won, False lost, None still open (or unknown)."""
    stage = (props.get("dealstage") or "").strip().lower()
    if stage == "closedwon":
        return True
    if stage == "closedlost":
        return False
    # Custom pipelines have their own stage ids; HubSpot's calculated flags say what they mean.
    won = _flag(props.get("hs_is_closed_won"))
    if won:
        return True
    if won is False and _flag(props.get("hs_is_closed")):
        return False
    return None


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return None


def associations_from_batch_result(raw: Any, *, from_type: str, to_type: str) -> list[Association | Skip]:
    """Associations from one result of `POST /crm/v4/associations/{from}/{to}/batch/read`:
    `{"from": {"id"}, "to": [{"toObjectId", "associationTypes": [{"category", "typeId", "label"}]}]}`."""
    obj = as_json(raw)
    from_id = parse_id(_nested(obj, "from", "id"))
    if from_id is None:
        return [Skip(f"{from_type} association result without a numeric from id")]
    out: list[Association | Skip] = []
    targets = obj.get("to")
    for target in targets if isinstance(targets, list) else []:
        target_obj = as_json(target)
        to_id = parse_id(target_obj.get("toObjectId"))
        if to_id is None:
            out.append(Skip(f"{from_type}→{to_type} association without a numeric target id", str(from_id)))
            continue
        types = target_obj.get("associationTypes")
        for spec in types if isinstance(types, list) else []:
            spec_obj = as_json(spec)
            type_id = parse_id(spec_obj.get("typeId"))
            if type_id is None:
                out.append(Skip(f"{from_type}→{to_type} association without a type id", f"{from_id}→{to_id}"))
                continue
            out.append(
                Association(
                    from_type=from_type,
                    from_id=from_id,
                    to_type=to_type,
                    to_id=to_id,
                    type_id=type_id,
                    label=_text(spec_obj.get("label")),
                )
            )
    return out


# -- activities -----------------------------------------------------------------------------------------------

_EMAIL_EVENT_TYPES: Final = {
    "SENT": EmailEventType.SENT,
    "DELIVERED": EmailEventType.DELIVERED,
    "OPEN": EmailEventType.OPEN,
    "CLICK": EmailEventType.CLICK,
    "BOUNCE": EmailEventType.BOUNCE,
    "SPAMREPORT": EmailEventType.SPAM_REPORT,
    "STATUSCHANGE": EmailEventType.UNSUBSCRIBE,
}
# Bounce categories: HARD_BOUNCE / SOFT_BOUNCE, plus the two unambiguous specific ones.
_BOUNCE_STATUS: Final = {"HARD_BOUNCE": "hard", "UNKNOWN_USER": "hard", "SOFT_BOUNCE": "soft", "MAILBOX_FULL": "soft"}


def email_event_to_activity(raw: Any, *, contact_id_by_email: Mapping[str, int]) -> Activity | Skip:
    """A legacy email event (`GET /email/public/v1/events`): `id`, `created` (ms), `type`, `recipient`, …"""
    obj = as_json(raw)
    source_id = _source_id(obj)
    if source_id is None:
        return Skip("email event without an id")
    raw_type = (_text(obj.get("type")) or "").upper()
    event_type = _EMAIL_EVENT_TYPES.get(raw_type)
    if event_type is None:
        # DEFERRED, DROPPED, PROCESSED, FORWARD, PRINT, SUPPRESSED, UNBOUNCE: not engagement signals.
        return Skip(f"email event type {raw_type or 'missing'} is not used", source_id)
    if raw_type == "STATUSCHANGE" and not _is_unsubscribe(obj):
        return Skip("status change that is not an unsubscribe", source_id)
    occurred_at = parse_timestamp(obj.get("created"))
    if occurred_at is None:
        return Skip("email event without a usable time", source_id)
    recipient = _text(obj.get("recipient"))
    contact_id = contact_id_by_email.get(email_key(recipient)) if recipient else None
    if contact_id is None:
        return Skip("email event recipient is not a known contact", source_id)
    status = None
    if event_type is EmailEventType.BOUNCE:
        status = _BOUNCE_STATUS.get((_text(obj.get("category")) or "").upper())
    return Activity(
        id=f"{ActivityKind.EMAIL_EVENT}:{source_id}",
        contact_id=contact_id,
        kind=ActivityKind.EMAIL_EVENT,
        occurred_at=occurred_at,
        event_type=event_type.value,
        url=_text(obj.get("url")) if event_type is EmailEventType.CLICK else None,
        title=_text(obj.get("subject")),
        campaign_id=_text(obj.get("emailCampaignId")),
        status=status,
    )


def _is_unsubscribe(obj: Mapping[str, Any]) -> bool:
    if (_text(obj.get("portalSubscriptionStatus")) or "").upper() == "UNSUBSCRIBED":
        return True
    subscriptions = obj.get("subscriptions")
    return isinstance(subscriptions, list) and any(
        isinstance(sub, Mapping) and (_text(sub.get("status")) or "").upper() == "UNSUBSCRIBED" for sub in subscriptions
    )


def form_names(forms: Iterable[Any]) -> dict[str, str]:
    """Form id → name from `GET /marketing/v3/forms` results."""
    names: dict[str, str] = {}
    for form in forms:
        obj = as_json(form)
        form_id, name = _text(obj.get("id")), _text(obj.get("name"))
        if form_id and name:
            names[form_id] = name
    return names


def form_submission_to_activity(
    raw: Any, *, form_id: str, form_name: str | None, contact_id_by_email: Mapping[str, int]
) -> Activity | Skip:
    """A submission from `GET /form-integrations/v1/submissions/forms/{formGuid}`:
    `{"conversionId", "submittedAt" (ms), "values": [{"name", "value"}], "pageUrl"}`."""
    obj = as_json(raw)
    occurred_at = parse_timestamp(obj.get("submittedAt"))
    email = _form_value(obj, "email")
    source_id = _source_id(obj, "conversionId") or (
        f"{form_id}:{obj.get('submittedAt')}:{email_key(email)}" if occurred_at and email else None
    )
    if source_id is None:
        return Skip("form submission without a conversion id, time or email")
    if occurred_at is None:
        return Skip("form submission without a usable time", source_id)
    contact_id = contact_id_by_email.get(email_key(email)) if email else None
    if contact_id is None:
        return Skip("form submission email is not a known contact", source_id)
    return Activity(
        id=f"{ActivityKind.FORM_SUBMISSION}:{source_id}",
        contact_id=contact_id,
        kind=ActivityKind.FORM_SUBMISSION,
        occurred_at=occurred_at,
        url=_text(obj.get("pageUrl")),
        title=_text(obj.get("pageTitle")),
        form_id=form_id,
        form_name=form_name,
    )


def _form_value(obj: Mapping[str, Any], name: str) -> str | None:
    values = obj.get("values")
    for entry in values if isinstance(values, list) else []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return _text(entry.get("value"))
    return None


_CONTACT_OBJECT_TYPES: Final = {"CONTACT", "0-1"}


def page_view_to_activity(raw: Any) -> Activity | Skip:
    """A web event from `GET /events/v3/events` (`ExternalUnifiedEvent`): `id`, `eventType`, `objectType`,
    `objectId`, `occurredAt`, `properties.hs_url` / `hs_page_title` (or `hs_title`)."""
    obj = as_json(raw)
    source_id = _source_id(obj)
    if source_id is None:
        return Skip("web event without an id")
    event_type = _text(obj.get("eventType"))
    if event_type != "e_visited_page":
        return Skip(f"web event type {event_type or 'missing'} is not a page view", source_id)
    object_type = _text(obj.get("objectType"))
    if object_type is not None and object_type.upper() not in _CONTACT_OBJECT_TYPES:
        return Skip(f"page view of a {object_type}, not a contact", source_id)
    contact_id = parse_id(obj.get("objectId"))
    if contact_id is None:
        return Skip("page view without a numeric contact id", source_id)
    occurred_at = parse_timestamp(obj.get("occurredAt"))
    if occurred_at is None:
        return Skip("page view without a usable time", source_id)
    props = obj.get("properties")
    props = props if isinstance(props, Mapping) else {}
    return Activity(
        id=f"{ActivityKind.PAGE_VIEW}:{source_id}",
        contact_id=contact_id,
        kind=ActivityKind.PAGE_VIEW,
        occurred_at=occurred_at,
        url=_text(props.get("hs_url")),
        # HubSpot's documentation is not consistent about the title's property name: accept both.
        title=_text(props.get("hs_page_title") or props.get("hs_title")),
    )


_ATTENDANCE: Final = {
    "REGISTERED": MarketingEventType.REGISTERED,
    "ATTENDED": MarketingEventType.ATTENDED,
    "NO_SHOW": MarketingEventType.NO_SHOW,
    "CANCELLED": MarketingEventType.CANCELLED,
}


def marketing_event_participation_to_activity(raw: Any) -> Activity | Skip:
    """A `ParticipationBreakdown` (marketing events participations by contact or by event): `id`, `createdAt`,
    `properties.attendanceState` / `occurredAt` (ms), `associations.contact.contactId`,
    `associations.marketingEvent.marketingEventId` / `name`."""
    obj = as_json(raw)
    source_id = _source_id(obj)
    if source_id is None:
        return Skip("marketing event participation without an id")
    state = (_text(_nested(obj, "properties", "attendanceState")) or "").upper()
    event_type = _ATTENDANCE.get(state)
    if event_type is None:
        # EMPTY (HubSpot's "no state") or something new.
        return Skip(f"participation state {state or 'missing'} is not used", source_id)
    contact_id = parse_id(_nested(obj, "associations", "contact", "contactId"))
    if contact_id is None:
        return Skip("participation without a numeric contact id", source_id)
    occurred_at = parse_timestamp(_nested(obj, "properties", "occurredAt")) or parse_timestamp(obj.get("createdAt"))
    if occurred_at is None:
        return Skip("participation without a usable time", source_id)
    return Activity(
        id=f"{ActivityKind.MARKETING_EVENT}:{source_id}",
        contact_id=contact_id,
        kind=ActivityKind.MARKETING_EVENT,
        occurred_at=occurred_at,
        event_type=event_type.value,
        # The marketing event's id, so that all participations of one webinar group together.
        campaign_id=_text(_nested(obj, "associations", "marketingEvent", "marketingEventId")),
        event_name=_text(_nested(obj, "associations", "marketingEvent", "name")),
    )


_EMAIL_DIRECTION: Final = {"INCOMING_EMAIL": "INCOMING", "EMAIL": "OUTGOING", "FORWARDED_EMAIL": "OUTGOING"}
_CALL_DIRECTION: Final = {"INBOUND": "INBOUND", "OUTBOUND": "OUTBOUND"}
# Per type: (title property, status property, time properties in order of preference).
_ENGAGEMENT_FIELDS: Final[dict[EngagementType, tuple[str | None, str | None, tuple[str, ...]]]] = {
    EngagementType.EMAIL: ("hs_email_subject", "hs_email_status", ("hs_timestamp",)),
    EngagementType.CALL: ("hs_call_title", "hs_call_status", ("hs_timestamp",)),
    EngagementType.MEETING: ("hs_meeting_title", "hs_meeting_outcome", ("hs_meeting_start_time", "hs_timestamp")),
    EngagementType.NOTE: (None, None, ("hs_timestamp",)),
    EngagementType.TASK: ("hs_task_subject", "hs_task_status", ("hs_timestamp",)),
}


def engagement_to_activities(
    raw: Any, *, engagement_type: EngagementType, contact_ids: Iterable[Any] | None = None
) -> list[Activity | Skip]:
    """CRM engagement objects (emails, calls, meetings, notes, tasks) → one Activity per associated contact.

    Contacts come from `contact_ids` (e.g. from a v4 association read) or else from the object's own
    `associations.contacts.results[].id` (requested with `associations=["contacts"]`).
    """
    obj = as_json(raw)
    source_id = _source_id(obj)
    engagement_id = parse_id(obj.get("id"))
    if engagement_id is None:
        return [Skip(f"{engagement_type} engagement without a numeric id", source_id)]
    props = _properties(obj)
    title_key, status_key, time_keys = _ENGAGEMENT_FIELDS[engagement_type]
    occurred_at = next((t for key in time_keys if (t := parse_timestamp(props.get(key))) is not None), None)
    occurred_at = occurred_at or _created(obj, props, "hs_createdate")
    if occurred_at is None:
        return [Skip(f"{engagement_type} engagement without a usable time", source_id)]
    raw_contacts = list(contact_ids) if contact_ids is not None else _associated_ids(obj, "contacts")
    if not raw_contacts:
        return [Skip(f"{engagement_type} engagement has no associated contact", source_id)]
    direction = None
    if engagement_type is EngagementType.EMAIL:
        direction = _EMAIL_DIRECTION.get((props.get("hs_email_direction") or "").upper())
    elif engagement_type is EngagementType.CALL:
        direction = _CALL_DIRECTION.get((props.get("hs_call_direction") or "").upper())
    out: list[Activity | Skip] = []
    seen: set[int] = set()
    for raw_contact in raw_contacts:
        contact_id = parse_id(raw_contact)
        if contact_id is None:
            out.append(Skip(f"{engagement_type} engagement associated with a non-numeric contact id", source_id))
            continue
        if contact_id in seen:
            continue
        seen.add(contact_id)
        out.append(
            Activity(
                id=f"{ActivityKind.CRM_ENGAGEMENT}:{engagement_type}:{engagement_id}:{contact_id}",
                contact_id=contact_id,
                kind=ActivityKind.CRM_ENGAGEMENT,
                occurred_at=occurred_at,
                event_type=engagement_type.value,
                title=_text(props.get(title_key)) if title_key else None,
                direction=direction,
                status=_text(props.get(status_key)) if status_key else None,
            )
        )
    return out


def _associated_ids(obj: Mapping[str, Any], to_type: str) -> list[Any]:
    results = _nested(obj, "associations", to_type, "results")
    return [as_json(entry).get("id") for entry in results] if isinstance(results, list) else []
