"""The scoring model: the schema of the `[scoring]` tables of `config/hubsync.toml` (see docs/scoring.md).

Everything is validated on load, so that a mistake in the file is reported with the key that holds it
(`scoring.signals[3].match[0].url: not a valid regular expression …`) instead of surfacing as a wrong score.
Checks that need more than one key (a pattern naming an unknown signal, thresholds out of order) point at the
key to fix as well.

Build a changed model with `parse()` on changed data, not with `model_copy(update=…)`: the compiled form of a
model (see `compiled.py`) is built once and would be copied along stale.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, Strict, StrictStr, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from hubsync.records import ActivityKind, EmailEventType, EngagementType, MarketingEventType, ProfileField
from hubsync.scoring.compiled import CONDITIONS, CompiledModel, compile_model
from hubsync.scoring.results import FitLight, LeadStatus
from hubsync.validation import ConfigModel


def _check_regex(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as err:
        raise ValueError(f"not a valid regular expression ({err})") from None
    return value


def _check_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError("use lowercase letters, digits and underscores, starting with a letter")
    return value


def _check_segment(value: str) -> str:
    if not re.fullmatch(r"[A-D][1-4]", value):
        raise ValueError("a segment is a letter A-D and a digit 1-4, e.g. A1")
    return value


# TOML arrays arrive as lists; the model keeps tuples (immutable), so only the container is converted (and
# enum values arrive as strings). Everything inside stays strict.
LAX = Strict(strict=False)
Regex = Annotated[StrictStr, AfterValidator(_check_regex)]
Name = Annotated[StrictStr, AfterValidator(_check_name)]
Label = Annotated[StrictStr, Field(min_length=1, max_length=80)]
Strings = Annotated[tuple[StrictStr, ...], LAX]
Kind = Annotated[ActivityKind, LAX]
Percent = Annotated[int, Field(ge=0, le=100)]


def fail(loc: tuple[int | str, ...], message: str, value: object = None) -> ValidationError:
    """A validation error at `loc` (relative to the model being validated), for checks spanning several keys."""
    return ValidationError.from_exception_data(
        "ScoringModel",
        [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)],
    )


# --- Engagement -----------------------------------------------------------------------------------------------


class Decay(ConfigModel):
    grace_days: Annotated[int, Field(ge=0)] = 30
    half_life_days: Annotated[int, Field(gt=0)] = 90


# Which attributes each activity kind carries (see hubsync.records.Activity); a condition on any other
# attribute could never match and is rejected as a mistake.
_APPLIES: dict[ActivityKind, frozenset[str]] = {
    ActivityKind.PAGE_VIEW: frozenset({"url", "title"}),
    ActivityKind.FORM_SUBMISSION: frozenset({"url", "form_name"}),
    ActivityKind.EMAIL_EVENT: frozenset({"url", "event_type", "status"}),
    ActivityKind.MARKETING_EVENT: frozenset({"event_type", "event_name"}),
    ActivityKind.CRM_ENGAGEMENT: frozenset({"event_type", "direction", "status"}),
    ActivityKind.PROFILE_CHANGE: frozenset({"event_type", "title"}),
}
_EVENT_TYPES: dict[ActivityKind, frozenset[str]] = {
    ActivityKind.EMAIL_EVENT: frozenset(EmailEventType),
    ActivityKind.MARKETING_EVENT: frozenset(MarketingEventType),
    ActivityKind.CRM_ENGAGEMENT: frozenset(EngagementType),
    ActivityKind.PROFILE_CHANGE: frozenset(ProfileField),
}


class Match(ConfigModel):
    """An activity of `kind` whose attributes satisfy every condition given (all are optional).

    Regular expressions are searched anywhere in the value, ignoring case. The lists accept any of their values,
    ignoring case; "" in a list accepts an activity where HubSpot sent no value.
    """

    kind: Kind
    url: Regex | None = None
    title: Regex | None = None
    form_name: Regex | None = None
    event_name: Regex | None = None
    event_type: Strings | None = None
    direction: Strings | None = None
    status: Strings | None = None

    @model_validator(mode="after")
    def _conditions_apply(self) -> Self:
        for name in CONDITIONS:
            if getattr(self, name) is not None and name not in _APPLIES[self.kind]:
                allowed = ", ".join(sorted(_APPLIES[self.kind]))
                raise fail((name,), f"{self.kind} activities have no {name} (they have: {allowed})")
        known = _EVENT_TYPES.get(self.kind, frozenset())
        for i, value in enumerate(self.event_type or ()):
            if value.lower() not in known:
                raise fail(("event_type", i), f"{self.kind} event types are: {', '.join(sorted(known))}", value)
        return self


class Signal(ConfigModel):
    name: Name
    # How the reason names it: "pricing page 3x (+45)".
    label: Label
    # Alternatives: the signal matches an activity that satisfies any one of them.
    match: Annotated[tuple[Match, ...], LAX, Field(min_length=1)]
    points: int
    max_points: Annotated[int, Field(gt=0)] | None = None
    decays: bool = True
    # The contact asked to be contacted: handed over even outside the ICP and beyond capacity (docs/scoring.md).
    hand_raiser: bool = False


class Pattern(ConfigModel):
    name: Name
    label: Label
    signals: Annotated[tuple[StrictStr, ...], LAX, Field(min_length=2)]
    within_days: Annotated[int, Field(gt=0)]
    bonus: int
    decays: bool = True


class Inactivity(ConfigModel):
    days: Annotated[int, Field(gt=0)] = 90
    points: Annotated[int, Field(ge=0)] = 5


class Surge(ConfigModel):
    window_days: Annotated[int, Field(gt=0)] = 7
    baseline_days: Annotated[int, Field(gt=0)] = 28
    factor: Annotated[float, Field(gt=0)] = 3.0
    min_points: Annotated[int, Field(ge=0)] = 15


# --- Profile --------------------------------------------------------------------------------------------------


class Case(ConfigModel):
    """One outcome of a profile rule. Exactly one kind of condition: numeric bounds, a list, or a regex."""

    label: Label
    points: int
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    one_of: Strings | None = None
    regex: Regex | None = None
    persona: Name | None = None

    @property
    def condition(self) -> Literal["number", "one_of", "regex"]:
        if self.one_of is not None:
            return "one_of"
        if self.regex is not None:
            return "regex"
        return "number"

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        numeric = any(v is not None for v in (self.gt, self.gte, self.lt, self.lte))
        given = [numeric, self.one_of is not None, self.regex is not None]
        if sum(given) != 1:
            raise fail((), "give exactly one condition: gt/gte/lt/lte (numbers), one_of (a list) or regex")
        if self.gt is not None and self.gte is not None:
            raise fail(("gte",), "give gt or gte, not both")
        if self.lt is not None and self.lte is not None:
            raise fail(("lte",), "give lt or lte, not both")
        low = self.gt if self.gt is not None else self.gte
        high = self.lt if self.lt is not None else self.lte
        if low is not None and high is not None and low >= high:
            raise fail(("lt" if self.lt is not None else "lte",), f"the upper bound must be above {low:g}", high)
        return self


class Rule(ConfigModel):
    """A property of the contact or of its company; the first case that matches gives its points."""

    name: Name
    source: Literal["contact", "company"]
    # HubSpot's internal property name, e.g. "numberofemployees", "industry", "jobtitle".
    property: Annotated[StrictStr, Field(min_length=1)]
    # Tried before the cases: a value it matches is known but matches no case ("Assistant to the CEO" is no CEO).
    exclude: Regex | None = None
    cases: Annotated[tuple[Case, ...], LAX, Field(min_length=1)]

    @model_validator(mode="after")
    def _same_condition(self) -> Self:
        # A rule is "known" when its value parses for its cases; mixing a number test with a text test would
        # make that ambiguous.
        first = self.cases[0].condition
        for i, case in enumerate(self.cases):
            if (case.condition == "number") != (first == "number"):
                raise fail(("cases", i), "mix no number conditions with text conditions in one rule")
        return self


class Gates(ConfigModel):
    cap: Percent = 25
    personal_email_domains: Strings = ()
    student_title: Regex | None = None
    competitor_domains: Strings = ()


class FitLights(ConfigModel):
    yellow: Percent = 50
    green: Percent = 80

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.yellow >= self.green:
            raise fail(("green",), f"must be above yellow ({self.yellow})", self.green)
        return self


class Tiers(ConfigModel):
    property: Annotated[StrictStr, Field(min_length=1)] = "numberofemployees"
    mid_market: Annotated[int, Field(gt=0)] = 200
    enterprise: Annotated[int, Field(gt=0)] = 1000

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.mid_market >= self.enterprise:
            raise fail(("enterprise",), f"must be above mid_market ({self.mid_market})", self.enterprise)
        return self


class Profile(ConfigModel):
    rules: Annotated[tuple[Rule, ...], LAX]
    gates: Gates = Gates()
    fit_light: FitLights = FitLights()
    tiers: Tiers = Tiers()


# --- Segments, status, handoff, account -----------------------------------------------------------------------


class Segments(ConfigModel):
    # Letter A/B/C above the 1st/2nd/3rd bound, else D; the same bounds cut engagement into digits 1-4.
    bounds: Annotated[tuple[Percent, Percent, Percent], LAX] = (75, 50, 25)

    @model_validator(mode="after")
    def _descending(self) -> Self:
        for i in (1, 2):
            if self.bounds[i] >= self.bounds[i - 1]:
                raise fail(("bounds", i), f"bounds must fall: this one must be below {self.bounds[i - 1]}")
        return self


class Status(ConfigModel):
    mql: Annotated[int, Field(gt=0, le=100)] = 31
    sales_ready: Annotated[int, Field(gt=0, le=100)] = 71
    hysteresis: Annotated[int, Field(ge=0)] = 10

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.mql >= self.sales_ready:
            raise fail(("sales_ready",), f"must be above mql ({self.mql})", self.sales_ready)
        if self.hysteresis >= self.mql:
            raise fail(("hysteresis",), f"must be below mql ({self.mql})", self.hysteresis)
        return self


class Capacity(ConfigModel):
    default: Annotated[int, Field(ge=0)] = 20
    # Capacity of single owners, by their email address.
    owners: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    floor: Percent = 61
    base: Percent = 71
    ceiling: Percent = 90

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.floor > self.ceiling:
            raise fail(("floor",), f"must not be above the ceiling ({self.ceiling})", self.floor)
        if not self.floor <= self.base <= self.ceiling:
            raise fail(("base",), f"must lie between floor ({self.floor}) and ceiling ({self.ceiling})", self.base)
        for email in self.owners:
            if "@" not in email:
                raise fail(("owners", email), "owners are keyed by their email address")
        return self


class Handoff(ConfigModel):
    statuses: Annotated[tuple[Annotated[LeadStatus, LAX], ...], LAX] = (LeadStatus.SALES_READY,)
    segments: Annotated[tuple[Annotated[StrictStr, AfterValidator(_check_segment)], ...], LAX] = (
        "A1",
        "A2",
        "B1",
    )
    surge: bool = True
    blocked_fit: Annotated[tuple[Annotated[FitLight, LAX], ...], LAX] = (FitLight.RED,)
    # After a handoff, a contact is handed over again only once no trigger has held for this many days in a row.
    rearm_after_days: Annotated[int, Field(gt=0)] = 30
    # A hand-raiser signal within this many days makes the contact a hand-raiser.
    hand_raiser_days: Annotated[int, Field(gt=0)] = 14
    capacity: Capacity = Capacity()


class Persona(ConfigModel):
    name: Name
    label: Label


class Account(ConfigModel):
    engaged_min: Percent = 31
    further_contact_points: Annotated[int, Field(ge=0)] = 10
    buying_center_contacts: Annotated[int, Field(gt=0)] = 3
    buying_center_days: Annotated[int, Field(gt=0)] = 30
    personas: Annotated[tuple[Persona, ...], LAX] = (
        Persona(name="decision_maker", label="decision maker"),
        Persona(name="influencer", label="influencer"),
    )


class ScoringModel(ConfigModel):
    decay: Decay = Decay()
    signals: Annotated[tuple[Signal, ...], LAX, Field(min_length=1)]
    patterns: Annotated[tuple[Pattern, ...], LAX] = ()
    inactivity: Inactivity = Inactivity()
    surge: Surge = Surge()
    profile: Profile
    segments: Segments = Segments()
    status: Status = Status()
    handoff: Handoff = Handoff()
    account: Account = Account()

    @model_validator(mode="after")
    def _references(self) -> Self:
        _unique([s.name for s in self.signals], "signals")
        _unique([p.name for p in self.patterns], "patterns")
        _unique([r.name for r in self.profile.rules], "profile", "rules")
        _unique([p.name for p in self.account.personas], "account", "personas")
        signals = {s.name for s in self.signals}
        for i, pattern in enumerate(self.patterns):
            for j, name in enumerate(pattern.signals):
                if name not in signals:
                    raise fail(("patterns", i, "signals", j), "names no signal in scoring.signals", name)
        personas = {p.name for p in self.account.personas}
        for i, rule in enumerate(self.profile.rules):
            for j, case in enumerate(rule.cases):
                if case.persona is not None and case.persona not in personas:
                    raise fail(
                        ("profile", "rules", i, "cases", j, "persona"),
                        "names no persona in scoring.account.personas",
                        case.persona,
                    )
        return self

    @cached_property
    def compiled(self) -> CompiledModel:
        """The model in the form the scoring loop uses (regexes compiled, signals grouped by kind), built once.

        A cached_property rather than a pydantic private attribute: it is read once per scored contact, and a
        plain instance attribute is the cheapest read there is."""
        return compile_model(self)


def _unique(names: list[str], *where: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise fail((*where, i, "name"), "this name is used twice", name)
        seen.add(name)
