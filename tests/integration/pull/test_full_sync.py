"""Acceptance 1: a full sync of a 2,000-contact portal equals the sandbox's state, record by record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hubsync.sandbox.server import start_sandbox

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


@pytest.mark.slow
def test_full_sync_equals_portal(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=2000, seed=7, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        puller = make_puller(sb)
        result = puller()
        want = expected(sb.portal, run_started=puller.now())
        assert differences(want, stored(puller.engine)) == {}
        # Every section is non-trivial, so equality means something.
        assert all(len(want[k]) > 0 for k in want)
        assert result.stopped is None
        assert len(result.touched_contacts) >= len(want["contacts"]) - sum(
            1 for c in want["contacts"].values() if c["archived_at"] is not None
        )
