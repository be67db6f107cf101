"""The typed cursors read every JSON shape `sync_cursor` holds and write it back unchanged, so a database written
before the cursors were typed keeps working. The shapes are those the pull stores (taken from a run against the
sandbox portal)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hubsync.hubspot.cursors import (
    AssociationsCursor,
    CrmCursor,
    DeletionsCursor,
    FormsCursor,
    LogCursor,
    MarketingEventsCursor,
)

Cursor = type[CrmCursor | LogCursor | FormsCursor | MarketingEventsCursor | AssociationsCursor | DeletionsCursor]

A = "2025-06-02T06:00:00.000Z"
B = "2025-06-02T08:42:00.000Z"
OLD = "2023-06-03T06:00:00.000Z"
FORMS = {"617959ce-3f1f-45a8-ae52-71007814e8a2": "E-Book: Lead Scoring für den Mittelstand", "015c33b2": "Demo"}

# Written byte for byte as they are stored (same keys, same order).
SHAPES: list[tuple[Cursor, dict[str, Any]]] = [
    (CrmCursor, {"mode": "full", "after": "1171", "started": A}),
    (CrmCursor, {"mode": "incremental", "synced_to": A}),
    (CrmCursor, {"mode": "incremental", "synced_to": A, "window": [OLD, B], "after_id": 5200}),
    (LogCursor, {"synced_to": A}),
    (LogCursor, {"window": [OLD, A], "position": "1000"}),
    (LogCursor, {"window": [OLD, B], "position": "2000", "synced_to": A}),
    (LogCursor, {"synced_to": A, "unavailable": True, "checked_at": B}),
    (FormsCursor, {"forms": FORMS, "forms_at": A, "synced_to": B}),
    (FormsCursor, {"forms": FORMS, "forms_at": A, "window": [OLD, A], "form_index": 1, "position": None}),
    (FormsCursor, {"forms": FORMS, "forms_at": A, "synced_to": A, "window": [A, B], "form_index": 0, "position": "5"}),
    (FormsCursor, {"forms": FORMS, "forms_at": A, "synced_to": B, "window": [OLD, B], "position": None, "poll": True}),
    (
        MarketingEventsCursor,
        {"reconciled_at": A, "fingerprints": {"1001": "0|0|0|0|x"}, "event": None, "position": None},
    ),
    (MarketingEventsCursor, {"reconciled_at": A, "fingerprints": {}, "event": "1002", "position": "100"}),
    (MarketingEventsCursor, {"reconciled_at": None, "fingerprints": {}, "event": None, "position": None}),
    (AssociationsCursor, {"reconciled_at": A, "recent_after": 1082}),
    (AssociationsCursor, {"reconciled_at": None, "recent_after": 1082}),
    (DeletionsCursor, {"swept_at": A}),
]


@pytest.mark.parametrize(("cursor", "shape"), SHAPES)
def test_stored_shapes_round_trip_byte_for_byte(cursor: Cursor, shape: dict[str, Any]) -> None:
    assert json.dumps(cursor.from_json(shape).to_json()) == json.dumps(shape)


# Shapes some paths wrote with their keys in another order (a backfill), or with a key no reader uses: read the
# same, written back in the order of the other paths.
NORMALISED: list[tuple[Cursor, dict[str, Any], dict[str, Any]]] = [
    (
        LogCursor,
        {"synced_to": B, "window": [OLD, B], "position": None},
        {"window": [OLD, B], "position": None, "synced_to": B},
    ),
    (
        FormsCursor,
        {"forms": FORMS, "synced_to": B, "window": [OLD, B], "position": None, "poll": True, "form_index": 1},
        {"forms": FORMS, "synced_to": B, "window": [OLD, B], "form_index": 1, "position": None, "poll": True},
    ),
    # A backfill gave the associations cursor the marketing events' empty fingerprints.
    (
        AssociationsCursor,
        {"reconciled_at": None, "recent_after": 7, "fingerprints": {}},
        {"reconciled_at": None, "recent_after": 7},
    ),
    (
        MarketingEventsCursor,
        {"reconciled_at": A, "fingerprints": {}},
        {"reconciled_at": A, "fingerprints": {}, "event": None, "position": None},
    ),
]


@pytest.mark.parametrize(("cursor", "stored", "written"), NORMALISED)
def test_other_stored_orders_read_the_same(cursor: Cursor, stored: dict[str, Any], written: dict[str, Any]) -> None:
    parsed = cursor.from_json(stored)
    assert json.dumps(parsed.to_json()) == json.dumps(written)
    assert cursor.from_json(written) == parsed


def test_nothing_stored_reads_as_a_fresh_cursor() -> None:
    assert CrmCursor.from_json(None) == CrmCursor()
    assert LogCursor.from_json(None).to_json() == {}
    assert FormsCursor.from_json({}).to_json() == {}
