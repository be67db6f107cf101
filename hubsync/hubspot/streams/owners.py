"""Owners: `GET /crm/v3/owners`, the active and the archived list, each small enough to read whole."""

from __future__ import annotations

from typing import Any, Final

from hubsync.hubspot.answers import results_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.mapping import owner_from_hubspot
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.streams import log_skips
from hubsync.hubspot.values import Skip, as_json
from hubsync.records import Owner

LIMIT: Final = 100


def read_all(client: HubSpotClient) -> tuple[list[Owner], int]:
    """Every owner (archived ones flagged) and the number of raw records that could not be mapped."""
    active, skipped = read_list(client, archived=False)
    archived, skipped_archived = read_list(client, archived=True)
    return [*active, *archived], skipped + skipped_archived


def read_list(client: HubSpotClient, *, archived: bool) -> tuple[list[Owner], int]:
    """The active owners (or the archived ones, flagged) and the number of raw records that could not be mapped."""
    api = client.api("crm.owners.owners_api")
    owners: list[Owner] = []
    skips: list[Skip] = []
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": LIMIT, "archived": archived}
        if after:
            kwargs["after"] = after
        page = client.call(api.get_page, operation="list owners", expect=results_page, **kwargs)
        for raw in page.results:
            mapped = owner_from_hubspot(as_json(raw))
            if isinstance(mapped, Skip):
                skips.append(mapped)
            else:
                owners.append(mapped)
        after = next_after(page)
        if after is None:
            return owners, log_skips("owners", skips)
