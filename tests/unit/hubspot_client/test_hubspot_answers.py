"""Strict pages and odd values, pure: the shapes a page must have, reading a body, ids that fit 64 bits, texts a
database can hold, and Retry-After values that are numbers of seconds."""

from __future__ import annotations

from typing import Any

import pytest

from hubsync.hubspot.answers import BadBody, created_object, email_events_page, not_null, parse_json, results_page
from hubsync.hubspot.classify import retry_after_seconds
from hubsync.hubspot.mapping import contact_from_hubspot, owner_from_hubspot
from hubsync.hubspot.values import MAX_ID, Skip, clean, parse_id, properties_of, text
from hubsync.records import Contact


@pytest.mark.parametrize(
    "answer",
    [
        {"results": []},
        {"results": [{"id": "1"}], "paging": {"next": {"after": "2", "link": "…"}}},
        {"results": [{"id": "1"}], "paging": {}},
        {"results": [], "total": 0},
    ],
)
def test_a_results_page_passes(answer: Any) -> None:
    assert results_page(answer) is None


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (None, "JSON null"),
        ([], "a JSON list, not an object"),
        ("text", "a JSON str, not an object"),
        ({}, 'no "results" list'),
        ({"results": None}, 'no "results" list'),
        ({"results": {"id": "1"}}, 'no "results" list'),
        ({"results": [1, 2]}, '"results" holds something that is not an object'),
        ({"results": [], "paging": {"next": {}}}, '"paging" without a "next.after" token'),
        ({"results": [], "paging": "next"}, '"paging" without a "next.after" token'),
    ],
)
def test_anything_else_is_not_a_results_page(answer: Any, problem: str) -> None:
    assert results_page(answer) == problem


def test_email_events_pages() -> None:
    assert email_events_page({"events": [], "hasMore": False}) is None
    assert email_events_page({"events": [{"id": "e"}], "hasMore": True, "offset": "abc"}) is None
    assert email_events_page({"results": []}) == 'no "events" list'
    assert email_events_page({"events": []}) == 'no "hasMore" flag'
    assert email_events_page({"events": [], "hasMore": True}) == '"hasMore" without an "offset"'
    assert email_events_page([]) == "a JSON list, not an object"


def test_a_created_record_has_an_id() -> None:
    assert created_object({"id": "7", "properties": {}}) is None
    assert created_object({}) == 'no "id"'
    assert created_object([]) == "a JSON list, not an object"
    assert not_null(None) == "JSON null"
    assert not_null([]) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "an empty body"),
        (b'{"results": [', "a body that is not JSON"),
        (b"null", "JSON null"),
        (b"[]", "a JSON list, not an object"),
    ],
)
def test_a_body_that_is_not_the_page_is_a_bad_body(body: bytes, problem: str) -> None:
    with pytest.raises(BadBody) as raised:
        parse_json(body, 200, {"X": "y"}, results_page)
    assert (raised.value.problem, raised.value.status) == (problem, 200)


def test_without_a_shape_no_body_is_none_and_json_is_json() -> None:
    # A create that answers 204, a probe: no shape asked, nothing to check but that JSON is JSON.
    assert parse_json(b"", 204, None, None) is None
    assert parse_json(b"[1]", 200, None, None) == [1]
    with pytest.raises(BadBody, match="not JSON"):
        parse_json(b"<html>", 200, None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (MAX_ID, MAX_ID),
        (str(MAX_ID), MAX_ID),
        (MAX_ID + 1, None),
        (str(MAX_ID + 1), None),
        ("1" * 400, None),
        (2**64, None),
        (float(2**64), None),
        (float("inf"), None),
        (0, None),
        ("0", None),
        ("0001", 1),
        ("²", None),
        ("١٢", None),
    ],
)
def test_ids_are_1_to_64_bits(value: Any, expected: int | None) -> None:
    assert parse_id(value) == expected


def test_a_record_whose_id_is_beyond_64_bits_is_a_skip() -> None:
    assert isinstance(contact_from_hubspot({"id": str(2**64), "properties": {"email": "a@b.example"}}), Skip)
    assert isinstance(owner_from_hubspot({"id": str(2**63), "email": "o@b.example"}), Skip)
    # An id field of a record that is not its own id (an owner, a company) beyond 64 bits is unknown, not a Skip.
    contact = contact_from_hubspot({"id": "5", "properties": {"hubspot_owner_id": str(2**70)}})
    assert isinstance(contact, Contact)
    assert contact.owner_id is None


def test_texts_lose_what_a_database_text_column_refuses() -> None:
    assert clean("Ana\x00Maria") == "AnaMaria"
    assert clean("Jörg\x00\ud800 Müller") == "Jörg Müller"
    assert clean("plain") == "plain"
    assert text("\x00") is None
    assert properties_of({"properties": {"firstname": "A\x00na", "num\x00ber": 5, "gone": None}}) == {
        "firstname": "Ana",
        "number": "5",
    }
    contact = contact_from_hubspot({"id": "5", "properties": {"firstname": "Ana\x00", "company": "ACME\x00 GmbH"}})
    assert isinstance(contact, Contact)
    assert contact.firstname == "Ana"
    assert contact.properties["company"] == "ACME GmbH"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("3600", 3600.0),
        ("0", 0.0),
        ("1e999", None),
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("-5", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_is_a_finite_number_of_seconds_or_absent(value: str, seconds: float | None) -> None:
    assert retry_after_seconds({"Retry-After": value}) == seconds
