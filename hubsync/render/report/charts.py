"""The report's charts as inline SVG, drawn by matplotlib on the server.

Why matplotlib and SVG: the page must open offline and be shared as one file, so a chart cannot load a JavaScript
library from a CDN, and a page that ships one inline is large and needs JS to show anything. matplotlib is well
kept, draws without a display (the SVG backend, no pyplot state), and its SVG is deterministic once the date is left
out and ids are salted; with `svg.fonttype = "none"` text stays text (selectable, printable, small), set in the
reader's own sans-serif font, so no font is embedded or fetched.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# One palette for the page and its charts (report.css names the same colours).
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
BLUE = "#1f5fa8"
ORANGE = "#c9731a"
GREEN = "#2f8f5b"
RED = "#b83232"
BAR = "#c5d3e6"
STATUS_COLOURS = {"nurture": "#b8c4d6", "mql": "#e0a547", "sales_ready": GREEN}
# Capacity above this multiple of the busiest threshold's handoffs is named rather than drawn.
_OFF_SCALE = 1.5
STATUS_LABELS = {"nurture": "nurture", "mql": "MQL", "sales_ready": "sales-ready"}

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "legend.frameon": False,
}


def threshold_chart(thresholds: Sequence[Mapping[str, Any]], advice: Mapping[str, Any]) -> str:
    """Handoffs per week (bars) and recall / precision (lines) for every threshold; today's capacity as a line
    across, the advised and the current threshold as lines down."""
    with _style("threshold"):
        return _threshold_chart(thresholds, advice)


def _threshold_chart(thresholds: Sequence[Mapping[str, Any]], advice: Mapping[str, Any]) -> str:
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415  (matplotlib loads only when a report is drawn)

    xs = [int(t["threshold"]) for t in thresholds]
    fig, bars = _figure()
    bars.bar(xs, [float(t["handoffs_per_week"]) for t in thresholds], color=BAR, width=0.8, label="handoffs per week")
    bars.set_xlabel("handoff threshold (engagement score)")
    bars.set_ylabel("handoffs per week")
    capacity = advice.get("capacity_per_week")
    highest = max((float(t["handoffs_per_week"]) for t in thresholds), default=0.0)
    if capacity is not None and float(capacity) <= highest * _OFF_SCALE:
        bars.axhline(float(capacity), color=ORANGE, linestyle="--", linewidth=1.5, label="sales capacity per week")
    elif capacity is not None:
        # Far above every bar: a line at its height would flatten the bars to nothing, so it is named instead.
        bars.set_ylim(0, max(highest * 1.25, 1.0))
        bars.annotate(
            f"sales capacity {float(capacity):,.1f} a week: above every threshold's handoffs",
            xy=(0.99, 0.97),
            xycoords="axes fraction",
            ha="right",
            va="top",
            color=ORANGE,
            fontsize=9,
        )
    lines = bars.twinx()
    lines.spines["right"].set_visible(True)
    lines.grid(visible=False)
    lines.plot(xs, [_nan(t.get("recall")) for t in thresholds], color=BLUE, linewidth=2, label="recall")
    lines.plot(xs, [_nan(t.get("precision")) for t in thresholds], color=GREEN, linewidth=2, label="precision")
    lines.set_ylim(0, 1.02)
    lines.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    lines.set_ylabel("recall / precision")
    for key, label, style in (("advised_threshold", "advised", "-"), ("current_threshold", "current", ":")):
        value = advice.get(key)
        if value is not None:
            bars.axvline(int(value), color=INK, linestyle=style, linewidth=1.3, label=f"{label} threshold ({value})")
    if xs:
        bars.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    handles = bars.get_legend_handles_labels()
    more = lines.get_legend_handles_labels()
    fig.legend(handles[0] + more[0], handles[1] + more[1], loc="lower center", ncols=6, fontsize=9)
    fig.subplots_adjust(bottom=0.27, top=0.95, left=0.07, right=0.93)
    return _svg(fig, "threshold", "Handoffs per week, recall and precision for each handoff threshold")


def distribution_chart(distribution: Sequence[Mapping[str, Any]]) -> str:
    """Contacts per lead status, week by week (stacked bars)."""
    with _style("distribution"):
        return _distribution_chart(distribution)


def _distribution_chart(distribution: Sequence[Mapping[str, Any]]) -> str:
    fig, ax = _figure()
    periods = [str(row["period"]) for row in distribution]
    xs = list(range(len(periods)))
    bottom = [0.0] * len(periods)
    statuses = list(STATUS_COLOURS) + sorted(
        {s for row in distribution for s in row.get("counts", {})} - set(STATUS_COLOURS)
    )
    for status in statuses:
        values = [float(row.get("counts", {}).get(status, 0)) for row in distribution]
        ax.bar(
            xs,
            values,
            bottom=bottom,
            color=STATUS_COLOURS.get(status, MUTED),
            width=0.8,
            label=STATUS_LABELS.get(status, status),
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, math.ceil(len(periods) / 16))  # at most 16 labels, so they never overlap
    ax.set_xticks(xs[::step], periods[::step], rotation=0 if len(periods) <= 8 else 30, ha="right")  # noqa: PLR2004  (eight labels fit side by side)
    ax.set_ylabel("contacts")
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    fig.subplots_adjust(bottom=0.22, top=0.95, left=0.08, right=0.86)
    return _svg(fig, "distribution", "Contacts per lead status, week by week")


@contextmanager
def _style(name: str) -> Iterator[None]:
    import matplotlib as mpl  # noqa: PLC0415  (see _threshold_chart)

    # The salt makes the generated ids depend on the chart only, so the same data gives the same page.
    with mpl.rc_context(_RC):
        mpl.rcParams["svg.hashsalt"] = f"hubsync-{name}"  # restored with the rest when the context ends
        yield


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # noqa: PLC0415  (see _threshold_chart)

    # A Figure without pyplot: no global figure registry and no GUI backend, safe in the scheduler's thread.
    fig = Figure(figsize=(10, 3.6))
    return fig, fig.add_subplot()


def _svg(fig: Figure, name: str, title: str) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    return _inline(out.getvalue(), name, title)


def _inline(svg: str, name: str, title: str) -> str:
    """matplotlib's SVG file made fit to sit inside HTML: no XML prolog, no metadata (its namespace addresses are
    not requests, but the page should not name any address), ids prefixed so that two charts never share one, and
    sized by the page's CSS instead of points."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\sid="([^"]+)"', rf' id="{name}-\1"', svg)
    svg = svg.replace('xlink:href="#', f'xlink:href="#{name}-').replace("url(#", f"url(#{name}-")
    svg = re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "", 1)
    svg = svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
    return svg.replace("<svg", f'<svg class="chart" role="img" aria-label="{title}"', 1)


def _nan(value: float | None) -> float:
    # matplotlib leaves a gap at NaN: a threshold whose figure is too few to judge draws no point.
    return math.nan if value is None else float(value)
