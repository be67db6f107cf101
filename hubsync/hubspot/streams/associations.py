"""Associations through the v4 batch read: `POST /crm/v4/associations/{from}/{to}/batch/read`, ≤1,000 ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from hubspot.crm.associations.v4.models import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)

from hubsync.hubspot.answers import results_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.mapping import associations_from_batch_result
from hubsync.hubspot.values import Skip
from hubsync.records import Association

BATCH: Final = 1_000


def read(client: HubSpotClient, from_type: str, to_type: str, ids: Iterable[int]) -> list[Association]:
    """Every association of the given records to `to_type`. A record without any is simply absent (HubSpot
    answers 207 with a NO_ASSOCIATIONS_FOUND error for it, which the SDK returns as a normal result)."""
    api = client.api("crm.associations.v4.batch_api")
    wanted = sorted(set(ids))
    out: list[Association] = []
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        body = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=str(i)) for i in chunk]
        )
        answer = client.call(
            api.get_page,
            from_type,
            to_type,
            batch_input_public_fetch_associations_batch_request=body,
            operation=f"associations {from_type}->{to_type}",
            raw_json=True,
            expect=results_page,
        )
        for result in answer["results"]:
            mapped = associations_from_batch_result(result, from_type=from_type, to_type=to_type)
            out.extend(item for item in mapped if not isinstance(item, Skip))
    return out


def contacts_of(client: HubSpotClient, from_type: str, ids: Iterable[int]) -> dict[int, list[int]]:
    """Contact ids per record (for engagement search pages, which carry no associations)."""
    by_id: dict[int, list[int]] = {}
    for link in read(client, from_type, "contacts", ids):
        targets = by_id.setdefault(link.from_id, [])
        if link.to_id not in targets:
            targets.append(link.to_id)
    return by_id
