"""What scoring produces: small frozen values the pipeline writes back, and the detail `explain` renders.

Everything here is plain data. The scores themselves are integers 0-100; the float fields of the detail types
keep the exact arithmetic so that an explanation adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LeadStatus(StrEnum):
    NURTURE = "nurture"
    MQL = "mql"
    SALES_READY = "sales_ready"


class FitLight(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class Tier(StrEnum):
    ENTERPRISE = "enterprise"
    MID_MARKET = "mid_market"
    SMB = "smb"
    UNKNOWN = "unknown"


class HandoffTrigger(StrEnum):
    """Why a contact is in the sales queue."""

    STATUS = "status"  # its lead status is one of `handoff.statuses`
    SEGMENT = "segment"  # its segment is one of `handoff.segments`
    SURGE = "surge"  # its activity surged
    SCORE = "score"  # its engagement reaches the capacity floor, so spare sales capacity may take it
    HAND_RAISER = "hand_raiser"  # it asked to be contacted (a `hand_raiser` signal within `hand_raiser_days`)


@dataclass(frozen=True, slots=True)
class ContactScore:
    """Everything hubsync writes to a contact, plus what account scoring and the handoff need from it."""

    contact_id: int
    engagement: int
    profile: int
    # Share of the profile rules whose property was known, in whole percent (rounded down, so 100 means all).
    completeness: int
    fit_light: FitLight
    tier: Tier
    segment: str
    status: LeadStatus
    surge: bool
    # The short reason (at most 500 characters) for the CRM property.
    reason: str
    # The newest activity that earned positive points; None when there was none.
    last_positive_at: datetime | None
    # The persona of the profile case that matched the job title ("decision_maker", …), if any.
    persona: str | None
    # Names of the profile gates that capped the profile score ("personal email address", …).
    gates: tuple[str, ...] = ()
    # The newest hand-raiser activity within `handoff.hand_raiser_days` of the scoring instant.
    hand_raise_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CompanyScore:
    company_id: int
    engagement: int
    profile: int
    completeness: int
    fit_light: FitLight
    tier: Tier
    segment: str
    buying_center_active: bool
    # Contacts with positive activity within `account.buying_center_days`.
    active_contacts: int
    # Contacts with engagement at or above `account.engaged_min`.
    engaged_contacts: int
    personas_present: tuple[str, ...]
    personas_missing: tuple[str, ...]
    reason: str


# --- The detail behind a contact's score (built only by `explain_contact`, never in the bulk path) ---------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One activity's contribution, as of the scoring instant."""

    occurred_at: datetime
    activity_id: str
    signal: str
    label: str
    points: int
    # 1.0 within the grace period or for signals that do not decay.
    decay: float
    # points * decay
    weighted: float
    # What is left of `weighted` after the signal's cap (allocated oldest first); equal to it when uncapped.
    counted: float


@dataclass(frozen=True, slots=True)
class SignalTotal:
    signal: str
    label: str
    count: int
    weighted: float
    cap: int | None
    counted: float


@dataclass(frozen=True, slots=True)
class PatternHit:
    pattern: str
    label: str
    completed_at: datetime
    bonus: int
    decay: float
    counted: float


@dataclass(frozen=True, slots=True)
class SurgeDetail:
    recent_points: float
    baseline_weekly_points: float
    surge: bool
    # False while the contact's history is younger than the surge horizon: a new contact never surges.
    has_history: bool = True


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One profile rule on one record: the raw value seen, whether it counted as known, and what it gave."""

    rule: str
    source: str
    property: str
    value: str | None
    known: bool
    points: int
    label: str | None


@dataclass(frozen=True, slots=True)
class Explanation:
    score: ContactScore
    as_of: datetime
    # Every activity that matched a signal, oldest first.
    history: tuple[HistoryEntry, ...]
    signals: tuple[SignalTotal, ...]
    patterns: tuple[PatternHit, ...]
    inactivity_penalty: int
    # Days since the last positive activity (None without one).
    inactive_days: int | None
    surge: SurgeDetail
    rules: tuple[RuleOutcome, ...]
    # Activities that matched no signal or lie after the scoring instant.
    ignored_activities: int
    # The profile points before gates and the 0-100 clamp.
    profile_points: int
