"""The segment matrix, the ICP fit light and tier, and the lead status with hysteresis (docs/scoring.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.scoring.parsing import parse_number
from hubsync.scoring.results import FitLight, LeadStatus, Tier

if TYPE_CHECKING:
    from hubsync.records import Company
    from hubsync.scoring.model import ScoringModel

# The 4 × 4 grid: the letter is the profile quarter (A best fit), the digit the engagement quarter (1 most engaged).
LETTERS = "ABCD"
DIGITS = "1234"
SEGMENTS = tuple(letter + digit for letter in LETTERS for digit in DIGITS)


def quarter(score: int, bounds: tuple[int, int, int]) -> int:
    """0 above the first bound, 1 above the second, 2 above the third, else 3."""
    for i, bound in enumerate(bounds):
        if score > bound:
            return i
    return 3


def segment(profile: int, engagement: int, model: ScoringModel) -> str:
    """Letter from the profile, digit from the engagement: profile 80, engagement 20 -> "A4"."""
    quarters = model.compiled.quarters  # indexed by score: clamp, so that a negative index cannot wrap around
    return LETTERS[quarters[max(0, min(100, profile))]] + DIGITS[quarters[max(0, min(100, engagement))]]


def fit_light(profile: int, model: ScoringModel) -> FitLight:
    lights = model.profile.fit_light
    if profile >= lights.green:
        return FitLight.GREEN
    if profile >= lights.yellow:
        return FitLight.YELLOW
    return FitLight.RED


def tier(company: Company | None, model: ScoringModel) -> Tier:
    if company is None:
        return Tier.UNKNOWN
    tiers = model.profile.tiers
    raw = company.numberofemployees if tiers.property == "numberofemployees" else company.properties.get(tiers.property)
    employees = parse_number(raw)
    # No company has no employees: 0 (or less) is a placeholder, unknown like a missing value.
    if employees is None or employees <= 0:
        return Tier.UNKNOWN
    if employees >= tiers.enterprise:
        return Tier.ENTERPRISE
    if employees >= tiers.mid_market:
        return Tier.MID_MARKET
    return Tier.SMB


_RANK = {LeadStatus.NURTURE: 0, LeadStatus.MQL: 1, LeadStatus.SALES_READY: 2}


def entry_threshold(status: LeadStatus, model: ScoringModel) -> int:
    if status is LeadStatus.SALES_READY:
        return model.status.sales_ready
    if status is LeadStatus.MQL:
        return model.status.mql
    return 0


def lead_status(engagement: int, previous: LeadStatus | None, model: ScoringModel) -> LeadStatus:
    """The status for this engagement score, given the status the contact had before.

    Moving up is immediate. Moving down happens only once the score is `hysteresis` points below the entry
    threshold of the status held, so a score wobbling around 71 keeps sales_ready. Once it leaves, the contact
    takes the status its score gives: it was never in the status in between, so that one gets no hysteresis.
    """
    status = model.status
    if engagement >= status.sales_ready:
        plain = LeadStatus.SALES_READY
    elif engagement >= status.mql:
        plain = LeadStatus.MQL
    else:
        plain = LeadStatus.NURTURE
    if previous is None or _RANK[previous] <= _RANK[plain]:
        return plain
    if engagement >= entry_threshold(previous, model) - status.hysteresis:
        return previous
    return plain
