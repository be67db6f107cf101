"""Where the repository is, and the config it ships (`config/hubsync.toml`), which most tests load."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "config" / "hubsync.toml"
