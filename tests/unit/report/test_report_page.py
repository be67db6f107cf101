"""The calibration report page, rendered from a hand-built report dict (tests/support/report_data.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hubsync.render.report import formats
from hubsync.render.report.page import report_html
from hubsync.render.report.summary import HEADLINE, kpi_summary
from hubsync.scoring.segments import SEGMENTS
from tests.support.html_scan import PageScan
from tests.support.report_data import build_report

HOSTILE = "<script>alert('owner')</script>"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    report = build_report(owner_names=(HOSTILE, "Jonas Wolf", "Mia Schulz"))
    report["signals"][0]["label"] = '<img src="https://evil.example/x.png">'
    return report


@pytest.fixture(scope="module")
def page(data: dict[str, Any]) -> PageScan:
    return PageScan(report_html(data))


@pytest.mark.parametrize(
    ("fn", "value", "shown"),
    [
        (formats.rate, 0.6193, "61.9 %"),
        (formats.rate, 0.0, "0.0 %"),
        (formats.rate, None, "—"),
        (formats.hours, 41.75, "41.8 h"),
        (formats.hours, 1234.0, "1,234.0 h"),
        (formats.lift, 2.345, "2.35×"),
        (formats.count, 6242, "6,242"),
        (formats.score, 38.5, "38.5"),
    ],
)
def test_each_kind_of_figure_is_written_one_way(fn: Callable[[Any], str], value: float | None, shown: str) -> None:
    assert fn(value) == shown


def test_a_figure_below_the_minimum_says_too_few_to_judge_with_its_n() -> None:
    assert formats.judged_figure("rate", None, 12, judged=False) == "too few to judge (n=12)"
    assert formats.judged_figure("rate", 0.5, 12, judged=False) == "too few to judge (n=12)"
    assert formats.judged_figure("hours", 5.5, 40) == "5.5 h"
    assert formats.kpi({"kind": "count", "value": 7, "n": 7}) == "7"
    assert formats.kpi({"kind": "rate", "value": None, "n": 29, "judged": False}) == "too few to judge (n=29)"


def test_names_from_the_crm_are_text_never_markup(page: PageScan) -> None:
    assert page.find("script") == []
    assert page.find("img") == []
    owners = [e.content for e in page.find("tr", **{"data-owner": None})]
    assert HOSTILE in owners[0]
    signal = page.find("tr", **{"data-signal": None})
    assert any('<img src="https://evil.example/x.png">' in e.content for e in signal)


def test_the_page_refers_to_nothing_outside_itself(page: PageScan) -> None:
    addresses = page.addresses()
    # The charts' markers and clip paths are referred to by fragment: proof that the check sees references at all.
    assert any(a.startswith("#") for a in addresses)
    outside = [a for a in addresses if not a.startswith(("#", "data:"))]
    assert outside == []
    for tag in ("script", "link", "iframe", "object", "embed", "img", "base"):
        assert page.find(tag) == [], tag


def test_the_heatmap_has_sixteen_cells_with_count_and_win_rate(data: dict[str, Any], page: PageScan) -> None:
    cells = page.find("td", **{"data-segment": None})
    assert [c.attrs["data-segment"] for c in cells] == list(SEGMENTS)
    by_name = {s["segment"]: s for s in data["segments"]}
    for cell in cells:
        segment = by_name[cell.attrs["data-segment"]]
        shown = formats.judged_figure("rate", segment["win_rate"], segment["contacts"], judged=segment["judged"])
        assert shown in cell.content
        assert f"won of {segment['contacts']:,}" in cell.content
        assert json.loads(cell.attrs["data-win-rate"]) == segment["win_rate"]
        # Coloured by win rate when judged; hatched grey (a class, no colour of its own) when not.
        assert ("background-color" in cell.attrs.get("style", "")) == segment["judged"]


def test_thin_segments_and_kpis_say_too_few_to_judge(page: PageScan) -> None:
    thin = {c.attrs["data-segment"]: c.content for c in page.find("td", **{"data-segment": None})}
    assert "too few to judge (n=" in thin["D1"]
    assert "too few to judge (n=" in thin["A4"]
    assert "too few to judge (n=" not in thin["A1"]
    rejection = page.find("div", **{"data-kpi": "rejection_rate"})[0]
    assert "too few to judge (n=29)" in rejection.content
    assert "unjudged" in rejection.attrs["class"]


def test_every_kpi_tile_shows_the_json_value(data: dict[str, Any], page: PageScan) -> None:
    tiles = page.find("div", **{"data-kpi": None})
    assert [t.attrs["data-kpi"] for t in tiles] == [k["key"] for k in data["kpis"]]
    for tile, kpi in zip(tiles, data["kpis"], strict=True):
        assert json.loads(tile.attrs["data-value"]) == kpi["value"]
        assert formats.kpi(kpi) in tile.content
        assert (f"n = {kpi['n']:,}" in tile.content) == (kpi["kind"] != "count" and kpi.get("judged") is not False)


def test_the_charts_are_inline_svg_and_the_same_data_gives_the_same_page(data: dict[str, Any]) -> None:
    html = report_html(data)
    assert html == report_html(data)
    scan = PageScan(html)
    charts = scan.find("svg")
    assert [c.attrs["aria-label"] for c in charts] == [
        "Handoffs per week, recall and precision for each handoff threshold",
        "Contacts per lead status, week by week",
    ]
    ids = [e.attrs["id"] for e in scan.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids)), "two charts share an element id"
    advice = scan.find("p", **{"data-advised": None})[0]
    assert advice.content == data["threshold_advice"]["text"]


def test_a_report_of_an_empty_portal_still_renders() -> None:
    report = build_report(owner_names=())
    report.update(signals=[], thresholds=[], distribution=[], periods=[])
    report["backtest"] = {
        "contacts_with_deal": 0,
        "contacts_without": 0,
        "median_score_with": None,
        "median_score_without": None,
        "top_decile_lift": None,
        "judged": False,
    }
    scan = PageScan(report_html(report))
    assert "No handoffs in this period." in scan.find("section", id="owners")[0].content
    assert scan.find("svg") == []
    assert "too few to judge (n=0)" in scan.find("div", **{"data-backtest": "top_decile_lift"})[0].content
    assert len(scan.find("td", **{"data-segment": None})) == 16


def test_the_text_summary_fits_on_one_screen_and_agrees_with_the_page(data: dict[str, Any]) -> None:
    text = kpi_summary(data, width=80)
    lines = text.splitlines()
    assert len(lines) <= 16
    assert max(len(line) for line in lines) <= 80
    flat = " ".join(text.split())
    shown = [k for k in data["kpis"] if k["key"] in HEADLINE]
    assert len(shown) == len(HEADLINE)
    for kpi in shown:
        assert f"{kpi['label']}: {formats.kpi(kpi)}" in flat, kpi["key"]
    assert "Rejection rate: too few to judge (n=29)" in flat
    a1 = next(s for s in data["segments"] if s["segment"] == "A1")
    assert f"A1 win rate: {formats.rate(a1['win_rate'])}, {a1['won']:,} won of {a1['contacts']:,}" in text
    assert " ".join(data["threshold_advice"]["text"].split()) in flat
