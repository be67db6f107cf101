"""Scoring one contact: what the pipeline (`score_contact`) and `hubsync explain` (`explain_contact`) call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hubsync.scoring.bulk import bulk_engagement
from hubsync.scoring.engagement import HistoryRow, capped, engagement, engagement_of, history_rows
from hubsync.scoring.profile import profile
from hubsync.scoring.reasons import engagement_reason, join_reason, profile_reason
from hubsync.scoring.results import (
    ContactScore,
    Explanation,
    HistoryEntry,
    PatternHit,
    SignalTotal,
    SurgeDetail,
)
from hubsync.scoring.segments import fit_light, lead_status, segment, tier

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from hubsync.records import Activity, Company, Contact
    from hubsync.scoring.bulk import ActivityArrays
    from hubsync.scoring.compiled import CompiledModel
    from hubsync.scoring.engagement import Buckets, EngagementResult
    from hubsync.scoring.model import ScoringModel
    from hubsync.scoring.profile import ProfileResult
    from hubsync.scoring.results import LeadStatus


def _instant(now: datetime) -> float:
    if now.tzinfo is None:
        # A naive instant would silently be read as local time and shift every age.
        raise ValueError("now must be timezone-aware")
    return now.timestamp()


def _created(contact: Contact) -> float | None:
    return contact.created_at.timestamp() if contact.created_at is not None else None


def score_contact(
    contact: Contact,
    company: Company | None,
    activities: Iterable[Activity],
    model: ScoringModel,
    *,
    now: datetime,
    previous_status: LeadStatus | None = None,
) -> ContactScore:
    """All scores of one contact as of `now`. `company` is its primary company (None if it has none),
    `activities` are its activities in any order (those after `now` are ignored), `previous_status` is the status
    last written (None for a new contact), for the hysteresis."""
    cm = model.compiled
    eng = engagement(activities, cm, _instant(now), _created(contact))
    prof = profile(contact, company, cm)
    return _contact_score(contact, company, eng=eng, prof=prof, cm=cm, previous_status=previous_status)


def score_classified(
    contact: Contact,
    company: Company | None,
    buckets: Buckets,
    model: ScoringModel,
    *,
    now: datetime,
    previous_status: LeadStatus | None = None,
) -> ContactScore:
    """`score_contact` for activities already grouped by signal (`engagement.classify_rows`, the full rescore's
    bulk read): the same arithmetic on the same timestamps, so the same scores."""
    cm = model.compiled
    eng = engagement_of(buckets, cm, _instant(now), _created(contact))
    prof = profile(contact, company, cm)
    return _contact_score(contact, company, eng=eng, prof=prof, cm=cm, previous_status=previous_status)


def engagements_in_bulk(
    contacts: Sequence[Contact], activities: ActivityArrays, model: ScoringModel, *, now: datetime
) -> list[EngagementResult]:
    """The engagement of each of `contacts` (ascending ids) as `score_contact` computes it, all at once over the
    arrays of their activities (bulk.py; the full rescore)."""
    ids = [c.id for c in contacts]
    created = [_created(c) for c in contacts]
    return bulk_engagement(ids, created, activities, model.compiled, _instant(now))


def score_engaged(
    contact: Contact,
    company: Company | None,
    eng: EngagementResult,
    model: ScoringModel,
    *,
    previous_status: LeadStatus | None = None,
) -> ContactScore:
    """`score_contact` for an engagement already computed (`engagements_in_bulk`)."""
    cm = model.compiled
    prof = profile(contact, company, cm)
    return _contact_score(contact, company, eng=eng, prof=prof, cm=cm, previous_status=previous_status)


def company_inputs(company: Company | None, model: ScoringModel) -> tuple[object, ...]:
    """What a contact's scores read from its primary company: the values its company profile rules see, whether
    its domain is a competitor's, and its tier. When these are equal for two versions of a company (or for a
    company and none), its contacts' scores are equal too; the pull rescores a company's contacts only when they
    differ, and otherwise only its account scores are aggregated again."""
    prof = profile(None, company, model.compiled, explain=True)
    return (tuple(outcome.value for outcome in prof.outcomes), prof.gates, tier(company, model))


def explain_contact(
    contact: Contact,
    company: Company | None,
    activities: Iterable[Activity],
    model: ScoringModel,
    *,
    now: datetime,
    previous_status: LeadStatus | None = None,
) -> Explanation:
    """The same score as `score_contact`, with every contribution dated and itemised (slower; for one contact)."""
    cm = model.compiled
    activities = list(activities)
    eng = engagement(activities, cm, _instant(now), _created(contact))
    rows = history_rows(activities, cm, _instant(now))
    prof = profile(contact, company, cm, explain=True)
    score = _contact_score(contact, company, eng=eng, prof=prof, cm=cm, previous_status=previous_status)
    return Explanation(
        score=score,
        as_of=now,
        history=_history(rows, cm),
        signals=tuple(
            SignalTotal(
                signal=cm.signals[i].name,
                label=cm.signals[i].label,
                count=count,
                weighted=weighted,
                cap=cm.signals[i].cap,
                counted=counted,
            )
            for i, count, weighted, counted in sorted(eng.signals, key=lambda s: -abs(s[3]))
        ),
        patterns=tuple(
            PatternHit(
                pattern=cm.patterns[p.pattern].name,
                label=cm.patterns[p.pattern].label,
                completed_at=datetime.fromtimestamp(p.completed_ts, UTC),
                bonus=cm.patterns[p.pattern].bonus,
                decay=p.decay,
                counted=p.counted,
            )
            for p in eng.patterns
        ),
        inactivity_penalty=eng.inactivity_penalty,
        inactive_days=int(eng.inactive_s // 86400) if eng.inactive_s is not None else None,
        surge=SurgeDetail(eng.recent_points, eng.baseline_weekly_points, eng.surge, eng.has_history),
        rules=prof.outcomes,
        ignored_activities=eng.ignored,
        profile_points=prof.points,
    )


def _contact_score(
    contact: Contact,
    company: Company | None,
    *,
    eng: EngagementResult,
    prof: ProfileResult,
    cm: CompiledModel,
    previous_status: LeadStatus | None,
) -> ContactScore:
    model = cm.model
    reason = join_reason(engagement_reason(eng, cm), profile_reason(prof.hits, prof.gates, cm))
    return ContactScore(
        contact_id=contact.id,
        engagement=eng.score,
        profile=prof.score,
        completeness=prof.completeness,
        fit_light=fit_light(prof.score, model),
        tier=tier(company, model),
        segment=segment(prof.score, eng.score, model),
        status=lead_status(eng.score, previous_status, model),
        surge=eng.surge,
        reason=reason,
        last_positive_at=(
            datetime.fromtimestamp(eng.last_positive_ts, UTC) if eng.last_positive_ts is not None else None
        ),
        persona=prof.persona,
        gates=prof.gates,
        hand_raise_at=datetime.fromtimestamp(eng.hand_raise_ts, UTC) if eng.hand_raise_ts is not None else None,
    )


def _history(rows: list[HistoryRow], cm: CompiledModel) -> tuple[HistoryEntry, ...]:
    # Caps are allocated oldest first: the activity that pushes a signal past its cap is the one shown as cut.
    rows = sorted(rows, key=lambda row: (row[0].occurred_at, row[0].id))
    running: dict[int, float] = {}
    entries = []
    for activity, i, _age, weighted in rows:
        signal = cm.signals[i]
        before = running.get(i, 0.0)
        after = before + weighted
        running[i] = after
        counted = capped(after, signal.cap) - capped(before, signal.cap)
        entries.append(
            HistoryEntry(
                occurred_at=activity.occurred_at,
                activity_id=activity.id,
                signal=signal.name,
                label=signal.label,
                points=signal.points,
                decay=weighted / signal.points if signal.points else 1.0,
                weighted=weighted,
                counted=counted,
            )
        )
    return tuple(entries)
