"""Who the ids in a command's output are: contacts, companies and owners by name, read from the local database, so
what a person reads names people ("Anna Schmidt <anna@acme.de>") instead of HubSpot ids."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from hubsync.hubspot.properties import COMPANIES, CONTACTS
from hubsync.records import Contact
from hubsync.render.names import Names
from hubsync.render.push import FAILURES_SHOWN
from hubsync.store.reads import companies_by_id, contacts_by_id
from hubsync.store.tasks import owners

if TYPE_CHECKING:
    from hubsync.jobs.push import PushResult


def contact_label(contact: Contact) -> str:
    """The name and the address when both are known, else whichever is."""
    if contact.full_name and contact.email:
        return f"{contact.full_name} <{contact.email}>"
    return contact.display_name


def read_names(engine: Engine, *, contacts: Collection[int] = (), companies: Collection[int] = ()) -> Names:
    """The names of the given contacts and companies (one hubsync does not hold keeps its id) and of every owner."""
    with engine.connect() as conn:
        people = contacts_by_id(conn, contacts) if contacts else {}
        firms = companies_by_id(conn, companies)
        staff = owners(conn)
    return Names(
        contacts={i: contact_label(c) for i, c in people.items()},
        companies={i: c.name or c.domain or f"company {i}" for i, c in firms.items()},
        owners={o.id: o.display_name for o in staff},
    )


def push_names(engine: Engine, result: PushResult) -> Names:
    """The names a push's text needs: the sampled and refused records, the contacts and companies of planned tasks,
    the owners."""
    records = [(c.object_type, c.object_id) for c in result.sample]
    records += [(f.object_type, f.object_id) for f in result.failures[:FAILURES_SHOWN]]
    if result.tasks is not None:
        records += [(CONTACTS, contact) for contact, _, _ in result.tasks.planned]
        records += [(COMPANIES, company) for company, _, _ in result.tasks.planned_accounts]
    return read_names(
        engine,
        contacts={i for t, i in records if t == CONTACTS},
        companies={i for t, i in records if t == COMPANIES},
    )
