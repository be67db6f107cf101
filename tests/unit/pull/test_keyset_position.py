"""Where the next search page starts: the highest id HubSpot sent, even one hubsync rejects as a record."""

from __future__ import annotations

import pytest

from hubsync.errors import MalformedAnswer
from hubsync.hubspot.streams import crm
from hubsync.jobs.pull.crm import _keyset_position

SPEC = crm.ObjectSpec("contacts", "contacts", crm.CONTACT_PROPERTIES)
BEYOND_64_BITS = 2**64 + 7


def test_ids_beyond_64_bits_still_move_the_page_on() -> None:
    page = [{"id": "1001"}, {"id": str(BEYOND_64_BITS)}]
    assert _keyset_position(SPEC, page, more=True) == BEYOND_64_BITS


def test_a_page_of_only_rejected_ids_moves_on_instead_of_asking_for_itself_again() -> None:
    page = [{"id": str(BEYOND_64_BITS + n)} for n in range(200)]
    assert _keyset_position(SPEC, page, more=True) == BEYOND_64_BITS + 199


def test_a_full_page_without_any_numeric_id_fails_the_stream() -> None:
    with pytest.raises(MalformedAnswer, match="without one numeric id"):
        _keyset_position(SPEC, [{"id": "abc"}, {"id": None}], more=True)


def test_the_last_page_may_be_empty() -> None:
    assert _keyset_position(SPEC, [], more=False) is None
