from __future__ import annotations

import re
from pathlib import Path

from tests.support.cli import cli_env, run_hubsync


def test_demo_runs_the_whole_product_and_reports_it(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run_hubsync(
        cli_env(),
        "demo",
        "--contacts",
        "400",
        "--database",
        f"sqlite:///{db}",
        log_json=False,
        cwd=tmp_path,  # no config/ here: the packaged default config is used, as after `pip install`
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for step in ("1. hubsync setup", "2. hubsync sync", "3. A week passes", "4. hubsync sync again"):
        assert step in out
    # The matrix has four rows and a total equal to the contacts scored on the first run.
    scored = int(re.search(r"scored ([\d,]+) contacts", out).group(1).replace(",", ""))  # type: ignore[union-attr]  # asserted by the demo's output format
    total = int(re.search(r"^\s+total\s+([\d,]+)$", out, re.MULTILINE).group(1).replace(",", ""))  # type: ignore[union-attr]  # see above
    assert total == scored > 300
    assert "Top leads and why:" in out
    assert re.search(r"Sales tasks open per owner \(\d+ on the first run, \d+ after", out)
    assert re.search(r"API calls: [\d,]+ in all", out)
    assert db.exists()
