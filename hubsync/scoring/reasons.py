"""Reasons in words (docs/scoring.md): the short form for the CRM property, and the dated history for tasks and
`hubsync explain`."""

from __future__ import annotations

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


def engagement_reason(result: EngagementResult, cm: CompiledModel) -> str:
    """Contributions in words, the largest first (ties in config order), leaving out those that round to 0.

    Most contacts share their rounded contributions with many others ("email opened 5× (+10)"), so the text is
    remembered per rounded breakdown; the order uses the rounded values too, so the memo cannot change it.
    """
    days = int(result.inactive_s // _DAY) if result.inactivity_penalty and result.inactive_s is not None else 0
    key = (
        tuple([(i, count, round(counted)) for i, count, _, counted in result.signals]),
        tuple([(p.pattern, round(p.counted)) for p in result.patterns]),
        result.inactivity_penalty,
        days,
    )
    text = cm.reason_memo.get(key)
    if text is None:
        text = _engagement_text(key, cm)
        cm.remember_reason(key, text)
    return text


def _engagement_text(
    key: tuple[tuple[tuple[int, int, int], ...], tuple[tuple[int, int], ...], int, int], cm: CompiledModel
) -> str:
    signals, patterns, penalty, days = key
    parts: list[tuple[int, str]] = []
    for i, count, value in signals:
        many = f" {count}{TIMES}" if count > 1 else ""
        parts.append((value, f"{cm.signals[i].label}{many} ({value:+d})"))
    parts.extend((value, f"{cm.patterns[i].label} ({value:+d})") for i, value in patterns)
    if penalty:
        parts.append((-penalty, f"inactive {days} days ({-penalty:+d})"))
    parts.sort(key=lambda part: -abs(part[0]))
    return ", ".join(text for value, text in parts if value) or "no engagement yet"


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
    if explanation.inactivity_penalty:
        lines.append(f"inactive for {explanation.inactive_days} days  {-explanation.inactivity_penalty:+d}")
    score = explanation.score
    lines.append(f"engagement {score.engagement}, profile {score.profile} → segment {score.segment}, {score.status}")
    return tuple(lines)
