"""How the report writes a figure: one function per kind, shared by the HTML page and the text summary, so the page,
the demo's summary and the tests that compare the page with `--json` all format a number the same way."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def too_few(n: int | None) -> str:
    return f"too few to judge (n={n:,})" if n is not None else "too few to judge"


def count(value: float | None) -> str:
    return "—" if value is None else f"{round(value):,}"


def rate(value: float | None) -> str:
    """A fraction as a percentage with one decimal: 0.6193 → "61.9 %"."""
    return "—" if value is None else f"{value * 100:.1f} %"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} h"


def lift(value: float | None) -> str:
    """How many times the base rate: 2.345 → "2.35×"."""
    return "—" if value is None else f"{value:.2f}×"


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


_BY_KIND = {"count": count, "rate": rate, "hours": hours, "lift": lift, "score": score}


def by_kind(kind: str, value: float | None) -> str:
    # A kind added to the data later still shows, as a plain number, rather than breaking the page.
    return _BY_KIND.get(kind, _plain)(value)


def judged_figure(kind: str, value: float | None, n: int | None, *, judged: bool | None = True) -> str:
    """The figure, or "too few to judge (n=…)" when the data says it is not judged (or has no value)."""
    if not is_judged(value, judged):
        return too_few(n)
    return by_kind(kind, value)


def is_judged(value: float | None, judged: bool | None = True) -> bool:
    return judged is not False and value is not None


def kpi_judged(item: Mapping[str, Any]) -> bool:
    """Counts are always shown; rates and hours only from `min_n` cases on."""
    return item.get("kind") == "count" or is_judged(item.get("value"), item.get("judged"))


def kpi(item: Mapping[str, Any]) -> str:
    """A KPI tile's value as the page (and the demo's summary) shows it."""
    if not kpi_judged(item):
        return too_few(item.get("n"))
    return by_kind(str(item.get("kind")), item.get("value"))


def moment(iso: str | None) -> str:
    """An ISO instant as "29 Nov 2026, 12:00 UTC" (the data's instants are UTC)."""
    if not iso:
        return "—"
    at = datetime.fromisoformat(iso)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


def day(iso: str | None) -> str:
    if not iso:
        return "—"
    at = datetime.fromisoformat(iso)
    return f"{at.day} {at:%b %Y}"


def _plain(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
