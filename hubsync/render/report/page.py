"""The calibration report as one self-contained HTML page, from the report dict alone (`hubsync report --json`
prints the same dict, so the page and the JSON can never disagree).

Jinja2 templates (autoescaped: names come from the CRM) in `templates/`, the CSS inlined, the charts inline SVG
(`charts.py`): the file opens offline, makes no request, and can be mailed or attached to a ticket as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from hubsync import __version__
from hubsync.render.report import charts, formats
from hubsync.scoring.segments import DIGITS, LETTERS

# Heatmap colours: from the palest (no wins) to the darkest (the best judged segment), interpolated in RGB.
_PALE = (0xEE, 0xF3, 0xFA)
_DARK = (0x1F, 0x5F, 0xA8)
# Above this share of the scale the cell is dark enough for white text.
_LIGHT_TEXT_FROM = 0.55


def report_html(data: Mapping[str, Any]) -> str:
    """The page for a report dict of the shape `hubsync/jobs/report.py::report_data` returns."""
    segments = {str(s["segment"]): s for s in data["segments"]}
    best = max((float(s["win_rate"]) for s in segments.values() if _judged(s, "win_rate")), default=0.0)
    kinds = {str(k["key"]): str(k.get("kind", "")) for k in data["kpis"]}
    advice = data.get("threshold_advice") or {}
    thresholds, distribution = data.get("thresholds"), data.get("distribution")
    # Our own SVG, not text from the data: matplotlib escapes every label it writes.
    threshold_svg = Markup(charts.threshold_chart(thresholds, advice)) if thresholds else None  # noqa: S704
    distribution_svg = Markup(charts.distribution_chart(distribution)) if distribution else None  # noqa: S704
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            version=__version__,
            heatmap=[
                [_cell(segments.get(letter + digit), letter + digit, best) for digit in DIGITS] for letter in LETTERS
            ],
            letters=LETTERS,
            digits=DIGITS,
            best_win_rate=best,
            scale=f"linear-gradient(to right, {_colour(0.0)}, {_colour(1.0)})",
            funnel=_funnel(data.get("funnel") or []),
            kinds=kinds,
            threshold_chart=threshold_svg,
            distribution_chart=distribution_svg,
            advice=advice,
        )
    )


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hubsync.render.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        count=formats.count,
        rate=formats.rate,
        hours=formats.hours,
        lift=formats.lift,
        score=formats.score,
        moment=formats.moment,
        day=formats.day,
        kpi=formats.kpi,
        by_kind=formats.by_kind,
        too_few=formats.too_few,
    )
    env.globals.update(judged_figure=formats.judged_figure, is_judged=formats.is_judged)
    env.tests["judged_kpi"] = formats.kpi_judged
    return env


def _judged(item: Mapping[str, Any], key: str) -> bool:
    return item.get("judged") is not False and item.get(key) is not None


def _cell(segment: Mapping[str, Any] | None, name: str, best: float) -> dict[str, Any]:
    if segment is None:  # the contract promises all 16; a missing one shows as empty rather than failing the page
        segment = {"segment": name, "contacts": 0, "handed_over": 0, "won": 0, "win_rate": None, "judged": False}
    judged = _judged(segment, "win_rate")
    share = float(segment["win_rate"]) / best if judged and best > 0 else 0.0
    return {
        **segment,
        "judged": judged,
        "n": segment.get("n", segment["contacts"]),
        "style": f"background-color: {_colour(share)}; color: {'#ffffff' if share > _LIGHT_TEXT_FROM else '#1f2933'}"
        if judged
        else "",
    }


def _colour(share: float) -> str:
    rgb = (round(p + (d - p) * share) for p, d in zip(_PALE, _DARK, strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _funnel(stages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    widest = max((int(s["count"]) for s in stages), default=0)
    return [{**s, "width": 100.0 * int(s["count"]) / widest if widest else 0.0} for s in stages]
