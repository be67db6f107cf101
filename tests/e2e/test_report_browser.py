"""The calibration report as an admin opens it: the HTML file `hubsync report` wrote, in headless Chromium (Debian's
`chromium`, driven by Playwright without a browser download of its own). The DOM shows the figures of
`hubsync report --json` for the same database, and the page makes no request besides its own file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from hubsync.render.report import formats
from hubsync.scoring.segments import SEGMENTS
from tests.support.cli import cli_env, run_hubsync
from tests.support.config import config_with
from tests.support.simulated_report import simulated_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The raw figure each KPI tile carries next to the text it shows.
_DATA_VALUES = "tiles => tiles.map(t => t.dataset.value)"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = "Chromium is not installed (apt-get install chromium; .ci/run installs it where it is missing)"
        # In CI a green run must mean the page was opened in a browser.
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The HTML file and the JSON that two runs of `hubsync report` made of one database: a sandbox portal that
    lived through 91 days with a sales team, synced weekly, the report as of the portal's clock."""
    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'hubsync.db'}"
    with simulated_run(url, contacts=200, every=7, full_every=None) as run:
        # A smaller minimum than the shipped 30, so that the small portal shows judged figures beside unjudged ones.
        config = config_with(folder, {"min_n = 30": "min_n = 10"})
        env = cli_env(url, sandbox=run.sandbox, config=config, sandbox_clock=True)
        as_json = run_hubsync(env, "report", "--json", timeout=120)
        path = folder / "out" / "report.html"
        as_html = run_hubsync(env, "report", "--out", str(path), timeout=120)
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    assert as_html.returncode == 0, as_html.stderr[-2000:]
    assert as_html.stdout.strip() == str(path.resolve())
    data: dict[str, Any] = json.loads(as_json.stdout)
    return path, data


def test_the_page_shows_the_json_figures_and_loads_nothing(report: tuple[Path, dict[str, Any]]) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (only where Chromium is)

    path, data = report
    url = path.resolve().as_uri()
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.on("request", lambda r: requests.append(r.url))
            page = context.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")

            cells = page.locator("td[data-segment]")
            assert cells.count() == 16
            segments = {s["segment"]: s for s in data["segments"]}
            shown_segments = []
            for i in range(16):
                cell = cells.nth(i)
                name = cell.get_attribute("data-segment")
                shown_segments.append(name)
                segment = segments[name]
                text = " ".join(cell.inner_text().split())
                rate = formats.judged_figure("rate", segment["win_rate"], segment["contacts"], judged=segment["judged"])
                assert rate in text, (name, text)
                assert f"{formats.count(segment['won'])} won of {formats.count(segment['contacts'])}" in text
                box = cell.bounding_box()
                assert box is not None
                assert box["width"] > 100
                assert box["height"] > 40
            assert shown_segments == list(SEGMENTS)

            tiles = page.locator("[data-kpi] .tile-value")
            shown = [" ".join(t.split()) for t in tiles.all_inner_texts()]
            assert shown == [formats.kpi(k) for k in data["kpis"]]
            values = [json.loads(v or "null") for v in page.locator("[data-kpi]").evaluate_all(_DATA_VALUES)]
            assert values == [k["value"] for k in data["kpis"]]
            assert page.locator("header .period").inner_text().endswith(formats.moment(data["generated_at"]))

            advised = page.locator("p[data-advised]")
            assert advised.inner_text() == data["threshold_advice"]["text"]
            assert page.locator("svg.chart").count() == 2
            owners = page.locator("tr[data-owner] th").all_inner_texts()
            assert owners == [o["owner_name"] for o in data["owners"]]

            shot = path.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)
            print(f"report screenshot: {shot}")  # noqa: T201  (the note on the issue shows it)
        finally:
            browser.close()
    assert requests == [url]
