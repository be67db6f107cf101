"""The text of a sales task as the rep reads it in HubSpot: the subject (with the marker by which hubsync finds its
own tasks again) and the body (the reason and the dated history); for an account task, the buying center: its
engaged contacts with their scores and the personas missing."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from hubsync.scoring import ContactScore

MARKER: Final = "[hubsync]"
# Lines of dated history in a task body; older ones are summarised (HubSpot's UI shows the start of long notes).
BODY_HISTORY_LINES: Final = 40
# Contacts an account task lists; the rest are counted.
BODY_MEMBER_LINES: Final = 25


def task_subject(score: ContactScore, name: str, *, outside_icp: str | None = None) -> str:
    """What the rep sees in the task list: the marker (how hubsync finds its tasks), segment and score; for a
    hand-raiser outside the ideal customer profile, that first and why."""
    if outside_icp is not None:
        return f"{MARKER} hand-raiser outside ICP ({outside_icp}): {name}, engagement {score.engagement}"
    return f"{MARKER} {score.segment} lead, engagement {score.engagement}: {name} ({score.status.value})"


def task_body(
    score: ContactScore,
    history: Sequence[str],
    *,
    triggers: Sequence[str],
    hand_raise_at: datetime | None = None,
    buying_center: BuyingCenter | None = None,
) -> str:
    """The reason and the dated point history, as the rich text HubSpot shows in a task's notes; a hand-raise
    first, with its date (the rep must hear that the lead asked); the contact's active buying center, if it has
    one (no account task is made while this task covers it)."""
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
        *(_covered_lines(buying_center) if buying_center is not None else []),
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


# -- account tasks --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuyingCenterMember:
    name: str
    jobtitle: str | None
    engagement: int
    segment: str
    status: str


@dataclass(frozen=True, slots=True)
class BuyingCenter:
    """A company's active buying center as an account task (or a contact's task that covers it) tells of it."""

    company: str
    segment: str
    engagement: int
    profile: int
    fit: str
    tier: str
    active_contacts: int
    days: int
    # Best first.
    members: tuple[BuyingCenterMember, ...]
    # The labels of the personas no engaged contact has ("influencer").
    missing: tuple[str, ...]
    reason: str


def account_task_subject(center: BuyingCenter) -> str:
    """The marker, the account segment and "buying center", the company and how many engaged contacts."""
    return (
        f"{MARKER} {center.segment} buying center: {center.company}, {len(center.members)} engaged contact(s), "
        f"account engagement {center.engagement}"
    )


def account_task_body(center: BuyingCenter) -> str:
    """Why the account is handed over, its engaged contacts with their scores, and the personas missing."""
    text = [
        (
            f"The buying center at {center.company} is active: {center.active_contacts} contacts active in the "
            f"last {center.days} days."
        ),
        (
            f"Account segment {center.segment}, account engagement {center.engagement}, profile {center.profile}, "
            f"fit {center.fit}, tier {center.tier}."
        ),
        f"Why now: {center.reason}",
        "",
        "Engaged contacts:",
        *_member_lines(center),
        "",
        _missing_line(center),
        "",
        (
            "Created by hubsync for the company's owner. hubsync creates no further account task for this company "
            "in this episode: it is handed over again only after a quiet spell without an active buying center."
        ),
    ]
    return "<br>\n".join(html.escape(line) for line in text)


def _member_lines(center: BuyingCenter) -> list[str]:
    lines = [
        f"{m.name}{f' ({m.jobtitle})' if m.jobtitle else ''}: engagement {m.engagement}, "
        f"segment {m.segment}, {m.status}"
        for m in center.members[:BODY_MEMBER_LINES]
    ]
    if len(center.members) > BODY_MEMBER_LINES:
        lines.append(f"… and {len(center.members) - BODY_MEMBER_LINES} more")
    return lines


def _missing_line(center: BuyingCenter) -> str:
    if not center.missing:
        return "Personas: every persona has an engaged contact."
    return f"Missing personas: {', '.join(center.missing)} (no engaged contact in that role yet)."


def _covered_lines(center: BuyingCenter) -> list[str]:
    """The buying center in a contact's task that covers it instead of an account task."""
    others = ", ".join(f"{m.name} ({m.engagement})" for m in center.members[:BODY_MEMBER_LINES])
    return [
        "",
        (
            f"Buying center: {center.company} is active (account segment {center.segment}, account engagement "
            f"{center.engagement}); engaged: {others or 'none'}."
        ),
        _missing_line(center),
        "hubsync makes no separate account task while this task is open: talk to the team, not only to this contact.",
    ]
