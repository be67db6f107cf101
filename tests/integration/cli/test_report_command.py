"""`hubsync report`: where it writes, what it prints, and how it fails (the page's content: tests/unit/report and
tests/e2e/test_report_browser.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import cli_env, run_hubsync
from tests.support.html_scan import PageScan
from tests.support.paths import DEFAULT_CONFIG


def _env(tmp_path: Path) -> dict[str, str]:
    return cli_env(f"sqlite:///{tmp_path / 'hubsync.db'}", config=DEFAULT_CONFIG)


def test_the_page_goes_to_report_out_in_the_working_directory(tmp_path: Path) -> None:
    result = run_hubsync(_env(tmp_path), "report", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    path = tmp_path / "hubsync-report.html"  # [report] out of the shipped config, relative to the working directory
    assert result.stdout == f"{path}\n"
    page = PageScan(path.read_text(encoding="utf-8"))
    assert len(page.find("td", **{"data-segment": None})) == 16
    assert "too few to judge (n=0)" in page.find("section", id="segments")[0].content


def test_json_goes_to_standard_output_or_to_out(tmp_path: Path) -> None:
    printed = run_hubsync(_env(tmp_path), "report", "--json", "--since", "2026-01-01", cwd=tmp_path, timeout=120)
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = json.loads(printed.stdout)
    assert data["since"] == "2026-01-01T00:00:00+00:00"
    target = tmp_path / "out" / "report.json"
    written = run_hubsync(
        _env(tmp_path), "report", "--json", "--since", "2026-01-01", "--out", str(target), cwd=tmp_path, timeout=120
    )
    assert written.returncode == 0, written.stderr[-2000:]
    assert written.stdout == f"{target}\n"
    again = json.loads(target.read_text(encoding="utf-8"))
    # Two runs, two moments (the periods up to now could differ across a week's end): the figures are the same.
    for key in ("since", "kpis", "segments", "funnel", "owners", "signals", "thresholds", "backtest"):
        assert again[key] == data[key], key


def test_a_bad_date_or_an_unwritable_file_is_one_line_and_an_exit_code(tmp_path: Path) -> None:
    bad = run_hubsync(_env(tmp_path), "report", "--since", "2026-02-30", cwd=tmp_path, timeout=120)
    assert bad.returncode == 2
    assert "--since" in bad.stderr
    assert not (tmp_path / "hubsync.db").exists(), "the date is checked before the database is opened"
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    unwritable = run_hubsync(_env(tmp_path), "report", "--out", str(blocked / "report.html"), log_json=False)
    assert unwritable.returncode == 1
    assert unwritable.stderr.strip().splitlines()[-1].startswith(f"hubsync: cannot write the report to {blocked}")
