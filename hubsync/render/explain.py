"""A contact's full explanation as text (`hubsync explain`): every contribution, fit rules, gates, the account."""

from __future__ import annotations

from typing import Any

from hubsync.records import Company, Contact
from hubsync.scoring import Explanation, ScoringModel, history_lines


def explanation_text(
    contact: Contact,
    company: Company | None,
    explanation: Explanation,
    model: ScoringModel,
    *,
    account: Any | None = None,
    stored_status: str | None = None,
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
