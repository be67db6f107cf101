"""The text of a sales task as the rep reads it in HubSpot: the subject (with the marker by which hubsync finds its
own tasks again) and the body (the reason and the dated history)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from hubsync.scoring import ContactScore

MARKER: Final = "[hubsync]"
# Lines of dated history in a task body; older ones are summarised (HubSpot's UI shows the start of long notes).
BODY_HISTORY_LINES: Final = 40


def task_subject(score: ContactScore, name: str, *, outside_icp: str | None = None) -> str:
    """What the rep sees in the task list: the marker (how hubsync finds its tasks), segment and score; for a
    hand-raiser outside the ideal customer profile, that first and why."""
    if outside_icp is not None:
        return f"{MARKER} hand-raiser outside ICP ({outside_icp}): {name}, engagement {score.engagement}"
    return f"{MARKER} {score.segment} lead, engagement {score.engagement}: {name} ({score.status.value})"


def task_body(
    score: ContactScore, history: Sequence[str], *, triggers: Sequence[str], hand_raise_at: datetime | None = None
) -> str:
    """The reason and the dated point history, as the rich text HubSpot shows in a task's notes; a hand-raise
    first, with its date (the rep must hear that the lead asked)."""
    lines = list(history)
    if len(lines) > BODY_HISTORY_LINES:
        cut = len(lines) - BODY_HISTORY_LINES
        lines = [f"({cut} earlier lines left out; `hubsync explain` shows all)", *lines[cut:]]
    asked = [f"Asked to be contacted on {hand_raise_at:%Y-%m-%d}."] if hand_raise_at is not None else []
    text = [
        *asked,
        f"Why now: {score.reason}",
        (
            f"Segment {score.segment}, engagement {score.engagement}, profile {score.profile}, "
            f"fit {score.fit_light.value}, tier {score.tier.value}; handed over for: {', '.join(triggers)}."
        ),
        "",
        "History:",
        *lines,
        "",
        (
            "Created by hubsync. hubsync creates no further task for this contact in this episode: it is handed "
            "over again only after a quiet spell without any trigger, or when it asks to be contacted again."
        ),
    ]
    return "<br>\n".join(html.escape(line) for line in text)


def trigger_words(triggers: Sequence[str], score: ContactScore) -> tuple[str, ...]:
    """The triggers of a handoff as an admin reads them: "sales_ready", "segment A1", "surge", "engagement 64",
    "hand-raiser" (stored with the task for `hubsync explain`)."""
    words = {
        "status": score.status.value,
        "segment": f"segment {score.segment}",
        "surge": "surge",
        "score": f"engagement {score.engagement}",
        "hand_raiser": "hand-raiser",
    }
    return tuple(words.get(t, t) for t in triggers)
