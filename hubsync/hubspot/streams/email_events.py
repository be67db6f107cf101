"""Marketing email events: the legacy `GET /email/public/v1/events` (no SDK wrapper), offset-paged in a window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hubsync.hubspot.activity_mapping import email_event_to_activity
from hubsync.hubspot.answers import email_events_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.streams import log_skips
from hubsync.hubspot.values import Skip
from hubsync.records import Activity

PATH: Final = "/email/public/v1/events"
LIMIT: Final = 1_000


def page(
    client: HubSpotClient,
    since: datetime,
    until: datetime,
    position: Any,
    contact_id_by_email: Mapping[str, int],
) -> tuple[list[Activity], int, Any]:
    """Events in [since, until) from `position`: activities, skipped count, next position (None: window done)."""
    qs: dict[str, Any] = {
        "startTimestamp": _ms(since),
        # The API's end bound is inclusive; the window's is not.
        "endTimestamp": _ms(until) - 1,
        "limit": LIMIT,
    }
    if position:
        qs["offset"] = position
    answer = client.request("GET", PATH, qs=qs, operation="email events", expect=email_events_page)
    activities: list[Activity] = []
    skips: list[Skip] = []
    for raw in answer["events"]:
        mapped = email_event_to_activity(raw, contact_id_by_email=contact_id_by_email)
        if isinstance(mapped, Skip):
            skips.append(mapped)
        else:
            activities.append(mapped)
    following = answer.get("offset") if answer.get("hasMore") else None
    return activities, log_skips("email_events", skips), following


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
