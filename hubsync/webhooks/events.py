"""A webhook request's body → events; pure.

HubSpot sends a JSON array of up to 100 events (docs/hubspot.md, "Webhooks"), each with an `eventId` (the same
event delivered again keeps it), a `subscriptionType` such as `contact.propertyChange`, the record's `objectId`
(an association change names `fromObjectId` and `toObjectId` instead) and `occurredAt` (epoch milliseconds).
A body that is not such an array, or an event without those fields, makes the whole request malformed: the
receiver answers 400 and stores nothing of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from hubsync.records import WebhookEvent

# HubSpot's ids are positive 64-bit numbers; anything beyond is not an id hubsync can store.
_ID_MAX: Final = 2**63 - 1
# Epoch milliseconds of the last instant a datetime holds (9999-12-31).
_MS_MAX: Final = 253_402_300_799_999
# A generous bound on one request (HubSpot sends at most 100 events): more is not HubSpot.
MAX_EVENTS: Final = 1_000


class MalformedBatch(ValueError):
    """The body is not a batch of HubSpot webhook events; the message says what is wrong (never the body)."""


def parse_batch(body: bytes) -> list[WebhookEvent]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedBatch("the body is not JSON") from None
    if not isinstance(data, list):
        raise MalformedBatch("the body is not a JSON array of events")
    if len(data) > MAX_EVENTS:
        raise MalformedBatch(f"{len(data)} events in one request, more than {MAX_EVENTS}")
    return [_event(item, index) for index, item in enumerate(data)]


def _event(item: object, index: int) -> WebhookEvent:
    if not isinstance(item, Mapping):
        raise MalformedBatch(f"event {index} is not a JSON object")
    kind = item.get("subscriptionType")
    if not isinstance(kind, str) or "." not in kind:
        raise MalformedBatch(f"event {index}: subscriptionType is missing or not 'object.change'")
    object_id = item.get("objectId", item.get("fromObjectId"))
    occurred = positive_id(item.get("occurredAt"))
    event_id = positive_id(item.get("eventId"))
    if event_id is None or positive_id(object_id) is None or occurred is None or occurred > _MS_MAX:
        raise MalformedBatch(f"event {index}: eventId, objectId and occurredAt must be positive integers")
    attempt = item.get("attemptNumber", 0)
    name = item.get("propertyName")
    return WebhookEvent(
        event_id=event_id,
        subscription_type=kind,
        object_id=int(str(object_id)),
        occurred_at=datetime.fromtimestamp(occurred / 1000, UTC),
        attempt_number=attempt if _is_int(attempt) else 0,
        portal_id=positive_id(item.get("portalId")),
        property_name=name if isinstance(name, str) else None,
        payload=dict(item),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive_id(value: object) -> int | None:
    """A positive 64-bit integer, as a JSON number or a string of digits; None otherwise."""
    if _is_int(value):
        number = int(str(value))
    elif isinstance(value, str) and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 < number <= _ID_MAX else None
