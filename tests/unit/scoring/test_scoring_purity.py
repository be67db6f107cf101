"""hubsync/scoring stays pure: no import of the I/O layers or settings, no reading of the clock or environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

SCORING = REPO / "hubsync" / "scoring"
FORBIDDEN_MODULES = ("hubsync.hubspot", "hubsync.store", "hubsync.settings", "hubsync.jobs", "hubsync.cli")
# Attribute calls that read the clock or the environment, whatever the object is called (datetime.now(),
# dt.datetime.utcnow(), date.today(), time.time(), …).
CLOCK_ATTRIBUTES = {"now", "utcnow", "today", "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter"}
FORBIDDEN_NAMES = {"time", "monotonic", "perf_counter", "getenv", "environ"}


def violations(source: str, filename: str = "<source>") -> list[str]:
    found: list[str] = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import is resolved against hubsync/scoring/<file>.py.
            package = ["hubsync", "scoring"][: max(0, 3 - node.level)] if node.level else []
            base = ".".join([*package, *([node.module] if node.module else [])])
            modules = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            if base in {"time", "os"}:
                found.extend(
                    f"{filename}:{node.lineno}: imports {base}.{a.name}"
                    for a in node.names
                    if a.name in FORBIDDEN_NAMES
                )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CLOCK_ATTRIBUTES:
                found.append(f"{filename}:{node.lineno}: calls .{node.func.attr}()")
            continue
        elif isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
            found.append(f"{filename}:{node.lineno}: reads the environment")
            continue
        else:
            continue
        found.extend(
            f"{filename}:{node.lineno}: imports {module}"
            for module in modules
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN_MODULES)
        )
    return found


def scoring_sources() -> list[Path]:
    sources = sorted(SCORING.rglob("*.py"))
    assert len(sources) >= 5, f"expected the scoring modules under {SCORING}"
    return sources


@pytest.mark.parametrize("path", scoring_sources(), ids=lambda p: p.name)
def test_scoring_module_is_pure(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize(
    "source",
    [
        "from hubsync.store import tables",
        "import hubsync.hubspot.client",
        "from hubsync import settings",
        "from hubsync.settings import load",
        "from datetime import datetime\nx = datetime.now(UTC)",
        "import datetime\nx = datetime.datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "import time\nx = time.time()",
        "import time\nx = time.monotonic()",
        "from time import time",
        "import os\nx = os.environ['A']",
        "import os\nx = os.getenv('A')",
        "from .. import store",
    ],
)
def test_the_scan_catches_what_it_forbids(source: str) -> None:
    assert violations(source) != []


def test_the_scan_allows_what_scoring_needs() -> None:
    source = (
        "from datetime import UTC, datetime, timedelta\n"
        "from hubsync.records import Activity\n"
        "from hubsync.validation import ConfigModel\n"
        "x = datetime.fromtimestamp(0, UTC) + timedelta(days=1)\n"
    )
    assert violations(source) == []
