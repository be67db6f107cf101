"""Long property lists: a pull that asks for hundreds of properties requests them in chunks and merges each page by
id, so no request URL grows past the limit and the stored records are the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from hubsync.hubspot.streams.crm import MAX_PROPERTY_CHARS
from hubsync.jobs.pull import PullOptions
from hubsync.sandbox.server import start_sandbox

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


def test_long_property_lists_are_chunked(make_puller: Callable[..., Any]) -> None:
    extra = tuple(f"custom_scoring_property_{i:03d}" for i in range(200))
    assert len(",".join(extra)) > 2 * MAX_PROPERTY_CHARS
    with start_sandbox(contacts=150, seed=4, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        sb.portal.update("contacts", sb.portal.stores["contacts"].live[0], {extra[-1]: "late in the list"})
        puller = make_puller(sb, PullOptions(contact_properties=extra, streams=frozenset({"contacts"})))
        puller()
        by_operation = puller.client.stats().by_operation
        with puller.engine.connect() as conn:
            properties = conn.execute(
                sa.text("SELECT properties FROM contact WHERE id = :id"), {"id": sb.portal.stores["contacts"].live[0]}
            ).scalar_one()
    # Two list pages of live contacts (150 + the merged duplicates), each in 3 or more chunks, plus the archived.
    assert by_operation["list contacts"] >= 2 * 3
    assert "late in the list" in str(properties)
    want = expected(sb.portal, run_started=puller.now())
    diff = differences({"contacts": want["contacts"]}, stored(puller.engine))
    # The property asked for at the end of the list is stored too; everything else is as the portal holds it.
    assert set(diff) <= {"contacts"}
    assert all(item[0] == sb.portal.stores["contacts"].live[0] for item in diff.get("contacts", {}).get("wrong", []))
