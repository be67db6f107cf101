"""Reasons in words (docs/scoring.md): the short form for the CRM property, and the dated history for tasks and
`hubsync explain`."""

from __future__ import annotations

import math
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubsync.scoring.compiled import CompiledModel
    from hubsync.scoring.engagement import EngagementResult
    from hubsync.scoring.results import Explanation

# HubSpot shows the property in a narrow card; the spec bounds it.
REASON_LIMIT = 500
# The multiplication sign of "pricing page 3\u00d7 (+45)", as an escape so that no one reads it as an x.
TIMES = "\u00d7"
_DAY = 86400.0
_EPOCH = date(1970, 1, 1)
_TOP = 100
_NOTHING = "no engagement yet"


def engagement_reason(result: EngagementResult, cm: CompiledModel) -> str:
    """Contributions in words, the largest first (ties in config order), leaving out those that round to 0.

    Nothing in the text moves with the clock alone, so that an idle contact's reason stays what HubSpot last got.
    Contributions are stated as of the newest counted activity. The two parts that time moves name a day and
    change only when the score does: inactivity, "inactive since 2026-10-03 (-5)" (the last positive activity),
    and what has faded since the newest activity, "faded since 2026-10-03 (-12)" (the score against the score
    as of then). At a score of 0 or 100, which would hide their change, they are left out.

    Each signal's part is remembered (`_signal_part`: few distinct ones), the whole text is not: with a handful of
    signals per contact nearly every breakdown is a contact's own (19,999 distinct in bench/score.py's 20,000), so
    a memo of whole texts only cost the hashing of its keys.
    """
    at_last = result.at_last
    inactive = faded = 0
    if 0 < result.score < _TOP:
        inactive = -result.inactivity_penalty
        faded = min(0, result.score - math.floor(at_last.total + inactive + 0.5))
    memo = cm.reason_memo
    # (-size, position, text): sorted as they are, the largest first and ties in the order given (config order).
    ranked: list[tuple[int, int, str]] = []
    for signal, weighted in zip(result.signals, at_last.signals, strict=True):
        value = round(weighted)
        if value:
            part = (signal[0], signal[1], value)
            ranked.append((-abs(value), len(ranked), memo.get(part) or _signal_part(part, cm)))
    for pattern, weighted in zip(result.patterns, at_last.patterns, strict=True):
        value = round(weighted)
        if value:
            ranked.append((-abs(value), len(ranked), f"{cm.patterns[pattern.pattern].label} ({value:+d})"))
    if inactive:
        since = day_text(_day(result.last_positive_ts))
        ranked.append((-abs(inactive), len(ranked), f"inactive since {since} ({inactive:+d})"))
    ranked.sort()
    text = ", ".join([part[2] for part in ranked])
    if faded:
        # Last: it qualifies the parts before it.
        fade = f"faded since {day_text(_day(at_last.ts))} ({faded:+d})"
        return f"{text}, {fade}" if text else fade
    return text or _NOTHING


def _day(ts: float | None) -> int:
    return int(ts // _DAY) if ts is not None else 0


def _signal_part(part: tuple[int, int, int], cm: CompiledModel) -> str:
    """One signal's part, "pricing page 3× (+45)": few distinct ones, shared by many texts that differ elsewhere."""
    # Keyed (signal, count, points): no other key of the memo is a tuple of three numbers.
    text = cm.reason_memo.get(part)
    if text is None:
        i, count, value = part
        many = f" {count}{TIMES}" if count > 1 else ""
        text = f"{cm.signals[i].label}{many} ({value:+d})"
        cm.remember_reason(part, text)
    return text


@cache
def day_text(day: int) -> str:
    """A day counted from 1970-01-01 (a timestamp // 86400) as ISO text, in UTC like every date hubsync shows."""
    return (_EPOCH + timedelta(days=day)).isoformat()


def profile_reason(hits: tuple[tuple[str, int], ...], gates: tuple[str, ...], cm: CompiledModel) -> str:
    key = (hits, gates)
    text = cm.reason_memo.get(key)
    if text is None:
        ordered = sorted(hits, key=lambda hit: -abs(hit[1]))
        text = "fit: " + (", ".join(f"{label} ({n:+d})" for label, n in ordered if n) or "no rule matched")
        if gates:
            text += f" (capped at {cm.model.profile.gates.cap}: {', '.join(gates)})"
        cm.remember_reason(key, text)
    return text


def join_reason(*sections: str) -> str:
    """Sections joined by "; ", cut at a boundary to stay within REASON_LIMIT."""
    text = "; ".join([s for s in sections if s])
    if len(text) <= REASON_LIMIT:
        return text
    cut = text[: REASON_LIMIT - 1]
    boundary = max(cut.rfind(", "), cut.rfind("; "))
    return (cut[:boundary] if boundary > 0 else cut) + "…"


def history_lines(explanation: Explanation) -> tuple[str, ...]:
    """The dated point history, oldest first, one line per activity, then patterns, inactivity and the total.

    Used for the body of a sales task and by `hubsync explain`.
    """
    lines = []
    for h in explanation.history:
        line = f"{h.occurred_at:%Y-%m-%d}  {h.label}  {h.points:+d}"
        if h.decay != 1.0:
            line += f" {TIMES} {h.decay:.2f} decay = {h.weighted:+.1f}"
        if abs(h.counted - h.weighted) > 1e-9:  # noqa: PLR2004  (float tolerance)
            line += f" (cap reached: counts {h.counted:+.1f})"
        lines.append(line)
    for p in explanation.patterns:
        line = f"{p.completed_at:%Y-%m-%d}  {p.label} (sequence bonus)  {p.bonus:+d}"
        if p.decay != 1.0:
            line += f" {TIMES} {p.decay:.2f} decay = {p.counted:+.1f}"
        lines.append(line)
    last_positive = explanation.score.last_positive_at
    if explanation.inactivity_penalty and last_positive is not None:
        lines.append(
            f"inactive since {last_positive:%Y-%m-%d} ({explanation.inactive_days} days)  "
            f"{-explanation.inactivity_penalty:+d}"
        )
    score = explanation.score
    lines.append(f"engagement {score.engagement}, profile {score.profile} → segment {score.segment}, {score.status}")
    return tuple(lines)
