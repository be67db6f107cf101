"""CRM objects (contacts, companies, deals and the engagement objects) through the generic objects API:
list pages (`GET /crm/v3/objects/{type}`), search (`POST /crm/v3/objects/{type}/search`) keyset-paged by id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from hubspot.crm.objects.models import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from hubsync.hubspot.answers import results_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.mapping import LIFECYCLE_DATE_PROPERTIES
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.values import parse_id
from hubsync.records import EngagementType

LIST_LIMIT: Final = 100
READ_BATCH: Final = 100
SEARCH_LIMIT: Final = 200
# Property names go into the query string of a list request; past about 2,000 characters a URL risks a 414 (or a
# proxy's limit), so longer lists are requested in chunks and merged by id.
MAX_PROPERTY_CHARS: Final = 2_000

_COMMON_ENGAGEMENT: Final = ("hs_timestamp", "hs_createdate", "hs_lastmodifieddate", "hubspot_owner_id", "hs_object_id")


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    stream: str
    object_type: str
    properties: tuple[str, ...]
    engagement: EngagementType | None = None

    @property
    def modified_property(self) -> str:
        return "lastmodifieddate" if self.object_type == "contacts" else "hs_lastmodifieddate"

    @property
    def created_property(self) -> str:
        return "hs_createdate" if self.engagement is not None else "createdate"


CONTACT_PROPERTIES: Final = (
    "email", "firstname", "lastname", "jobtitle", "company", "phone", "city", "country", "lifecyclestage",
    "hs_lead_status", "hubspot_owner_id", "associatedcompanyid", "hs_email_optout", "hs_merged_object_ids",
    "recent_conversion_date", "createdate", "lastmodifieddate", "hs_object_id",
    # The outcomes: when the contact became a lead, MQL, SQL, opportunity, customer (hs_lead_status is above).
    *LIFECYCLE_DATE_PROPERTIES.values(),
)  # fmt: skip
COMPANY_PROPERTIES: Final = (
    "name", "domain", "industry", "numberofemployees", "annualrevenue", "city", "country", "lifecyclestage",
    "hubspot_owner_id", "createdate", "hs_lastmodifieddate", "hs_object_id",
)  # fmt: skip
DEAL_PROPERTIES: Final = (
    "dealname", "amount", "dealstage", "pipeline", "closedate", "hubspot_owner_id", "hs_is_closed_won",
    "hs_is_closed", "createdate", "hs_lastmodifieddate", "hs_object_id",
)  # fmt: skip
ENGAGEMENT_PROPERTIES: Final[dict[EngagementType, tuple[str, ...]]] = {
    EngagementType.EMAIL: (*_COMMON_ENGAGEMENT, "hs_email_direction", "hs_email_subject", "hs_email_status"),
    EngagementType.CALL: (*_COMMON_ENGAGEMENT, "hs_call_direction", "hs_call_title", "hs_call_status"),
    EngagementType.MEETING: (
        *_COMMON_ENGAGEMENT,
        "hs_meeting_title",
        "hs_meeting_outcome",
        "hs_meeting_start_time",
    ),
    EngagementType.NOTE: _COMMON_ENGAGEMENT,
    EngagementType.TASK: (*_COMMON_ENGAGEMENT, "hs_task_subject", "hs_task_status", "hs_task_type"),
}
ENGAGEMENT_OBJECTS: Final[dict[EngagementType, str]] = {
    EngagementType.EMAIL: "emails",
    EngagementType.CALL: "calls",
    EngagementType.MEETING: "meetings",
    EngagementType.NOTE: "notes",
    EngagementType.TASK: "tasks",
}


def property_chunks(names: Sequence[str], max_chars: int = MAX_PROPERTY_CHARS) -> list[list[str]]:
    """Split property names so each chunk, comma-joined, stays within `max_chars` (a name longer alone is alone)."""
    chunks: list[list[str]] = []
    size = 0
    for name in dict.fromkeys(names):
        if chunks and size + 1 + len(name) <= max_chars:
            chunks[-1].append(name)
            size += 1 + len(name)
        else:
            chunks.append([name])
            size = len(name)
    return chunks


def list_page(
    client: HubSpotClient, spec: ObjectSpec, after: str | None, *, archived: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """One list page (all properties, in chunks if needed) and the token of the next page."""
    api = client.api("crm.objects.basic_api")
    merged: dict[str, dict[str, Any]] = {}
    following: str | None = None
    associations = ["contacts"] if spec.engagement is not None and not archived else None
    for index, chunk in enumerate(property_chunks(spec.properties)):
        kwargs: dict[str, Any] = {"limit": LIST_LIMIT, "properties": chunk, "archived": archived}
        if after is not None:
            kwargs["after"] = after
        if associations and index == 0:
            kwargs["associations"] = associations
        page = client.call(
            api.get_page,
            spec.object_type,
            operation=f"list {spec.object_type}",
            raw_json=True,
            expect=results_page,
            **kwargs,
        )
        for obj in page["results"]:
            seen = merged.get(str(obj.get("id")))
            if seen is None:
                merged[str(obj.get("id"))] = obj
            else:
                seen["properties"] = {**(seen.get("properties") or {}), **(obj.get("properties") or {})}
        if index == 0:
            following = next_after(page)
    return list(merged.values()), following


def search_page(
    client: HubSpotClient, spec: ObjectSpec, since: datetime, until: datetime, after_id: int
) -> tuple[list[dict[str, Any]], bool, int | None]:
    """Records modified in [since, until) with ids above `after_id`, by id; whether more follow; and how many
    match (this page included), for progress and ETA."""
    page = _search(
        client,
        spec,
        [
            Filter(property_name=spec.modified_property, operator="GTE", value=str(_ms(since))),
            Filter(property_name=spec.modified_property, operator="LT", value=str(_ms(until))),
            Filter(property_name="hs_object_id", operator="GT", value=str(after_id)),
        ],
        properties=spec.properties,
    )
    return list(page.get("results") or []), next_after(page) is not None, _total(page)


def count_created_before(client: HubSpotClient, spec: ObjectSpec, before: datetime) -> int | None:
    """How many live records were created before `before` (one search; HubSpot's `total`), None if unknown."""
    page = _search(client, spec, [_created_before(spec, before)], properties=("hs_object_id",), limit=1, verb="count")
    return _total(page)


def ids_created_before(
    client: HubSpotClient, spec: ObjectSpec, before: datetime, after_id: int
) -> tuple[list[int], bool]:
    """A page of the ids of live records created before `before`, above `after_id`, by id; whether more follow."""
    page = _search(
        client,
        spec,
        [_created_before(spec, before), Filter(property_name="hs_object_id", operator="GT", value=str(after_id))],
        properties=("hs_object_id",),
        verb="scan",
    )
    ids = [i for r in page.get("results") or [] if (i := parse_id(r.get("id"))) is not None]
    return ids, next_after(page) is not None


def read_live(
    client: HubSpotClient,
    object_type: str,
    ids: Sequence[int],
    properties: Sequence[str],
    *,
    operation: str | None = None,
) -> list[dict[str, Any]]:
    """The live records among `ids`, with `properties` (batch read, 100 per call; properties go in the body, so
    no chunking; ids HubSpot no longer has answer OBJECT_NOT_FOUND and are simply absent)."""
    api = client.api("crm.objects.batch_api")
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), READ_BATCH):
        body = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=str(i)) for i in ids[start : start + READ_BATCH]],
            properties=list(properties),
        )
        answer = client.call(
            api.read,
            object_type,
            body,
            archived=False,
            operation=operation or f"read {object_type}",
            raw_json=True,
            expect=results_page,
        )
        found.extend(answer["results"])
    return found


def _total(page: Mapping[str, Any]) -> int | None:
    total = page.get("total")
    return total if isinstance(total, int) else None


def _created_before(spec: ObjectSpec, before: datetime) -> Filter:
    return Filter(property_name=spec.created_property, operator="LT", value=str(_ms(before)))


def _search(
    client: HubSpotClient,
    spec: ObjectSpec,
    filters: list[Filter],
    *,
    properties: Sequence[str],
    limit: int = SEARCH_LIMIT,
    verb: str = "search",
) -> Mapping[str, Any]:
    """One search page, sorted and keyset-paged by id (so the 10,000-result cap never applies)."""
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=filters)],
        sorts=["hs_object_id"],
        properties=list(properties),
        limit=limit,
    )
    page: Mapping[str, Any] = client.call(
        client.api("crm.objects.search_api").do_search,
        spec.object_type,
        public_object_search_request=request,
        kind="search",
        operation=f"{verb} {spec.object_type}",
        raw_json=True,
        expect=results_page,
    )
    return page


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
