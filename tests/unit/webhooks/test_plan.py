"""What a batch of events asks to read again (pure), and the pure parts of processing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hubsync.jobs.webhooks import Conversion, conversions, forms_to_read
from hubsync.records import WebhookEvent
from hubsync.webhooks.plan import Reads, plan_reads

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ids = iter(range(1, 10**9))


def _event(kind: str, object_id: int, **payload: Any) -> WebhookEvent:
    name = payload.get("propertyName")
    return WebhookEvent(next(_ids), kind, object_id, AT, property_name=name, payload=payload)


def test_an_event_storm_about_a_hundred_contacts_reads_a_hundred_contacts() -> None:
    storm = [
        _event("contact.propertyChange", 1000 + i % 100, propertyName="jobtitle", propertyValue=str(i))
        for i in range(10_000)
    ]
    reads = plan_reads(storm)
    assert reads.contacts == frozenset(range(1000, 1100))
    assert reads == Reads(contacts=frozenset(range(1000, 1100)))


def test_each_kind_of_contact_event() -> None:
    reads = plan_reads(
        [
            _event("contact.creation", 1),
            _event("contact.restore", 2),
            _event("contact.deletion", 3),
            _event("contact.privacyDeletion", 4),
            _event("contact.merge", 5, primaryObjectId=6, mergedObjectIds=[5, 7]),
            _event("contact.associationChange", 8, associationType="CONTACT_TO_COMPANY", toObjectId=900),
            _event("contact.propertyChange", 9, propertyName="notes_last_updated"),
            _event("contact.somethingNew", 10),
            _event("deal.propertyChange", 11, propertyName="dealstage"),
        ]
    )
    assert reads == Reads(
        contacts=frozenset({1, 2, 3, 4, 6, 9}),
        companies=frozenset({900}),
        deleted_contacts=frozenset({3, 4}),
        contact_links=frozenset({6, 8}),
        engagements=frozenset({9}),
        ignored=2,
    )


def test_a_merge_that_made_a_new_record_reads_the_new_one() -> None:
    reads = plan_reads([_event("contact.merge", 5, primaryObjectId=6, newObjectId=77, mergedObjectIds=[5, 6])])
    assert reads.contacts == {77}


def test_company_events() -> None:
    reads = plan_reads(
        [
            _event("company.propertyChange", 100, propertyName="numberofemployees"),
            _event("company.deletion", 101),
            _event("company.merge", 102, primaryObjectId=103, mergedObjectIds=[102, 104]),
            _event("company.associationChange", 105, associationType="COMPANY_TO_CONTACT", toObjectId=7),
        ]
    )
    assert reads == Reads(
        companies=frozenset({100, 101, 103, 105}),
        deleted_companies=frozenset({101, 102, 104}),
        contact_links=frozenset({7}),
    )


NAMES = {"g-demo": "Demo anfragen", "g-ebook": "E-Book: Lead Scoring", "g-demo-2": "Demo"}


def test_the_form_a_conversion_names_is_read_alone() -> None:
    assert forms_to_read(NAMES, "Demo anfragen") == ["g-demo"]
    # HubSpot may put the page's title in front; the longest form name it contains wins.
    assert forms_to_read(NAMES, "Produktseite: demo anfragen") == ["g-demo"]


def test_a_conversion_without_a_known_form_reads_every_form() -> None:
    assert forms_to_read(NAMES, None) == sorted(NAMES)
    assert forms_to_read(NAMES, "Kontaktformular") == sorted(NAMES)


def _contact(contact_id: int, converted: datetime | None, name: str | None = "Demo anfragen") -> dict[str, Any]:
    props = {
        "recent_conversion_date": converted.isoformat() if converted else None,
        "recent_conversion_event_name": name,
    }
    return {"id": str(contact_id), "properties": props}


def test_a_conversion_is_a_newer_recent_conversion_date() -> None:
    recent = AT - timedelta(minutes=10)
    found = list(
        conversions(
            [
                _contact(1, AT),  # new contact, converted now
                _contact(2, AT, name=""),  # converted now, no form name
                _contact(3, AT - timedelta(days=1)),  # converted long ago: old news
                _contact(4, AT),  # held with the same date: nothing new
                _contact(5, AT + timedelta(seconds=1)),  # held with an earlier date: new
                _contact(6, None),
            ],
            {4: AT, 5: AT},
            recent=recent,
        )
    )
    assert found == [
        Conversion(1, AT, "Demo anfragen"),
        Conversion(2, AT, None),
        Conversion(5, AT + timedelta(seconds=1), "Demo anfragen"),
    ]
