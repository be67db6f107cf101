"""Copies of the shipped config with some lines replaced, for tests that hand a config file to `hubsync`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.paths import DEFAULT_CONFIG

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

# The sandbox runs with rate limits off in most tests: the client's own pacing need not slow them down.
UNPACED_CONFIG = {
    "# requests_per_10s = 190": "requests_per_10s = 10000",
    "search_requests_per_second = 5": "search_requests_per_second = 50",
}
# The whole history of a generated portal (three years), so that what a pull stores does not depend on the wall clock.
WHOLE_HISTORY = {"history_days = 730": "history_days = 3650"}


def config_with(tmp: Path, replacements: Mapping[str, str]) -> Path:
    """The shipped config with some lines replaced, written to `tmp`."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"config/hubsync.toml no longer contains {old!r}: update this test"
        text = text.replace(old, new)
    path = tmp / "hubsync.toml"
    path.write_text(text, encoding="utf-8")
    return path
