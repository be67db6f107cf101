"""The scoring model turned into what the scoring loop needs: built once per model, then only looked up.

A bulk rescore sees millions of activities but only thousands of distinct (kind, url, form name, …)
combinations, so which signal an activity counts for is decided once per combination and remembered here.
The memo is bounded and only ever holds answers that follow from the model, so scoring stays pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

from hubsync.records import ActivityKind
from hubsync.scoring.segments import quarter

# The attributes of an activity that a signal's match may test (scoring.model.Match has one field for each).
CONDITIONS = ("url", "title", "form_name", "event_name", "event_type", "direction", "status")

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubsync.records import Activity
    from hubsync.scoring.model import Case, Match, Rule, ScoringModel

ActivityKey = tuple["str | None", ...]
_MEMO_LIMIT = 200_000
NO_SIGNAL = -1


@dataclass(frozen=True, slots=True)
class CompiledSignal:
    name: str
    label: str
    points: int
    cap: int | None
    decays: bool


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    name: str
    label: str
    signals: tuple[int, ...]
    within_seconds: float
    bonus: int
    decays: bool


@dataclass(frozen=True, slots=True)
class _Matcher:
    signal: int
    regexes: tuple[tuple[int, re.Pattern[str]], ...]  # (position in the memo key, pattern)
    lists: tuple[tuple[int, frozenset[str]], ...]

    def matches(self, key: ActivityKey) -> bool:
        for pos, pattern in self.regexes:
            if pattern.search(key[pos] or "") is None:
                return False
        return all((key[pos] or "").casefold() in accepted for pos, accepted in self.lists)


def _key_fields(model: ScoringModel) -> tuple[str, ...]:
    """The activity attributes some signal tests, in a fixed order: with the kind, they make the memo key.

    Only these, because building and hashing the key is most of the cost per activity. At least one is kept so
    that the key is always a tuple.
    """
    used = {name for s in model.signals for m in s.match for name in CONDITIONS if getattr(m, name) is not None}
    return tuple(name for name in CONDITIONS if name in used) or ("url",)


def _matcher(signal: int, match: Match, positions: dict[str, int]) -> _Matcher:
    regexes = []
    lists = []
    for name in ("url", "title", "form_name", "event_name"):
        value = getattr(match, name)
        if value is not None:
            regexes.append((positions[name], re.compile(value, re.IGNORECASE)))
    for name in ("event_type", "direction", "status"):
        values = getattr(match, name)
        if values is not None:
            lists.append((positions[name], frozenset(v.casefold() for v in values)))
    return _Matcher(signal, tuple(regexes), tuple(lists))


@dataclass(frozen=True, slots=True)
class CompiledCase:
    label: str
    points: int
    low: float | None
    low_inclusive: bool
    high: float | None
    high_inclusive: bool
    one_of: frozenset[str] | None
    regex: re.Pattern[str] | None
    persona: str | None

    def matches_number(self, value: float) -> bool:
        if self.low is not None and (value < self.low if self.low_inclusive else value <= self.low):
            return False
        return not (self.high is not None and (value > self.high if self.high_inclusive else value >= self.high))

    def matches_text(self, value: str) -> bool:
        if self.one_of is not None:
            return value.casefold() in self.one_of
        return self.regex is not None and self.regex.search(value) is not None


def _case(case: Case) -> CompiledCase:
    return CompiledCase(
        label=case.label,
        points=case.points,
        low=case.gt if case.gt is not None else case.gte,
        low_inclusive=case.gt is None,
        high=case.lt if case.lt is not None else case.lte,
        high_inclusive=case.lt is None,
        one_of=frozenset(v.strip().casefold() for v in case.one_of) if case.one_of is not None else None,
        regex=re.compile(case.regex, re.IGNORECASE) if case.regex is not None else None,
        persona=case.persona,
    )


_CONTACT_FIELDS = frozenset({"email", "firstname", "lastname", "jobtitle", "country", "lifecyclestage"})
_COMPANY_FIELDS = frozenset({"name", "domain", "industry", "numberofemployees", "annualrevenue", "country"})


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    source: Literal["contact", "company"]
    property: str
    numeric: bool
    cases: tuple[CompiledCase, ...]
    # The record's own field of that name, if it has one; otherwise the value is looked up in `properties`.
    field: str | None
    # A value this matches is known and matches no case (assistants are not decision makers).
    exclude: re.Pattern[str] | None
    # Only numbers above 0 are known: the rule reads the employee count, and no company has none.
    positive_only: bool


def _rule(rule: Rule, employees_property: str) -> CompiledRule:
    fields = _CONTACT_FIELDS if rule.source == "contact" else _COMPANY_FIELDS
    return CompiledRule(
        name=rule.name,
        source=rule.source,
        property=rule.property,
        numeric=rule.cases[0].condition == "number",
        cases=tuple(_case(c) for c in rule.cases),
        field=rule.property if rule.property in fields else None,
        exclude=re.compile(rule.exclude, re.IGNORECASE) if rule.exclude is not None else None,
        positive_only=rule.source == "company" and rule.property == employees_property,
    )


class CompiledModel:
    """Signals grouped by activity kind with compiled regexes, and a memo of activity key -> signal index."""

    def __init__(self, model: ScoringModel) -> None:
        self.model = model
        self.signals = tuple(CompiledSignal(s.name, s.label, s.points, s.max_points, s.decays) for s in model.signals)
        fields = _key_fields(model)
        # The activity attributes after the kind that make the memo key (a bulk read selects only these).
        self.key_fields = fields
        self.activity_key: Callable[[Activity], ActivityKey] = attrgetter("kind", *fields)
        positions = {name: position for position, name in enumerate(fields, start=1)}
        by_kind: dict[str, list[_Matcher]] = {kind: [] for kind in ActivityKind}
        # Config order across all signals, so that "the first signal that matches" holds within each kind.
        for i, signal in enumerate(model.signals):
            for match in signal.match:
                by_kind[match.kind].append(_matcher(i, match, positions))
        self._by_kind = {kind: tuple(matchers) for kind, matchers in by_kind.items()}
        self.memo: dict[ActivityKey, int] = {}
        index = {s.name: i for i, s in enumerate(model.signals)}
        self.patterns = tuple(
            CompiledPattern(
                p.name, p.label, tuple(index[n] for n in p.signals), p.within_days * 86400.0, p.bonus, p.decays
            )
            for p in model.patterns
        )
        self.pattern_signals = frozenset(i for p in self.patterns for i in p.signals)
        self.hand_raisers = frozenset(i for i, s in enumerate(model.signals) if s.hand_raiser)
        self.rules = tuple(_rule(r, model.profile.tiers.property) for r in model.profile.rules)
        gates = model.profile.gates
        self.personal_domains = frozenset(d.strip().lower() for d in gates.personal_email_domains)
        self.competitor_domains = frozenset(d.strip().lower().removeprefix("www.") for d in gates.competitor_domains)
        self.student_title = re.compile(gates.student_title, re.IGNORECASE) if gates.student_title else None
        self.persona_labels = {p.name: p.label for p in model.account.personas}
        self.owner_capacity = {email.strip().lower(): c for email, c in model.handoff.capacity.owners.items()}
        # The segment quarter of every score 0-100, looked up instead of compared for each contact.
        self.quarters = tuple(quarter(score, model.segments.bounds) for score in range(101))
        # (rule index, raw value) -> matched case, or profile._NO_CASE / _UNKNOWN: values repeat across contacts.
        self.rule_memo: dict[tuple[int, str | None], int] = {}
        self.title_memo: dict[str, bool] = {}
        # Reason texts by the rounded breakdown they describe (see reasons.py).
        self.reason_memo: dict[object, str] = {}
        # Durations in seconds, and per-signal values as plain tuples, for the inner loop.
        day = 86400.0
        # (points, cap, decays, used by a pattern) per signal.
        self.signal_rows = tuple(
            (s.points, s.cap, s.decays, i in self.pattern_signals) for i, s in enumerate(self.signals)
        )
        self.grace_s = model.decay.grace_days * day
        self.inv_half_life_s = 1.0 / (model.decay.half_life_days * day)
        self.inactivity_s = model.inactivity.days * day
        self.inactivity_points = model.inactivity.points
        surge = model.surge
        self.surge_window_s = surge.window_days * day
        self.surge_horizon_s = (surge.window_days + surge.baseline_days) * day
        # The baseline's points per surge window ("the weekly average of the 28 days before").
        self.surge_week_share = surge.window_days / surge.baseline_days
        self.surge_min_points = surge.min_points
        self.surge_factor = surge.factor
        self.hand_raiser_s = model.handoff.hand_raiser_days * day

    def signal_of(self, activity: Activity) -> int:
        """The index of the first signal (in config order) that matches, or NO_SIGNAL."""
        key = self.activity_key(activity)
        found = self.memo.get(key)
        return self.classify(key) if found is None else found

    def is_student(self, title: str | None) -> bool:
        """Whether the student / intern gate matches this job title (remembered: titles repeat)."""
        if not title or self.student_title is None:
            return False
        found = self.title_memo.get(title)
        if found is None:
            found = self.student_title.search(title) is not None
            if len(self.title_memo) >= _MEMO_LIMIT:
                self.title_memo.clear()
            self.title_memo[title] = found
        return found

    def remember_reason(self, key: object, text: str) -> None:
        if len(self.reason_memo) >= _MEMO_LIMIT:
            self.reason_memo.clear()
        self.reason_memo[key] = text

    def classify(self, key: ActivityKey) -> int:
        """Decide (and remember) the signal of an activity key; the loop calls this only on a memo miss."""
        found = NO_SIGNAL
        for matcher in self._by_kind.get(key[0] or "", ()):
            if matcher.matches(key):
                found = matcher.signal
                break
        if len(self.memo) >= _MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = found
        return found


def compile_model(model: ScoringModel) -> CompiledModel:
    return CompiledModel(model)
