"""Owners: `GET /crm/v3/owners` (active and archived), small enough to read whole every run."""

from __future__ import annotations

from typing import Any, Final

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.mapping import owner_from_hubspot
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.values import as_json
from hubsync.records import Owner

LIMIT: Final = 100


def read_all(client: HubSpotClient) -> tuple[list[Owner], int]:
    """Every owner (archived ones flagged) and the number of raw records that could not be mapped."""
    api = client.api("crm.owners.owners_api")
    owners: list[Owner] = []
    skipped = 0
    for archived in (False, True):
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": LIMIT, "archived": archived}
            if after:
                kwargs["after"] = after
            page = client.call(api.get_page, operation="list owners", **kwargs)
            for raw in page.results or []:
                mapped = owner_from_hubspot(as_json(raw))
                if isinstance(mapped, Owner):
                    owners.append(mapped)
                else:
                    skipped += 1
            after = next_after(page)
            if after is None:
                break
    return owners, skipped
