"""The text of a sales task as the rep reads it in HubSpot: the subject (with the marker by which hubsync finds its
own tasks again) and the body (the reason and the dated history)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hubsync.scoring import ContactScore

MARKER: Final = "[hubsync]"
# Lines of dated history in a task body; older ones are summarised (HubSpot's UI shows the start of long notes).
BODY_HISTORY_LINES: Final = 40


def task_subject(score: ContactScore, name: str) -> str:
    """What the rep sees in the task list: the marker (how hubsync finds its tasks), segment and score."""
    return f"{MARKER} {score.segment} lead, engagement {score.engagement}: {name} ({score.status.value})"


def task_body(score: ContactScore, history: Sequence[str], *, triggers: Sequence[str]) -> str:
    """The reason and the dated point history, as the rich text HubSpot shows in a task's notes."""
    lines = list(history)
    if len(lines) > BODY_HISTORY_LINES:
        cut = len(lines) - BODY_HISTORY_LINES
        lines = [f"({cut} earlier lines left out; `hubsync explain` shows all)", *lines[cut:]]
    text = [
        f"Why now: {score.reason}",
        (
            f"Segment {score.segment}, engagement {score.engagement}, profile {score.profile}, "
            f"fit {score.fit_light.value}, tier {score.tier.value}; handed over for: {', '.join(triggers)}."
        ),
        "",
        "History:",
        *lines,
        "",
        "Created by hubsync. hubsync creates no further task for this contact while this one is open.",
    ]
    return "<br>\n".join(html.escape(line) for line in text)
