"""Webinar participations: marketing events (`GET /marketing/v3/marketing-events`) and each event's participation
breakdown (`GET /marketing/v3/marketing-events/participations/{eventId}/breakdown`).

Neither endpoint filters by time. An event's counters (registrants, attendees, cancellations, no-shows) change with
every new participation, so a run re-reads the breakdown only of events whose counters changed since the last run.
"""

from __future__ import annotations

from typing import Any, Final

from hubsync.hubspot.activity_mapping import marketing_event_participation_to_activity
from hubsync.hubspot.answers import results_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.streams import log_skips
from hubsync.hubspot.values import Skip, as_json
from hubsync.records import Activity

LIMIT: Final = 100


def list_events(client: HubSpotClient) -> dict[str, str]:
    """Marketing event id → a fingerprint of its counters and modification time."""
    api = client.api("marketing.events.basic_api")
    out: dict[str, str] = {}
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": LIMIT}
        if after:
            kwargs["after"] = after
        answer = client.call(api.get_all, operation="list marketing events", expect=results_page, **kwargs)
        for raw in answer.results:
            obj = as_json(raw)
            event_id = obj.get("objectId")
            if event_id is None:
                continue
            out[str(event_id)] = "|".join(
                str(obj.get(key)) for key in ("registrants", "attendees", "cancellations", "noShows", "updatedAt")
            )
        after = next_after(answer)
        if after is None:
            return out


def participations_page(client: HubSpotClient, event_id: str, position: Any) -> tuple[list[Activity], int, Any]:
    api = client.api("marketing.events.retrieve_participant_state_api")
    kwargs: dict[str, Any] = {"limit": LIMIT}
    if position:
        kwargs["after"] = position
    answer = client.call(
        api.get_participations_breakdown_by_marketing_event_id,
        int(event_id),
        operation="marketing event participations",
        expect=results_page,
        **kwargs,
    )
    activities: list[Activity] = []
    skips: list[Skip] = []
    for raw in answer.results:
        mapped = marketing_event_participation_to_activity(as_json(raw))
        if isinstance(mapped, Skip):
            skips.append(mapped)
        else:
            activities.append(mapped)
    return activities, log_skips("marketing_events", skips), next_after(answer)
