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
# Where the day of the last positive activity goes in a remembered text.
_SINCE = "\x00"


def engagement_reason(result: EngagementResult, cm: CompiledModel) -> str:
    """Contributions in words, the largest first (ties in config order), leaving out those that round to 0.

    Nothing in the text moves with the clock alone, so that an idle contact's reason stays what HubSpot last got.
    Contributions are stated as of the newest counted activity. The two parts that time moves name a day and
    change only when the score does: inactivity, "inactive since 2026-10-03 (-5)" (the last positive activity),
    and what has faded since the newest activity, "faded since 2026-10-03 (-12)" (the score against the score
    as of then). At a score of 0 or 100, which would hide their change, they are left out.

    Most contacts share their rounded contributions with many others ("email opened 5× (+10)"), so the text is
    remembered per rounded breakdown, with the day of inactivity filled in afterwards; the order uses the rounded
    values too, so the memo cannot change it.
    """
    at_last = result.at_last
    signals = tuple([(s[0], s[1], round(v)) for s, v in zip(result.signals, at_last.signals, strict=True)])
    patterns = tuple([(p.pattern, round(v)) for p, v in zip(result.patterns, at_last.patterns, strict=True)])
    inactive = faded = 0
    if 0 < result.score < _TOP:
        inactive = -result.inactivity_penalty
        faded = min(0, result.score - math.floor(at_last.total + inactive + 0.5))
    key = (signals, patterns, inactive)
    text = cm.reason_memo.get(key)
    if text is None:
        text = _engagement_text(key, cm)
        cm.remember_reason(key, text)
    if inactive:
        text = text.replace(_SINCE, day_text(_day(result.last_positive_ts)), 1)
    if faded:
        # Last: it qualifies the parts before it.
        fade = f"faded since {day_text(_day(at_last.ts))} ({faded:+d})"
        text = fade if text == _NOTHING else f"{text}, {fade}"
    return text


def _day(ts: float | None) -> int:
    return int(ts // _DAY) if ts is not None else 0


def _engagement_text(
    key: tuple[tuple[tuple[int, int, int], ...], tuple[tuple[int, int], ...], int], cm: CompiledModel
) -> str:
    signals, patterns, inactive = key
    parts: list[tuple[int, str]] = [(value, _signal_part(part, cm)) for part in signals if (value := part[2])]
    parts.extend((value, f"{cm.patterns[i].label} ({value:+d})") for i, value in patterns)
    if inactive:
        # The day is filled in by the caller: the rest of the text is shared by many contacts, the day is not.
        parts.append((inactive, f"inactive since {_SINCE} ({inactive:+d})"))
    parts.sort(key=lambda part: -abs(part[0]))
    return ", ".join(text for value, text in parts if value) or _NOTHING


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
