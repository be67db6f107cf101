"""A contact's full explanation as text (`hubsync explain`): every contribution, fit rules, gates, the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hubsync.records import Company, Contact
from hubsync.scoring import Explanation, ScoringModel, history_lines

if TYPE_CHECKING:
    from datetime import datetime

    from hubsync.scoring.handoff import HandoffState


@dataclass(frozen=True, slots=True)
class AccountHandoffExplained:
    """The contact's company's account handoff as the last cycle left it (`jobs/explain.py`)."""

    episode: HandoffState
    # The account trigger held at the last rescore (buying center active in a handoff segment).
    triggered: bool
    segment: str
    # The contact whose task covered the buying center instead of an account task, and whether it is this one.
    covered_by: int | None
    covered_by_this: bool
    # Why the last cycle left the account without the task it is due.
    waiting: str | None
    task_created_at: datetime | None
    task_open: bool
    task_owner: int | None


@dataclass(frozen=True, slots=True)
class HandoffExplained:
    """A contact's handoff as the last cycle left it (`jobs/explain.py`), with its triggers as of the explanation."""

    episode: HandoffState
    # The triggers that hold as of the explanation, in words ("sales_ready", "segment A1", …).
    triggers_now: tuple[str, ...]
    # Why the contact lies outside the ICP (gates, a blocked fit light): only a hand-raise gets it a task.
    blocked: str | None
    hand_raise_at: datetime | None
    # Why the last cycle left it without a task it is due ("waiting for capacity", …).
    waiting: str | None
    task_created_at: datetime | None
    task_open: bool
    # Why its last task was made, in words.
    task_triggers: tuple[str, ...]
    # The account task of its company (None: the contact has no company, or the company no score yet).
    account: AccountHandoffExplained | None = None


def explanation_text(
    contact: Contact,
    company: Company | None,
    explanation: Explanation,
    model: ScoringModel,
    *,
    account: Any | None = None,
    stored_status: str | None = None,
    handoff: HandoffExplained | None = None,
) -> str:
    score = explanation.score
    name = contact.full_name or "(no name)"
    lines = [
        f"contact {contact.id}: {name} <{contact.email or 'no email'}>, {contact.jobtitle or 'no job title'}",
        f"company: {company.name if company else '(none)'}"
        + (
            f", {company.numberofemployees or '?'} employees, {company.industry or 'industry unknown'}"
            if company
            else ""
        ),
        f"as of {explanation.as_of:%Y-%m-%d %H:%M} UTC",
        "",
        f"engagement {score.engagement}   profile {score.profile} (data completeness {score.completeness} %)",
        f"segment {score.segment}   status {score.status}   fit {score.fit_light}   tier {score.tier}"
        + ("   SURGE" if score.surge else ""),
        f"reason: {score.reason}",
        "",
        "engagement, dated (points × decay, caps):",
        *(f"  {line}" for line in history_lines(explanation)),
    ]
    if explanation.signals:
        lines.append("per signal (after caps):")
        for s in explanation.signals:
            cap = f" of cap {s.cap}" if s.cap is not None else ""
            lines.append(f"  {s.label}: {s.count}×, {s.weighted:+.1f} weighted, counts {s.counted:+.1f}{cap}")
    lines.append(
        f"surge: {explanation.surge.recent_points:.1f} points in the last {model.surge.window_days} days vs "
        f"{explanation.surge.baseline_weekly_points:.1f} per week before → {'yes' if explanation.surge.surge else 'no'}"
    )
    if explanation.ignored_activities:
        lines.append(f"{explanation.ignored_activities} activities matched no signal (or lie after the as-of time)")
    lines += ["", f"profile: {explanation.profile_points} points before gates and clamping"]
    for rule in explanation.rules:
        value = rule.value if rule.value not in (None, "") else "unknown"
        outcome = f"{rule.points:+d} ({rule.label})" if rule.label else f"{rule.points:+d}"
        lines.append(f"  {rule.rule}: {rule.source}.{rule.property} = {value!s} → {outcome}")
    lines.extend(f"  gate: {gate} caps the profile at {model.profile.gates.cap}" for gate in score.gates)
    lines += ["", _status_why(score.engagement, score.status, model, stored_status), _segment_why(score, model)]
    if handoff is not None:
        lines += ["", *handoff_lines(handoff, model)]
    if account is not None:
        lines += [
            "",
            (
                f"account: engagement {account.engagement}, profile {account.profile}, segment {account.segment}; "
                f"{account.engaged_contacts} engaged contact(s), {account.active_contacts} active recently; "
                f"buying center {'active' if account.buying_center_active else 'not active'}"
            ),
            f"account reason: {account.reason}",
        ]
        if handoff is not None and handoff.account is not None:
            lines += account_handoff_lines(handoff.account, model)
    return "\n".join(lines)


def _status_why(engagement: int, status: str, model: ScoringModel, previous: str | None) -> str:
    st = model.status
    text = f"status: engagement {engagement} with thresholds mql ≥ {st.mql}, sales_ready ≥ {st.sales_ready} → {status}"
    if previous is not None and previous != status:
        text += f" (was {previous})"
    held = (status == "sales_ready" and engagement < st.sales_ready) or (status == "mql" and engagement < st.mql)
    if held:
        text += f"; held by hysteresis: it drops only {st.hysteresis} points below the entry threshold"
    return text


def _segment_why(score: Any, model: ScoringModel) -> str:
    bounds = " / ".join(f"> {b}" for b in model.segments.bounds)
    return (
        f"segment: profile {score.profile} → letter {score.segment[0]}, engagement {score.engagement} → digit "
        f"{score.segment[1]} (cuts {bounds})"
    )


def handoff_lines(handoff: HandoffExplained, model: ScoringModel) -> list[str]:
    """Trigger and episode in words: when the contact was handed over and when it re-arms, or what would hand it
    over; its hand-raise; why the last cycle left it waiting."""
    episode, days = handoff.episode, model.handoff.rearm_after_days
    lines = ["handoff (one task per episode):"]
    if episode.handed_over_at is not None:
        why = f" ({', '.join(handoff.task_triggers)})" if handoff.task_triggers else ""
        task = "; its task is open" if handoff.task_open else "; its task is done"
        lines.append(f"  handed over on {episode.handed_over_at:%Y-%m-%d}{why}{task}")
    if not episode.armed:
        if handoff.triggers_now:
            quiet = f"not quiet yet: {', '.join(handoff.triggers_now)}"
        else:
            since = episode.triggers_held_at or episode.handed_over_at
            quiet = (
                f"quiet since {since:%Y-%m-%d}, re-arms on {since + timedelta(days=days):%Y-%m-%d}"
                if since is not None
                else "quiet"
            )
        lines.append(f"  disarmed: re-arms after {days} quiet days without a trigger ({quiet})")
    elif handoff.blocked is not None:
        lines.append(f"  armed, but outside the ICP ({handoff.blocked}): only a hand-raise gets it a task")
    elif handoff.triggers_now:
        lines.append(
            f"  armed, triggers hold ({', '.join(handoff.triggers_now)}): handed over at the next cycle an owner "
            "has capacity"
        )
    else:
        lines.append(f"  armed: would be handed over when {_would_trigger(model)}")
    if handoff.hand_raise_at is not None:
        seen = episode.hand_raise_seen_at
        told = (
            "sales has heard of it" if seen is not None and seen >= handoff.hand_raise_at else "not told to sales yet"
        )
        lines.append(f"  asked to be contacted on {handoff.hand_raise_at:%Y-%m-%d} ({told})")
    if handoff.waiting is not None:
        lines.append(f"  last cycle: {handoff.waiting}")
    return lines


def account_handoff_lines(account: AccountHandoffExplained, model: ScoringModel) -> list[str]:
    """The account task in words: made (for whom, when, open or done) or covered by a contact's task; the account's
    episode; what would make one; why the last cycle left it waiting."""
    episode, days = account.episode, model.handoff.rearm_after_days
    lines = ["account handoff (one account task per episode, for the company's owner):"]
    if account.task_created_at is not None:
        state = "open" if account.task_open else "done"
        lines.append(
            f"  account task for owner {account.task_owner} created on {account.task_created_at:%Y-%m-%d}; "
            f"it is {state}"
        )
    if account.covered_by is not None and episode.handed_over_at is not None:
        who = "this contact's task" if account.covered_by_this else f"the task of contact {account.covered_by}"
        lines.append(
            f"  buying center covered on {episode.handed_over_at:%Y-%m-%d} by {who} (its body names the buying "
            "center): no account task"
        )
    if not episode.armed:
        since = episode.triggers_held_at or episode.handed_over_at
        if account.triggered:
            quiet = "not quiet yet: the buying center is active"
        elif since is not None:
            quiet = f"quiet since {since:%Y-%m-%d}, re-arms on {since + timedelta(days=days):%Y-%m-%d}"
        else:
            quiet = "quiet"
        lines.append(f"  disarmed: re-arms after {days} quiet days ({quiet})")
    elif account.triggered:
        lines.append(
            f"  armed, buying center active in segment {account.segment}: an account task at the next cycle the "
            "company's owner has capacity, unless a contact's task covers it"
        )
    else:
        segments = ", ".join(model.handoff.segments) or "(none)"
        lines.append(
            f"  armed: an account task once {model.account.buying_center_contacts} contacts are active within "
            f"{model.account.buying_center_days} days and the account segment is one of {segments}"
        )
    if account.waiting is not None:
        lines.append(f"  last cycle: {account.waiting}")
    return lines


def _would_trigger(model: ScoringModel) -> str:
    handoff = model.handoff
    entry = {"sales_ready": model.status.sales_ready, "mql": model.status.mql}
    whens = [f"it becomes {s.value} (engagement ≥ {entry[s.value]})" for s in handoff.statuses if s.value in entry]
    if handoff.segments:
        segments = list(handoff.segments)
        listed = f"{', '.join(segments[:-1])} or {segments[-1]}" if len(segments) > 1 else segments[0]
        whens.append(f"it enters segment {listed}")
    if handoff.surge:
        whens.append("it surges")
    whens.append(f"it reaches engagement {handoff.capacity.floor} while sales has capacity to spare")
    raisers = [s.label for s in model.signals if s.hand_raiser]
    text = ", ".join(whens[:-1]) + f" or {whens[-1]}"
    if raisers:
        text += f"; or at once when it asks to be contacted ({', '.join(raisers)})"
    return text
