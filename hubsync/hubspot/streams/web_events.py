"""Page views: the events API, `GET /events/v3/events?eventType=e_visited_page` (Enterprise hubs only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from hubsync.hubspot.activity_mapping import page_view_to_activity
from hubsync.hubspot.answers import results_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.streams import log_skips
from hubsync.hubspot.values import Skip
from hubsync.records import Activity

LIMIT: Final = 1_000
_MS: Final = timedelta(milliseconds=1)


def page(client: HubSpotClient, since: datetime, until: datetime, position: Any) -> tuple[list[Activity], int, Any]:
    """Page views in [since, until) from `position`: activities, skipped count, next position (None: done)."""
    api = client.api("events.events_api")
    kwargs: dict[str, Any] = {
        "event_type": "e_visited_page",
        "object_type": "contact",
        # Both bounds of the API are exclusive; the window includes its start.
        "occurred_after": since - _MS,
        "occurred_before": until,
        "limit": LIMIT,
    }
    if position:
        kwargs["after"] = position
    answer = client.call(api.get_page, operation="web events", raw_json=True, expect=results_page, **kwargs)
    activities: list[Activity] = []
    skips: list[Skip] = []
    for raw in answer["results"]:
        mapped = page_view_to_activity(raw)
        if isinstance(mapped, Skip):
            skips.append(mapped)
        else:
            activities.append(mapped)
    return activities, log_skips("web_events", skips), next_after(answer)
