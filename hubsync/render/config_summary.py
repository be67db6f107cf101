"""The text `hubsync config check` prints: the effective settings and scoring model, as an admin reads them."""

from __future__ import annotations

from hubsync.scoring.model import ScoringModel
from hubsync.settings import Settings


def config_summary(settings: Settings) -> str:
    cfg = settings.config
    portal, sync, schedule, push, tasks = cfg.portal, cfg.sync, cfg.schedule, cfg.push, cfg.tasks
    per_10s = portal.effective_requests_per_10s
    lines = [
        f"config: {settings.config_source} (valid)",
        (
            f"portal: {portal.tier} tier; pacing at {int(per_10s * portal.pace_fraction)} of {per_10s} requests "
            f"per 10 s; {portal.search_requests_per_second} searches/s; daily quota {portal.effective_daily_quota:,}, "
            f"{portal.daily_quota_reserve:.0%} kept in reserve"
        ),
        (
            f"sync: first run pulls {sync.history_days} days of history; re-reads {sync.overlap_minutes} min behind "
            f"the cursor; associations of {sync.recent_checks_per_run} contacts active in {sync.recent_days} days "
            f"in turn every run, all every "
            f"{sync.full_reconcile_days} days; page views {'on' if sync.page_views else 'off'}"
        ),
        (
            f"schedule: a cycle every {schedule.cycle_minutes} min; full rescore daily at {schedule.daily_rescore_at}; "
            f"reconciliation {schedule.weekly_reconcile_day} {schedule.weekly_reconcile_at} ({schedule.timezone}); "
            f"lease {schedule.lease_seconds} s"
        ),
        (
            f"push: properties {push.property_prefix}* in group '{push.property_group}'; lifecycle stage "
            f"{'moved forward to MQL/SQL' if push.advance_lifecycle_stage else 'left alone'}"
        ),
        f"tasks: {tasks.priority} {tasks.type} due {tasks.sla_hours:g} h after handoff; owner: "
        + " → ".join(tasks.owner_routing)
        + f" ({len(tasks.round_robin_owners)} round-robin owners)",
        f"monitoring: `hubsync status` fails when no run succeeded for {cfg.monitoring.max_age_minutes} min",
        *_scoring_lines(cfg.scoring),
    ]
    return "\n".join(lines)


def _scoring_lines(model: ScoringModel) -> list[str]:
    lines = [
        "scoring:",
        f"  decay: full weight for {model.decay.grace_days} days, then halves every {model.decay.half_life_days} days",
        f"  signals ({len(model.signals)}, the first that matches an activity counts):",
    ]
    width = max(len(s.name) for s in model.signals)
    for signal in model.signals:
        cap = f"cap {signal.max_points}" if signal.max_points is not None else "no cap"
        fades = "" if signal.decays else ", never fades"
        kinds = "/".join(sorted({m.kind for m in signal.match}))
        lines.append(f"    {signal.name:<{width}}  {signal.points:+4d}  {cap + fades:<20}  [{kinds}] {signal.label}")
    lines.extend(
        f"  pattern {p.name}: {' → '.join(p.signals)} within {p.within_days} days {p.bonus:+d}" for p in model.patterns
    )
    status, surge, handoff = model.status, model.surge, model.handoff
    capacity = handoff.capacity
    lines += [
        f"  inactivity: -{model.inactivity.points} per {model.inactivity.days} days without positive activity",
        (
            f"  surge: last {surge.window_days} days ≥ {surge.factor:g}× the weekly average of the "
            f"{surge.baseline_days} days before, and ≥ {surge.min_points} points"
        ),
        f"  profile rules ({len(model.profile.rules)}): " + ", ".join(rule.name for rule in model.profile.rules),
        (
            f"  gates: profile capped at {model.profile.gates.cap} for personal email domains "
            f"({len(model.profile.gates.personal_email_domains)}), student titles, competitor domains "
            f"({len(model.profile.gates.competitor_domains)})"
        ),
        (
            f"  fit light: red < {model.profile.fit_light.yellow} ≤ yellow < {model.profile.fit_light.green} ≤ green; "
            f"tiers: smb < {model.profile.tiers.mid_market} ≤ mid_market < {model.profile.tiers.enterprise} "
            "≤ enterprise employees"
        ),
        "  segments: letter (profile) and digit (engagement) cut at > " + " / > ".join(map(str, model.segments.bounds)),
        (
            f"  status: nurture < {status.mql} ≤ mql < {status.sales_ready} ≤ sales_ready; leaves a status "
            f"{status.hysteresis} points below its entry"
        ),
        "  handoff: status "
        + ", ".join(str(s) for s in handoff.statuses)
        + "; segments "
        + ", ".join(handoff.segments)
        + ("; surge" if handoff.surge else "")
        + "; never when fit is "
        + ", ".join(str(f) for f in handoff.blocked_fit),
        (
            f"  seller capacity: {capacity.default} open tasks per owner ({len(capacity.owners)} overrides); "
            f"threshold {capacity.base}, moves between {capacity.floor} and {capacity.ceiling}"
        ),
        (
            f"  account: best contact + {model.account.further_contact_points} per further contact ≥ "
            f"{model.account.engaged_min}; buying center active with {model.account.buying_center_contacts} "
            f"contacts active in {model.account.buying_center_days} days"
        ),
    ]
    return lines
