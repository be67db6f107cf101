"""What a batch of webhook events asks hubsync to read again; pure.

Events only say that something changed, never the whole new state (and they may come out of order or twice), so
each one names records to read again by id. The plan coalesces: ten thousand events about a hundred contacts are a
hundred ids, read in one or two requests and rescored once.

* `contact.creation`, `.propertyChange`, `.restore` and `.merge` (the survivor): the contact is read again. A
  merge also moves associations, so the survivor's are read again; its `hs_merged_object_ids` tell the store which
  old contacts it absorbed.
* `contact.deletion` / `.privacyDeletion`: read again too; if HubSpot no longer has it live, it is archived.
* `contact.associationChange`: the contact's company associations are read again.
* a change of one of the properties HubSpot stamps on a contact when a sales activity is logged (`ENGAGEMENT_STAMPS`):
  the contact's calls, emails, meetings, notes and tasks are read again.
* the same for companies (a merged company's old ids are deleted ones). Other objects (deals, tickets, …) are
  left to the scheduled cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from hubsync.records import WebhookEvent
from hubsync.webhooks.events import positive_id

# Contact properties HubSpot updates when a call, email, meeting, note or task is logged on the contact.
ENGAGEMENT_STAMPS: Final = frozenset(
    {
        "notes_last_updated",
        "notes_last_contacted",
        "num_notes",
        "num_contacted_notes",
        "hs_last_sales_activity_timestamp",
        "hs_last_sales_activity_date",
        "hs_latest_meeting_activity",
        "hs_sales_email_last_replied",
        "hs_sales_email_last_opened",
        "hs_sales_email_last_clicked",
    }
)
_READ: Final = frozenset({"creation", "propertyChange", "restore", "merge", "deletion", "privacyDeletion"})
_GONE: Final = frozenset({"deletion", "privacyDeletion"})


@dataclass(frozen=True, slots=True)
class Reads:
    contacts: frozenset[int] = frozenset()
    companies: frozenset[int] = frozenset()
    # Named by a deletion: archived unless the read finds them live.
    deleted_contacts: frozenset[int] = frozenset()
    deleted_companies: frozenset[int] = frozenset()
    # Contacts whose company associations are read again.
    contact_links: frozenset[int] = frozenset()
    # Contacts whose engagements are read again.
    engagements: frozenset[int] = frozenset()
    # Events about objects hubsync leaves to the cycle.
    ignored: int = 0

    @property
    def empty(self) -> bool:
        return not (self.contacts or self.companies or self.contact_links or self.engagements)


@dataclass
class _Collect:
    ids: dict[str, set[int]]
    ignored: int = 0

    def add(self, key: str, *values: int | None) -> None:
        self.ids.setdefault(key, set()).update(v for v in values if v is not None)

    def get(self, key: str) -> frozenset[int]:
        return frozenset(self.ids.get(key, ()))


def plan_reads(events: Iterable[WebhookEvent]) -> Reads:
    found = _Collect({})
    for event in events:
        if event.object_type == "contact":
            _contact(found, event)
        elif event.object_type == "company":
            _company(found, event)
        else:
            found.ignored += 1
    return Reads(
        contacts=found.get("contacts"),
        companies=found.get("companies"),
        deleted_contacts=found.get("deleted_contacts"),
        deleted_companies=found.get("deleted_companies"),
        contact_links=found.get("contact_links"),
        engagements=found.get("engagements"),
        ignored=found.ignored,
    )


def _contact(found: _Collect, event: WebhookEvent) -> None:
    change = event.change
    if change == "associationChange":
        found.add("contact_links", event.object_id)
        if _association_type(event.payload).startswith("CONTACT_TO_COMPANY"):
            found.add("companies", positive_id(event.payload.get("toObjectId")))
        return
    if change not in _READ:
        found.ignored += 1
        return
    survivor = _survivor(event)
    found.add("contacts", survivor)
    if change in _GONE:
        found.add("deleted_contacts", event.object_id)
    elif change == "merge":
        found.add("contact_links", survivor)
    elif change == "propertyChange" and event.property_name in ENGAGEMENT_STAMPS:
        found.add("engagements", event.object_id)


def _company(found: _Collect, event: WebhookEvent) -> None:
    change = event.change
    if change == "associationChange":
        found.add("companies", event.object_id)
        if _association_type(event.payload).startswith("COMPANY_TO_CONTACT"):
            found.add("contact_links", positive_id(event.payload.get("toObjectId")))
        return
    if change not in _READ:
        found.ignored += 1
        return
    found.add("companies", _survivor(event))
    if change in _GONE:
        found.add("deleted_companies", event.object_id)
    elif change == "merge":
        merged = event.payload.get("mergedObjectIds")
        old = {positive_id(i) for i in merged} if isinstance(merged, list) else set()
        found.add("deleted_companies", *(old - {_survivor(event)}))


def _survivor(event: WebhookEvent) -> int:
    """The record a merge left (HubSpot names it `newObjectId` when the merge gave it a new id, else
    `primaryObjectId`); for any other event, the record itself."""
    if event.change != "merge":
        return event.object_id
    for key in ("newObjectId", "primaryObjectId"):
        value = positive_id(event.payload.get(key))
        if value is not None:
            return value
    return event.object_id


def _association_type(payload: Mapping[str, object]) -> str:
    value = payload.get("associationType")
    return value.upper() if isinstance(value, str) else ""
