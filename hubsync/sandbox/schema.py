"""What a HubSpot portal's CRM looks like: object types, association types, scopes (properties: `catalog.py`).

Names and ids follow HubSpot's public documentation. Values the sandbox could not confirm are marked "(check)".
"""

from __future__ import annotations

CONTACTS = "contacts"
COMPANIES = "companies"
DEALS = "deals"
TASKS = "tasks"
EMAILS = "emails"
CALLS = "calls"
MEETINGS = "meetings"
NOTES = "notes"

OBJECT_TYPES: tuple[str, ...] = (CONTACTS, COMPANIES, DEALS, TASKS, EMAILS, CALLS, MEETINGS, NOTES)
ENGAGEMENT_TYPES: tuple[str, ...] = (TASKS, EMAILS, CALLS, MEETINGS, NOTES)

# HubSpot accepts singular names, plural names and object type ids in paths.
TYPE_ALIASES: dict[str, str] = {
    **{t: t for t in OBJECT_TYPES},
    "contact": CONTACTS,
    "company": COMPANIES,
    "deal": DEALS,
    "task": TASKS,
    "email": EMAILS,
    "call": CALLS,
    "meeting": MEETINGS,
    "note": NOTES,
    "0-1": CONTACTS,
    "0-2": COMPANIES,
    "0-3": DEALS,
    "0-27": TASKS,
    "0-49": EMAILS,
    "0-48": CALLS,
    "0-47": MEETINGS,
    "0-46": NOTES,
}

SINGULAR: dict[str, str] = {
    CONTACTS: "contact",
    COMPANIES: "company",
    DEALS: "deal",
    TASKS: "task",
    EMAILS: "email",
    CALLS: "call",
    MEETINGS: "meeting",
    NOTES: "note",
}


def modified_property(object_type: str) -> str:
    return "lastmodifieddate" if object_type == CONTACTS else "hs_lastmodifieddate"


def created_property(object_type: str) -> str:
    return "createdate" if object_type in (CONTACTS, COMPANIES, DEALS) else "hs_createdate"


def read_scope(object_type: str) -> str:
    if object_type == COMPANIES:
        return "crm.objects.companies.read"
    if object_type == DEALS:
        return "crm.objects.deals.read"
    # Engagement objects are covered by the contacts scopes (docs/hubspot.md).
    return "crm.objects.contacts.read"


def write_scope(object_type: str) -> str:
    return read_scope(object_type).replace(".read", ".write")


def schema_scopes(object_type: str) -> tuple[str, ...]:
    """Any one of these lets a token read an object type's property definitions."""
    base = object_type if object_type in (CONTACTS, COMPANIES, DEALS) else CONTACTS
    return (f"crm.schemas.{base}.read", f"crm.schemas.{base}.write", read_scope(object_type))


ALL_SCOPES: tuple[str, ...] = (
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.owners.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.write",
    "content",
    "forms",
    "crm.objects.marketing_events.read",
)


# (from, to) -> (default unlabeled type id, primary type id or None).
# Ids from HubSpot's association type table; task->contact is 204.
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, int | None]] = {
    (CONTACTS, COMPANIES): (279, 1),
    (COMPANIES, CONTACTS): (280, 2),
    (DEALS, CONTACTS): (3, None),
    (CONTACTS, DEALS): (4, None),
    (DEALS, COMPANIES): (341, 5),
    (COMPANIES, DEALS): (342, 6),
    (CONTACTS, TASKS): (203, None),
    (TASKS, CONTACTS): (204, None),
    (CONTACTS, NOTES): (201, None),
    (NOTES, CONTACTS): (202, None),
    (CONTACTS, CALLS): (193, None),
    (CALLS, CONTACTS): (194, None),
    (CONTACTS, EMAILS): (197, None),
    (EMAILS, CONTACTS): (198, None),
    (CONTACTS, MEETINGS): (199, None),
    (MEETINGS, CONTACTS): (200, None),
    (COMPANIES, TASKS): (191, None),
    (TASKS, COMPANIES): (192, None),
    (DEALS, TASKS): (215, None),
    (TASKS, DEALS): (216, None),
}


PRIMARY_PAIRS: tuple[tuple[str, str], ...] = ((CONTACTS, COMPANIES), (DEALS, COMPANIES))


def association_labels(from_type: str, to_type: str) -> list[tuple[int, str | None]]:
    unlabeled, primary = ASSOCIATION_TYPES[(from_type, to_type)]
    labels: list[tuple[int, str | None]] = [(unlabeled, None)]
    if primary is not None:
        labels.insert(0, (primary, "Primary"))
    return labels
