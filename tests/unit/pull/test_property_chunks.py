"""Long property lists are requested in chunks that keep the URL short (414 URI too long otherwise)."""

from __future__ import annotations

from hubsync.hubspot.streams.crm import MAX_PROPERTY_CHARS, property_chunks


def test_short_list_is_one_chunk() -> None:
    assert property_chunks(["email", "firstname"]) == [["email", "firstname"]]


def test_long_list_is_split_within_the_limit_keeping_every_name_once() -> None:
    names = [f"custom_property_number_{i:04d}" for i in range(400)] + ["email", "email"]
    chunks = property_chunks(names)
    assert len(chunks) > 1
    assert all(len(",".join(chunk)) <= MAX_PROPERTY_CHARS for chunk in chunks)
    flat = [name for chunk in chunks for name in chunk]
    assert flat == list(dict.fromkeys(names))
