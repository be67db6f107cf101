"""What the tests that run the real `hubsync` CLI against a sandbox portal share."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hubsync.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "hubsync.toml"

# The sandbox runs with rate limits off in most tests: the client's own pacing need not slow them down.
UNPACED = {
    "# requests_per_10s = 190": "requests_per_10s = 10000",
    "search_requests_per_second = 5": "search_requests_per_second = 50",
}


def config_with(tmp: Path, replacements: Mapping[str, str]) -> Path:
    """The shipped config with some lines replaced, written to `tmp`."""
    text = CONFIG.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"config/hubsync.toml no longer contains {old!r}: update this test"
        text = text.replace(old, new)
    path = tmp / "hubsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli_env(sb: Sandbox, database_url: str, config: Path, *, sandbox_clock: bool) -> dict[str, str]:
    """The environment of a `hubsync` subprocess against the sandbox; with `sandbox_clock`, it scores as of the
    portal's clock (which the test moves) instead of the machine's."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HUBSPOT_ACCESS_TOKEN": sb.token,
        "HUBSYNC_API_BASE_URL": sb.url,
        "HUBSYNC_DATABASE_URL": database_url,
        "HUBSYNC_CONFIG": str(config),
    }
    if sandbox_clock:
        env["HUBSYNC_CLOCK"] = "sandbox"
    return env
