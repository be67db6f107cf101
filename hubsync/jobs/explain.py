"""`hubsync explain`: one contact's score as of `now`, recomputed from the local database with every contribution.

No HubSpot call and nothing written; the stored status (for the hysteresis) and the account's stored scores are
read alongside, so the explanation matches what the last rescore stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from hubsync.errors import HubsyncError
from hubsync.records import Company, Contact
from hubsync.scoring import Explanation, LeadStatus, ScoringModel, explain_contact
from hubsync.store.reads import activities_by_contact, companies_by_id, find_contact
from hubsync.store.scores import stored_contact_status, stored_scores


@dataclass(frozen=True, slots=True)
class ContactExplained:
    contact: Contact
    company: Company | None
    explanation: Explanation
    # The account's stored score row and the contact's stored status, as the last rescore left them.
    account: Any | None
    stored_status: str | None


def explain(engine: Engine, model: ScoringModel, key: str, *, now: datetime) -> ContactExplained:
    """`key` is a HubSpot contact id or an email address."""
    with engine.connect() as conn:
        found = find_contact(conn, key)
        if found is None:
            raise HubsyncError(f"no contact {key!r} in the local database (by id or email); run `hubsync sync`")
        company = companies_by_id(conn, [found.company_id]).get(found.company_id) if found.company_id else None
        activities = activities_by_contact(conn, [found.id], until=now).get(found.id, [])
        stored = stored_contact_status(conn, found.id)
        account = stored_scores(conn, "company", [company.id]).get(company.id) if company is not None else None
    previous = LeadStatus(stored) if stored is not None else None
    explanation = explain_contact(found, company, activities, model, now=now, previous_status=previous)
    return ContactExplained(found, company, explanation, account, stored)
