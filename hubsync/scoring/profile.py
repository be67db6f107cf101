"""The profile (fit) score (docs/scoring.md): rules on contact and company properties, gates, completeness.

A value that is missing or cannot be read scores 0 for its rule and counts against completeness; it is never an
error. Gates cap the score whatever the points (a student with a great company is still not a buyer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from hubsync.scoring.parsing import email_domain, parse_number, web_domain
from hubsync.scoring.results import RuleOutcome

if TYPE_CHECKING:
    from hubsync.records import Company, Contact
    from hubsync.scoring.compiled import CompiledModel

GATE_PERSONAL_EMAIL = "personal email address"
GATE_STUDENT = "student / intern"
GATE_COMPETITOR = "competitor"
_NO_CASE = -1  # the value is known, but no case matches it
_UNKNOWN = -2  # the value is missing or cannot be read for this rule
# A bound, not a rule: free-text values (job titles) could otherwise grow the memo without end.
_RULE_MEMO_LIMIT = 100_000


class ProfileResult(NamedTuple):
    score: int
    # Points of the matched cases before gates and clamping.
    points: int
    completeness: int
    # (label, points) of every matched case, in rule order.
    hits: tuple[tuple[str, int], ...]
    gates: tuple[str, ...]
    persona: str | None
    # Only when asked for (explanations).
    outcomes: tuple[RuleOutcome, ...] = ()


def _case_index(index: int, value: str | None, cm: CompiledModel) -> int:
    """Which case of rule `index` the value matches: its index, _NO_CASE, or _UNKNOWN when it cannot be read."""
    key = (index, value)
    found = cm.rule_memo.get(key)
    if found is not None:
        return found
    rule = cm.rules[index]
    text = value.strip() if value is not None else ""
    number = parse_number(text) if rule.numeric else None
    if not text or (rule.numeric and (number is None or (rule.positive_only and number <= 0))):
        found = _UNKNOWN
    elif rule.exclude is not None and rule.exclude.search(text) is not None:
        found = _NO_CASE
    else:
        found = _NO_CASE
        for i, case in enumerate(rule.cases):
            if case.matches_number(number) if number is not None else case.matches_text(text):
                found = i
                break
    if len(cm.rule_memo) >= _RULE_MEMO_LIMIT:
        cm.rule_memo.clear()
    cm.rule_memo[key] = found
    return found


def profile(
    contact: Contact | None,
    company: Company | None,
    cm: CompiledModel,
    *,
    explain: bool = False,
) -> ProfileResult:
    """With a contact: every rule and every gate. Without one (an account): the company rules and the
    competitor gate only, since job title and email belong to people."""
    points = 0
    known = 0
    rules = 0
    hits = []
    persona = None
    outcomes = []
    for index, rule in enumerate(cm.rules):
        if rule.source == "contact":
            if contact is None:
                continue
            record: Contact | Company | None = contact
        else:
            record = company
        rules += 1
        if record is None:
            value = None
        elif rule.field is not None:
            value = getattr(record, rule.field)
        else:
            value = record.properties.get(rule.property)
        found = _case_index(index, value, cm)
        if found != _UNKNOWN:
            known += 1
            if found >= 0:
                case = rule.cases[found]
                points += case.points
                hits.append((case.label, case.points))
                persona = persona or case.persona
        if explain:
            case_hit = rule.cases[found] if found >= 0 else None
            outcomes.append(
                RuleOutcome(
                    rule=rule.name,
                    source=rule.source,
                    property=rule.property,
                    value=value,
                    known=found != _UNKNOWN,
                    points=case_hit.points if case_hit else 0,
                    label=case_hit.label if case_hit else None,
                )
            )
    gates = _gates(contact, company, cm)
    score = max(0, min(100, points))
    if gates:
        score = min(score, cm.model.profile.gates.cap)
    # Completeness is rounded down, so that 100 % means every rule was known.
    completeness = known * 100 // rules if rules else 100
    return ProfileResult(score, points, completeness, tuple(hits), gates, persona, tuple(outcomes))


def _gates(contact: Contact | None, company: Company | None, cm: CompiledModel) -> tuple[str, ...]:
    if contact is None:
        mail_domain = title = None
    else:
        mail_domain = email_domain(contact.email)
        title = contact.jobtitle
    personal = mail_domain is not None and mail_domain in cm.personal_domains
    student = cm.is_student(title)
    competitor = bool(cm.competitor_domains) and (
        (mail_domain is not None and mail_domain.removeprefix("www.") in cm.competitor_domains)
        or (company is not None and web_domain(company.domain) in cm.competitor_domains)
    )
    if not (personal or student or competitor):
        return ()
    return tuple(
        gate
        for gate, hit in ((GATE_PERSONAL_EMAIL, personal), (GATE_STUDENT, student), (GATE_COMPETITOR, competitor))
        if hit
    )
