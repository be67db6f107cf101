"""Account (company) scores (docs/scoring.md): the buying center seen as a whole, from its contacts' scores."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from hubsync.scoring.profile import profile
from hubsync.scoring.reasons import join_reason, profile_reason
from hubsync.scoring.results import CompanyScore
from hubsync.scoring.segments import fit_light, segment, tier

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from hubsync.records import Company
    from hubsync.scoring.model import ScoringModel


class AccountMember(Protocol):
    """What a company's score reads of each of its contacts' scores (a ContactScore is one; `hubsync preview` keeps
    less of each)."""

    @property
    def engagement(self) -> int: ...
    @property
    def last_positive_at(self) -> datetime | None: ...
    @property
    def persona(self) -> str | None: ...


_TOP = 100


def account_engagement(engagements: Iterable[int], model: ScoringModel) -> tuple[int, int]:
    """(account engagement, engaged contacts): the best contact, plus `further_contact_points` for every
    further contact at or above `engaged_min`, at most 100.

    Worked example 8 ("three contacts ≥ 31 → best contact + 20") is this rule with two further contacts.
    """
    ranked = sorted(engagements, reverse=True)
    if not ranked:
        return 0, 0
    account = model.account
    engaged = sum(1 for e in ranked if e >= account.engaged_min)
    further = max(0, engaged - 1) if ranked[0] >= account.engaged_min else 0
    return min(100, ranked[0] + further * account.further_contact_points), engaged


def score_company(
    company: Company,
    contacts: Iterable[AccountMember],
    model: ScoringModel,
    *,
    now: datetime,
) -> CompanyScore:
    """The account scores of a company from the scores of its contacts (all associated contacts, scored as of
    the same `now`)."""
    cm = model.compiled
    account = model.account
    members = list(contacts)
    eng, engaged = account_engagement((c.engagement for c in members), model)
    since = now - timedelta(days=account.buying_center_days)
    active = sum(1 for c in members if c.last_positive_at is not None and c.last_positive_at >= since)
    buying_center = active >= account.buying_center_contacts
    present = {c.persona for c in members if c.engagement >= account.engaged_min and c.persona is not None}
    personas_present = tuple(p.name for p in account.personas if p.name in present)
    personas_missing = tuple(p.name for p in account.personas if p.name not in present)

    prof = profile(None, company, cm)
    sections = []
    if members:
        best = max(c.engagement for c in members)
        if eng >= _TOP and engaged > 1:
            # At the top the best contact's score may fade without changing the account's: named, it would change
            # the text (and cause a write) every few days while nothing else does.
            text = f"{engaged} engaged contacts (capped at {_TOP})"
        else:
            text = f"best contact {best}"
            if eng > best:
                text += f", {engaged - 1} further engaged contact(s) ({eng - best:+d})"
        sections.append(text)
    if buying_center:
        # The threshold, not the count: how many contacts were active in the window moves with the clock alone.
        sections.append(
            f"buying center active: {account.buying_center_contacts}+ contacts in {account.buying_center_days} days"
        )
    if personas_missing and members:
        sections.append("no engaged " + " or ".join(cm.persona_labels[p] for p in personas_missing))
    sections.append(profile_reason(prof.hits, prof.gates, cm))
    return CompanyScore(
        company_id=company.id,
        engagement=eng,
        profile=prof.score,
        completeness=prof.completeness,
        fit_light=fit_light(prof.score, model),
        tier=tier(company, model),
        segment=segment(prof.score, eng, model),
        buying_center_active=buying_center,
        active_contacts=active,
        engaged_contacts=engaged,
        personas_present=personas_present,
        personas_missing=personas_missing,
        reason=join_reason(*sections),
    )
