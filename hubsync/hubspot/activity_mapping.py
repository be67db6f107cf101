"""HubSpot JSON → activities: email events, form submissions, page views, marketing events, CRM engagements.

Activity ids are `<stream>:<source id>` (records.py). Streams: `email_event`, `form_submission`, `page_view`,
`marketing_event`, and `crm_engagement` whose source id is `<type>:<engagement id>:<contact id>`, since one
engagement (a meeting with three attendees) yields one activity per associated contact.

Lookups by email (`contact_id_by_email`) expect keys made with `records.email_key` (trimmed, lower case): HubSpot
treats addresses case-insensitively and the legacy APIs send them as typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from hubsync.hubspot.values import (
    Skip,
    as_json,
    created_at,
    id_text,
    nested,
    parse_id,
    parse_timestamp,
    properties_of,
    text,
)
from hubsync.records import Activity, ActivityKind, EmailEventType, EngagementType, MarketingEventType, email_key

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
    source_id = id_text(obj)
    if source_id is None:
        return Skip("email event without an id")
    raw_type = (text(obj.get("type")) or "").upper()
    event_type = _EMAIL_EVENT_TYPES.get(raw_type)
    if event_type is None:
        # DEFERRED, DROPPED, PROCESSED, FORWARD, PRINT, SUPPRESSED, UNBOUNCE: not engagement signals.
        return Skip(f"email event type {raw_type or 'missing'} is not used", source_id)
    if raw_type == "STATUSCHANGE" and not _is_unsubscribe(obj):
        return Skip("status change that is not an unsubscribe", source_id)
    occurred_at = parse_timestamp(obj.get("created"))
    if occurred_at is None:
        return Skip("email event without a usable time", source_id)
    recipient = text(obj.get("recipient"))
    contact_id = contact_id_by_email.get(email_key(recipient)) if recipient else None
    if contact_id is None:
        return Skip("email event recipient is not a known contact", source_id)
    status = None
    if event_type is EmailEventType.BOUNCE:
        status = _BOUNCE_STATUS.get((text(obj.get("category")) or "").upper())
    return Activity(
        id=f"{ActivityKind.EMAIL_EVENT}:{source_id}",
        contact_id=contact_id,
        kind=ActivityKind.EMAIL_EVENT,
        occurred_at=occurred_at,
        event_type=event_type.value,
        url=text(obj.get("url")) if event_type is EmailEventType.CLICK else None,
        title=text(obj.get("subject")),
        campaign_id=text(obj.get("emailCampaignId")),
        status=status,
    )


def _is_unsubscribe(obj: Mapping[str, Any]) -> bool:
    if (text(obj.get("portalSubscriptionStatus")) or "").upper() == "UNSUBSCRIBED":
        return True
    subscriptions = obj.get("subscriptions")
    return isinstance(subscriptions, list) and any(
        isinstance(sub, Mapping) and (text(sub.get("status")) or "").upper() == "UNSUBSCRIBED" for sub in subscriptions
    )


def form_names(forms: Iterable[Any]) -> dict[str, str]:
    """Form id → name from `GET /marketing/v3/forms` results."""
    names: dict[str, str] = {}
    for form in forms:
        obj = as_json(form)
        form_id, name = text(obj.get("id")), text(obj.get("name"))
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
    source_id = id_text(obj, "conversionId") or (
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
        url=text(obj.get("pageUrl")),
        title=text(obj.get("pageTitle")),
        form_id=form_id,
        form_name=form_name,
    )


def _form_value(obj: Mapping[str, Any], name: str) -> str | None:
    values = obj.get("values")
    for entry in values if isinstance(values, list) else []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return text(entry.get("value"))
    return None


_CONTACT_OBJECT_TYPES: Final = {"CONTACT", "0-1"}


def page_view_to_activity(raw: Any) -> Activity | Skip:
    """A web event from `GET /events/v3/events` (`ExternalUnifiedEvent`): `id`, `eventType`, `objectType`,
    `objectId`, `occurredAt`, `properties.hs_url` / `hs_page_title` (or `hs_title`)."""
    obj = as_json(raw)
    source_id = id_text(obj)
    if source_id is None:
        return Skip("web event without an id")
    event_type = text(obj.get("eventType"))
    if event_type != "e_visited_page":
        return Skip(f"web event type {event_type or 'missing'} is not a page view", source_id)
    object_type = text(obj.get("objectType"))
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
        url=text(props.get("hs_url")),
        # HubSpot's documentation is not consistent about the title's property name: accept both.
        title=text(props.get("hs_page_title") or props.get("hs_title")),
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
    source_id = id_text(obj)
    if source_id is None:
        return Skip("marketing event participation without an id")
    state = (text(nested(obj, "properties", "attendanceState")) or "").upper()
    event_type = _ATTENDANCE.get(state)
    if event_type is None:
        # EMPTY (HubSpot's "no state") or something new.
        return Skip(f"participation state {state or 'missing'} is not used", source_id)
    contact_id = parse_id(nested(obj, "associations", "contact", "contactId"))
    if contact_id is None:
        return Skip("participation without a numeric contact id", source_id)
    occurred_at = parse_timestamp(nested(obj, "properties", "occurredAt")) or parse_timestamp(obj.get("createdAt"))
    if occurred_at is None:
        return Skip("participation without a usable time", source_id)
    return Activity(
        id=f"{ActivityKind.MARKETING_EVENT}:{source_id}",
        contact_id=contact_id,
        kind=ActivityKind.MARKETING_EVENT,
        occurred_at=occurred_at,
        event_type=event_type.value,
        # The marketing event's id, so that all participations of one webinar group together.
        campaign_id=text(nested(obj, "associations", "marketingEvent", "marketingEventId")),
        event_name=text(nested(obj, "associations", "marketingEvent", "name")),
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
    source_id = id_text(obj)
    engagement_id = parse_id(obj.get("id"))
    if engagement_id is None:
        return [Skip(f"{engagement_type} engagement without a numeric id", source_id)]
    props = properties_of(obj)
    title_key, status_key, time_keys = _ENGAGEMENT_FIELDS[engagement_type]
    occurred_at = next((t for key in time_keys if (t := parse_timestamp(props.get(key))) is not None), None)
    occurred_at = occurred_at or created_at(obj, props, "hs_createdate")
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
                title=text(props.get(title_key)) if title_key else None,
                direction=direction,
                status=text(props.get(status_key)) if status_key else None,
            )
        )
    return out


def engagement_of(activity_id: str) -> tuple[EngagementType, int] | None:
    """The engagement (type, id) a `crm_engagement` activity was made from, read back from its id; None for any other
    activity."""
    stream, _, rest = activity_id.partition(":")
    kind, _, rest = rest.partition(":")
    engagement_id = parse_id(rest.partition(":")[0])
    if stream != ActivityKind.CRM_ENGAGEMENT or kind not in _ENGAGEMENT_TYPES or engagement_id is None:
        return None
    return _ENGAGEMENT_TYPES[kind], engagement_id


_ENGAGEMENT_TYPES: Final = {t.value: t for t in EngagementType}


def _associated_ids(obj: Mapping[str, Any], to_type: str) -> list[Any]:
    results = nested(obj, "associations", to_type, "results")
    return [as_json(entry).get("id") for entry in results] if isinstance(results, list) else []
