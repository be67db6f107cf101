"""`hubsync sandbox serve` and `hubsync sandbox snapshot`, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import requests
from typer.testing import CliRunner

from hubsync.sandbox.cli import sandbox_app

if TYPE_CHECKING:
    from pathlib import Path

SERVE = "from hubsync.sandbox.cli import sandbox_app; sandbox_app()"


def test_serve_prints_url_and_token_and_serves() -> None:
    args = ["serve", "--contacts", "40", "--seed", "3", "--port", "0", "--tier", "professional"]
    process = subprocess.Popen(  # noqa: S603  # this interpreter, a fixed script
        [sys.executable, "-c", SERVE, *args], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert "not HubSpot" in lines[0]
        url = lines[1].split()[-1]
        token = lines[2].split()[-1]
        assert url.startswith("http://127.0.0.1:")
        response = requests.get(f"{url}/crm/v3/owners", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200
        assert response.headers["X-HubSpot-RateLimit-Max"] == "190"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_snapshot_command_writes_a_loadable_portal(tmp_path: Path) -> None:
    out = tmp_path / "portal.json"
    result = CliRunner().invoke(sandbox_app, ["snapshot", str(out), "--contacts", "30", "--seed", "2"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["portal"]["seed"] == 2
    assert doc["objects"]["contacts"]
