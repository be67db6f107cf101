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
TICKETS = "tickets"
PRODUCTS = "products"
LINE_ITEMS = "line_items"
QUOTES = "quotes"
COMMUNICATIONS = "communications"
POSTAL_MAIL = "postal_mail"
LEADS = "leads"
FEEDBACK_SUBMISSIONS = "feedback_submissions"
GOALS = "goal_targets"
DEAL_SPLITS = "deal_splits"

# The types a generated portal fills with records.
OBJECT_TYPES: tuple[str, ...] = (CONTACTS, COMPANIES, DEALS, TASKS, EMAILS, CALLS, MEETINGS, NOTES)
ENGAGEMENT_TYPES: tuple[str, ...] = (TASKS, EMAILS, CALLS, MEETINGS, NOTES)
# HubSpot's other standard types: every portal has them (properties, lists, search, associations), usually empty.
OTHER_TYPES: tuple[str, ...] = (
    TICKETS,
    PRODUCTS,
    LINE_ITEMS,
    QUOTES,
    COMMUNICATIONS,
    POSTAL_MAIL,
    LEADS,
    FEEDBACK_SUBMISSIONS,
    GOALS,
    DEAL_SPLITS,
)
STANDARD_TYPES: tuple[str, ...] = OBJECT_TYPES + OTHER_TYPES

SINGULAR: dict[str, str] = {
    CONTACTS: "contact",
    COMPANIES: "company",
    DEALS: "deal",
    TASKS: "task",
    EMAILS: "email",
    CALLS: "call",
    MEETINGS: "meeting",
    NOTES: "note",
    TICKETS: "ticket",
    PRODUCTS: "product",
    LINE_ITEMS: "line_item",
    QUOTES: "quote",
    COMMUNICATIONS: "communication",
    POSTAL_MAIL: "postal_mail",
    LEADS: "lead",
    FEEDBACK_SUBMISSIONS: "feedback_submission",
    GOALS: "goal_target",
    DEAL_SPLITS: "deal_split",
}

# HubSpot's object type ids (deal splits have none the sandbox could confirm).
TYPE_IDS: dict[str, str] = {
    CONTACTS: "0-1",
    COMPANIES: "0-2",
    DEALS: "0-3",
    TICKETS: "0-5",
    PRODUCTS: "0-7",
    LINE_ITEMS: "0-8",
    QUOTES: "0-14",
    COMMUNICATIONS: "0-18",
    FEEDBACK_SUBMISSIONS: "0-19",
    TASKS: "0-27",
    NOTES: "0-46",
    MEETINGS: "0-47",
    CALLS: "0-48",
    EMAILS: "0-49",
    GOALS: "0-74",
    POSTAL_MAIL: "0-116",
    LEADS: "0-136",
}

# HubSpot accepts singular names, plural names and object type ids in paths.
TYPE_ALIASES: dict[str, str] = {
    **{t: t for t in STANDARD_TYPES},
    **{singular: t for t, singular in SINGULAR.items()},
    **{type_id: t for t, type_id in TYPE_IDS.items()},
    "goals": GOALS,
    "goal": GOALS,
}


def modified_property(object_type: str) -> str:
    return "lastmodifieddate" if object_type == CONTACTS else "hs_lastmodifieddate"


def created_property(object_type: str) -> str:
    return "createdate" if object_type in (CONTACTS, COMPANIES, DEALS, TICKETS) else "hs_createdate"


_READ_SCOPES: dict[str, str] = {
    COMPANIES: "crm.objects.companies.read",
    DEALS: "crm.objects.deals.read",
    DEAL_SPLITS: "crm.objects.deals.read",
    TICKETS: "tickets",
    PRODUCTS: "e-commerce",
    LINE_ITEMS: "e-commerce",
    QUOTES: "crm.objects.quotes.read",
    LEADS: "crm.objects.leads.read",
    GOALS: "crm.objects.goals.read",
    FEEDBACK_SUBMISSIONS: "crm.objects.feedback_submissions.read",
}


def read_scope(object_type: str) -> str:
    # Contacts and the engagement objects (communications and postal mail too) share the contacts scopes
    # (docs/hubspot.md).
    return _READ_SCOPES.get(object_type, "crm.objects.contacts.read")


def write_scope(object_type: str) -> str:
    scope = read_scope(object_type)
    return scope if "." not in scope else scope.replace(".read", ".write")


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
    # Scopes of the standard types hubsync does not read: a token with every scope reads them too.
    "tickets",
    "e-commerce",
    "crm.objects.quotes.read",
    "crm.objects.leads.read",
    "crm.objects.goals.read",
    "crm.objects.feedback_submissions.read",
    "crm.schemas.custom.read",
    "settings.users.read",
    "settings.users.teams.read",
    "crm.lists.read",
    "automation",
)


# (from, to) -> (default unlabeled type id, primary type id or None), from HubSpot's table of HubSpot-defined
# association types; task->contact is 204.
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
    # Records of one type with each other.
    (CONTACTS, CONTACTS): (449, None),
    (COMPANIES, COMPANIES): (450, None),
    (DEALS, DEALS): (451, None),
    (TICKETS, TICKETS): (452, None),
    # Tickets.
    (CONTACTS, TICKETS): (15, None),
    (TICKETS, CONTACTS): (16, None),
    (COMPANIES, TICKETS): (340, 25),
    (TICKETS, COMPANIES): (339, 26),
    (DEALS, TICKETS): (27, None),
    (TICKETS, DEALS): (28, None),
    # Engagements with companies, deals and tickets.
    (COMPANIES, CALLS): (181, None),
    (CALLS, COMPANIES): (182, None),
    (COMPANIES, EMAILS): (185, None),
    (EMAILS, COMPANIES): (186, None),
    (COMPANIES, MEETINGS): (187, None),
    (MEETINGS, COMPANIES): (188, None),
    (COMPANIES, NOTES): (189, None),
    (NOTES, COMPANIES): (190, None),
    (DEALS, CALLS): (205, None),
    (CALLS, DEALS): (206, None),
    (DEALS, EMAILS): (209, None),
    (EMAILS, DEALS): (210, None),
    (DEALS, MEETINGS): (211, None),
    (MEETINGS, DEALS): (212, None),
    (DEALS, NOTES): (213, None),
    (NOTES, DEALS): (214, None),
    (TICKETS, CALLS): (219, None),
    (CALLS, TICKETS): (220, None),
    (TICKETS, EMAILS): (223, None),
    (EMAILS, TICKETS): (224, None),
    (TICKETS, MEETINGS): (225, None),
    (MEETINGS, TICKETS): (226, None),
    (TICKETS, NOTES): (227, None),
    (NOTES, TICKETS): (228, None),
    (TICKETS, TASKS): (229, None),
    (TASKS, TICKETS): (230, None),
    # Communications (SMS, WhatsApp, LinkedIn messages) and postal mail (check).
    (CONTACTS, COMMUNICATIONS): (81, None),
    (COMMUNICATIONS, CONTACTS): (82, None),
    (TICKETS, COMMUNICATIONS): (83, None),
    (COMMUNICATIONS, TICKETS): (84, None),
    (DEALS, COMMUNICATIONS): (85, None),
    (COMMUNICATIONS, DEALS): (86, None),
    (COMPANIES, COMMUNICATIONS): (87, None),
    (COMMUNICATIONS, COMPANIES): (88, None),
    (CONTACTS, POSTAL_MAIL): (453, None),
    (POSTAL_MAIL, CONTACTS): (454, None),
    (TICKETS, POSTAL_MAIL): (455, None),
    (POSTAL_MAIL, TICKETS): (456, None),
    (DEALS, POSTAL_MAIL): (457, None),
    (POSTAL_MAIL, DEALS): (458, None),
    (COMPANIES, POSTAL_MAIL): (459, None),
    (POSTAL_MAIL, COMPANIES): (460, None),
    # Line items and quotes (check).
    (DEALS, LINE_ITEMS): (19, None),
    (LINE_ITEMS, DEALS): (20, None),
    (DEALS, QUOTES): (63, None),
    (QUOTES, DEALS): (64, None),
    (QUOTES, LINE_ITEMS): (67, None),
    (LINE_ITEMS, QUOTES): (68, None),
    (QUOTES, CONTACTS): (69, None),
    (CONTACTS, QUOTES): (70, None),
    (QUOTES, COMPANIES): (71, None),
    (COMPANIES, QUOTES): (72, None),
    # Leads (check).
    (LEADS, CONTACTS): (578, None),
    (CONTACTS, LEADS): (579, None),
    (LEADS, COMPANIES): (610, None),
    (COMPANIES, LEADS): (611, None),
}

PRIMARY_PAIRS: tuple[tuple[str, str], ...] = ((CONTACTS, COMPANIES), (DEALS, COMPANIES))


def association_labels(from_type: str, to_type: str) -> list[tuple[int, str | None]]:
    unlabeled, primary = ASSOCIATION_TYPES[(from_type, to_type)]
    labels: list[tuple[int, str | None]] = [(unlabeled, None)]
    if primary is not None:
        labels.insert(0, (primary, "Primary"))
    return labels
