"""Names for the ids a rendering prints: contacts, companies and owners as people know them. Filled from the local
database by `jobs/names.py`; an id nobody named stays an id ("contact 123")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Names:
    contacts: Mapping[int, str] = field(default_factory=dict)
    companies: Mapping[int, str] = field(default_factory=dict)
    owners: Mapping[int, str] = field(default_factory=dict)

    def contact(self, contact_id: int) -> str:
        return self.contacts.get(contact_id, f"contact {contact_id}")

    def owner(self, owner_id: int | None) -> str:
        if owner_id is None:
            return "no owner"
        return self.owners.get(owner_id, f"owner {owner_id}")

    def record(self, object_type: str, object_id: int) -> str:
        """A contact or a company, with its kind: "contact Anna Schmidt <anna@acme.de>", "company Acme GmbH"."""
        if object_type == "companies":
            return f"company {self.companies.get(object_id, object_id)}"
        return f"contact {self.contacts.get(object_id, object_id)}"
