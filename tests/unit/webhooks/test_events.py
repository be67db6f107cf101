from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hubsync.webhooks.events import MAX_EVENTS, MalformedBatch, parse_batch


def _body(*events: object) -> bytes:
    return json.dumps(list(events)).encode()


EVENT = {
    "eventId": 3954383425,
    "subscriptionId": 12345,
    "portalId": 62515,
    "appId": 54321,
    "occurredAt": 1564113600000,
    "subscriptionType": "contact.propertyChange",
    "attemptNumber": 2,
    "objectId": 123,
    "propertyName": "recent_conversion_date",
    "propertyValue": "1564113600000",
    "changeSource": "FORM",
}


def test_a_hubspot_batch_becomes_events() -> None:
    association = {
        "eventId": 7,
        "occurredAt": 1564113600001,
        "subscriptionType": "contact.associationChange",
        "fromObjectId": 123,
        "toObjectId": 456,
        "associationType": "CONTACT_TO_COMPANY",
        "associationRemoved": False,
    }
    [change, link] = parse_batch(_body(EVENT, association))
    assert change.event_id == 3954383425
    assert (change.object_type, change.change) == ("contact", "propertyChange")
    assert change.object_id == 123
    assert change.occurred_at == datetime(2019, 7, 26, 4, 0, tzinfo=UTC)
    assert (change.attempt_number, change.portal_id, change.property_name) == (2, 62515, "recent_conversion_date")
    assert change.payload["changeSource"] == "FORM"
    # An association change names no objectId: the record it happened to is `fromObjectId`.
    assert (link.object_id, link.payload["toObjectId"]) == (123, 456)


def test_ids_as_strings_of_digits_are_read() -> None:
    [event] = parse_batch(_body({**EVENT, "eventId": "42", "objectId": "7"}))
    assert (event.event_id, event.object_id) == (42, 7)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "not JSON"),
        (b"[{", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"eventId": 1}', "not a JSON array"),
        (_body(1), "not a JSON object"),
        (_body({**EVENT, "eventId": None}), "positive integers"),
        (_body({**EVENT, "eventId": True}), "positive integers"),
        (_body({**EVENT, "eventId": -5}), "positive integers"),
        (_body({**EVENT, "objectId": 2**63}), "positive integers"),
        (_body({**EVENT, "occurredAt": "yesterday"}), "positive integers"),
        (_body({**EVENT, "occurredAt": 10**20}), "positive integers"),
        (_body({k: v for k, v in EVENT.items() if k != "objectId"}), "positive integers"),
        (_body({**EVENT, "subscriptionType": "contact"}), "subscriptionType"),
        (_body({**EVENT, "subscriptionType": 5}), "subscriptionType"),
        (_body(*[EVENT] * (MAX_EVENTS + 1)), "more than"),
    ],
)
def test_a_body_that_is_not_a_batch_is_malformed(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedBatch, match=problem):
        parse_batch(body)


def test_an_empty_batch_is_no_events() -> None:
    assert parse_batch(b"[]") == []
