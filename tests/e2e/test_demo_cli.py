from __future__ import annotations

import re
from pathlib import Path

from hubsync.jobs.demo import TOP_LEADS
from tests.support.cli import cli_env, run_hubsync_at_terminal
from tests.support.html_scan import PageScan


def test_demo_runs_the_whole_product_and_tells_it_in_one_screenful(tmp_path: Path) -> None:
    """The demo as `make demo` runs it, at an 80-column terminal (issue 18, acceptance 1): every step, one screenful
    (at most 80 lines, none wider than the terminal), no log line, the top leads' reasons show the week's page views."""
    db = tmp_path / "demo.db"
    run = run_hubsync_at_terminal(
        cli_env(),
        "demo",
        "--contacts",
        "400",
        "--database",
        f"sqlite:///{db}",
        cwd=tmp_path,  # no config/ here: the packaged default config is used, as after `pip install`
        timeout=300,
    )
    assert run.returncode == 0, run.transcript[-3000:]
    out, lines = run.text, run.lines
    for step in ("1. hubsync setup", "2. hubsync sync", "3. A week passes", "4. hubsync sync again"):
        assert step in out
    assert len(lines) <= 80, out
    assert max(len(line) for line in lines) <= 80, out
    # No log line of either format: at a terminal the log stays quiet unless asked.
    assert not [line for line in lines if line.startswith("{") or re.search(r"\[(debug|info|warning|error) *\]", line)]
    # The matrix has four rows and a total equal to the contacts scored on the first run.
    scored = int(re.search(r"scored ([\d,]+) contacts", out).group(1).replace(",", ""))  # type: ignore[union-attr]  # asserted by the demo's output format
    total = int(re.search(r"^\s+total\s+([\d,]+)$", out, re.MULTILINE).group(1).replace(",", ""))  # type: ignore[union-attr]  # see above
    assert total == scored > 300
    top = lines[lines.index("Top leads and why:") + 1 :]
    reasons = [line for line in top[: 2 * TOP_LEADS] if line.startswith("      ")]
    assert len(reasons) == TOP_LEADS
    assert any("pricing page" in r or "comparison" in r for r in reasons), "page views show in the reasons"
    assert re.search(r"Sales tasks open per owner \(\d+ on the first run, \d+ after", out)
    assert re.search(r"^API calls: [\d,]+ in all", out, re.MULTILINE)
    assert db.exists()
    # Issue 14: weeks of a sales team, then the calibration report in the working directory ([report] out) and its
    # headline figures.
    assert re.search(r"^5\. 12 weeks pass", out, re.MULTILINE)
    assert re.search(r"^   [\d,]+ tasks? created, [\d,]+ completed; [\d,]+ deals? won, [\d,]+ lost", out, re.MULTILINE)
    assert "6. hubsync report" in out
    assert re.search(r"^  Handed over: [\d,]+ · Sales acceptance: ", out, re.MULTILINE)
    assert re.search(r"^  A1 win rate: ", out, re.MULTILINE)
    report = PageScan((tmp_path / "hubsync-report.html").read_text(encoding="utf-8"))
    assert len(report.find("td", **{"data-segment": None})) == 16
