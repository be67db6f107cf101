"""The calibration report's headline figures as a few lines of text, for the demo's last step (the page has the rest).
Each figure is written as the page writes it (`formats.py`)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Final

from hubsync.render.report import formats

# The figures an admin asks first: does sales take the leads, do they win, how fast is the answer.
HEADLINE: Final = (
    "handed_over",
    "sales_acceptance_rate",
    "rejection_rate",
    "closed_won_ratio",
    "base_rate",
    "mql_to_sql_rate",
    "time_to_lead_median_h",
    "time_to_response_median_h",
    "time_to_response_p90_h",
)


def kpi_summary(data: Mapping[str, Any], *, width: int = 80, keys: Sequence[str] = HEADLINE) -> str:
    """The headline KPIs packed into lines of at most `width` characters, then the A1 segment and the threshold
    advice."""
    since = f"from {formats.day(data['since'])} " if data.get("since") else ""
    until = formats.day(data.get("until"))
    lines = [f'Calibration {since}up to {until} (a rate on under {data.get("min_n")} cases: "too few")']
    by_key = {str(k["key"]): k for k in data["kpis"]}
    lines += _packed([_figure(by_key[key]) for key in keys if key in by_key], width)
    a1 = next((s for s in data["segments"] if s["segment"] == "A1"), None)
    if a1 is not None:
        judged = formats.is_judged(a1.get("win_rate"), a1.get("judged"))
        rate = formats.judged_figure("rate", a1.get("win_rate"), a1.get("n", a1["contacts"]), judged=judged)
        lift = f", lift {formats.lift(a1.get('lift'))}" if judged and a1.get("lift") is not None else ""
        lines.append(f"  A1 win rate: {rate}, {a1['won']:,} won of {a1['contacts']:,}{lift}")
    advice = data.get("threshold_advice") or {}
    if advice.get("text"):
        lines += textwrap.wrap(
            f"Threshold advice: {advice['text']}", width, initial_indent="  ", subsequent_indent="    "
        )
    return "\n".join(lines)


def _figure(kpi: Mapping[str, Any]) -> str:
    shown = formats.kpi(kpi)
    n = f" (n={kpi['n']:,})" if kpi.get("kind") != "count" and formats.kpi_judged(kpi) else ""
    return f"{kpi['label']}: {shown}{n}"


def _packed(items: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 3 + len(item) <= width:
            lines[-1] += f" · {item}"
        else:
            lines.append(f"  {item}")
    return lines
