"""Run the `hubsync` command in a subprocess against a sandbox hosted in the test process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "config" / "hubsync.toml"


def write_config(path: Path, *, per_10s: int = 10_000, search_per_second: int = 50, extra: str = "") -> Path:
    """The shipped config with the portal's budgets raised (the sandbox runs with limits off unless a test turns
    them on) and the whole history pulled (so the result does not depend on the wall clock)."""
    text = CONFIG.read_text(encoding="utf-8")
    text = text.replace("# requests_per_10s = 190", f"requests_per_10s = {per_10s}")
    text = text.replace("search_requests_per_second = 5", f"search_requests_per_second = {search_per_second}")
    text = text.replace("history_days = 730", "history_days = 3650")
    path.write_text(text + extra, encoding="utf-8")
    return path


def env(url: str, token: str, database_url: str, config: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HUBSYNC_API_BASE_URL": url,
        "HUBSPOT_ACCESS_TOKEN": token,
        "HUBSYNC_DATABASE_URL": database_url,
        "HUBSYNC_CONFIG": str(config),
    }


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hubsync", "--log-json", *args]


def run(environment: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- our own CLI with fixed arguments
        command(*args), capture_output=True, text=True, cwd=REPO, env=environment, check=False, timeout=timeout
    )
