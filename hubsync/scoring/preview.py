"""What a candidate model would change (`hubsync preview`), from two models' results on the same contacts. Pure: the
job scores every contact with both models as of one `now` and hands the results in; nothing here reads a clock.

The rules, each in one function:

- The change in words (`model_changes`, `settings_changes`): signals, patterns, profile rules and personas matched
  by name (added, removed, changed, reordered), every other setting by its key, each a short sentence.
- The segment transition matrix current → candidate (`transitions`), all 16 × 16 cells, and the moves off its
  diagonal, largest first (`moves`).
- Status changes (`status_changes`): contacts per status under each model, how many become sales_ready and how many
  drop out of it.
- The two handoff plans (`handoff_side`, `lost_tasks`): effective threshold, free capacity, tasks, who waits; the
  candidate's first tasks and who would lose a task the current model gives.
- The backtest of one model at its threshold (`backtest_side`): the share of later-won contacts scored at or above it
  the day before their deal (`calibration.threshold_table` on crossings at the backtest moments), the top-decile
  lift (`calibration.backtest_summary`), and how many contacts reached it within the last week.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from hubsync.scoring.calibration import backtest_summary, first_crossings, threshold_table
from hubsync.scoring.results import LeadStatus
from hubsync.scoring.segments import SEGMENTS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime

    from hubsync.scoring.calibration import Window
    from hubsync.scoring.handoff import HandoffCandidate, HandoffDecision
    from hubsync.scoring.model import ScoringModel
    from hubsync.scoring.outcomes import ContactOutcome

VERSION: Final = 1
# How many of the candidate's tasks, and of the contacts that would lose one, are listed by name.
LISTED: Final = 20
# "Handoffs a week": the contacts that reached the threshold within this span before `now`.
RECENT: Final = timedelta(days=7)

# The lists of the model whose items have a name: compared item by item, by name, not by position.
_NAMED: Final = (
    (("signals",), "signal"),
    (("patterns",), "pattern"),
    (("profile", "rules"), "profile rule"),
    (("account", "personas"), "persona"),
)
_MISSING: Final = object()


# -- the change in words --------------------------------------------------------------------------------------


def model_changes(current: ScoringModel, candidate: ScoringModel) -> list[str]:
    """Every difference between two scoring models, one short sentence each, in the config file's order."""
    a = current.model_dump(mode="json")
    b = candidate.model_dump(mode="json")
    out: list[str] = []
    for path, noun in _NAMED:
        out += _named_changes(noun, _pop(a, path), _pop(b, path))
    out += _value_changes("", a, b)
    return out


def settings_changes(current: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    """The differences between two configs' other sections (JSON values, without `scoring`), one line each."""
    return _value_changes("", dict(current), dict(candidate))


def _pop(data: dict[str, Any], path: tuple[str, ...]) -> list[dict[str, Any]]:
    for key in path[:-1]:
        data = data[key]
    items: list[dict[str, Any]] = data.pop(path[-1])
    return items


def _named_changes(noun: str, before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> list[str]:
    old = {item["name"]: item for item in before}
    new = {item["name"]: item for item in after}
    out = []
    for name, item in new.items():
        if name not in old:
            out.append(f"{noun} {name} added{_summary(item)}")
        elif old[name] != item:
            out.append(f"{noun} {name}: " + "; ".join(_value_changes("", dict(old[name]), dict(item))))
    out += [f"{noun} {name} removed (was{_summary(item) or ' there'})" for name, item in old.items() if name not in new]
    kept_old = [n for n in old if n in new]
    kept_new = [n for n in new if n in old]
    if kept_old != kept_new:
        # For signals, order decides which one an activity counts for (the first that matches).
        out.append(f"{noun}s reordered: {', '.join(kept_new)}")
    return out


def _summary(item: Mapping[str, Any]) -> str:
    """What an added or removed item gives, briefly: "+15 points, cap 45", "bonus 15 within 30 days"."""
    parts = []
    if "points" in item:
        parts.append(f"{item['points']:+d} points")
    if item.get("max_points") is not None:
        parts.append(f"cap {item['max_points']}")
    if "bonus" in item:
        parts.append(f"bonus {item['bonus']:+d} for {' → '.join(item['signals'])} within {item['within_days']} days")
    if "cases" in item:
        parts.append(f"{item['source']} {item['property']}, {len(item['cases'])} case(s)")
    return f": {', '.join(parts)}" if parts else ""


def _value_changes(path: str, a: object, b: object) -> list[str]:
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        # A list item named by its label ("cases 'decision maker'") reads better followed by a space than a dot.
        joint = " " if path.endswith("'") else "."
        for key in dict.fromkeys([*a, *b]):
            where = f"{path}{joint}{key}" if path else str(key)
            out += _value_changes(where, a.get(key, _MISSING), b.get(key, _MISSING))
        return out
    if isinstance(a, list) and isinstance(b, list):
        return _list_changes(path, a, b)
    if a is _MISSING:
        return [f"{path} added: {_word(b)}"]
    if b is _MISSING:
        return [f"{path} removed (was {_word(a)})"]
    return [f"{path} {_word(a)} → {_word(b)}"]


def _list_changes(path: str, a: list[Any], b: list[Any]) -> list[str]:
    if all(isinstance(x, dict) for x in (*a, *b)) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            label = x.get("label")
            where = f"{path} '{label}'" if label is not None and label == y.get("label") else f"{path}[{i}]"
            out += _value_changes(where, x, y)
        return out
    if all(not isinstance(x, dict | list) for x in (*a, *b)):
        added = [x for x in b if x not in a]
        removed = [x for x in a if x not in b]
        parts = ([f"added {_word(added)}"] if added else []) + ([f"removed {_word(removed)}"] if removed else [])
        return [f"{path}: {'; '.join(parts) or 'reordered to ' + _word(b)}"]
    return [f"{path}: {len(a)} item(s) → {len(b)} item(s), changed"]


def _word(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(_word(v) for v in value) if value else "none"
    if isinstance(value, str):
        return repr(value) if not value or " " in value or any(c in value for c in "|()[]\\") else value
    return str(value)


# -- segments and statuses ------------------------------------------------------------------------------------


def transitions(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """The 16 × 16 segment matrix: current segment → candidate segment → contacts (every cell, 0 included)."""
    counts = Counter(pairs)
    return {a: {b: counts[(a, b)] for b in SEGMENTS} for a in SEGMENTS}


def moves(matrix: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """The cells off the diagonal that hold contacts, largest first (then in matrix order)."""
    cells = [(n, a, b) for a, row in matrix.items() for b, n in row.items() if a != b and n]
    order = {s: i for i, s in enumerate(SEGMENTS)}
    cells.sort(key=lambda c: (-c[0], order[c[1]], order[c[2]]))
    return [{"from": a, "to": b, "contacts": n} for n, a, b in cells]


def status_changes(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Contacts per status (LeadStatus values) under each model, the status transitions, how many become sales_ready
    and how many of today's sales_ready would drop out of it."""
    counts: Counter[tuple[LeadStatus, LeadStatus]] = Counter()
    for (a, b), n in Counter(pairs).items():
        counts[LeadStatus(a), LeadStatus(b)] += n
    names = [s.value for s in LeadStatus]
    ready = LeadStatus.SALES_READY
    return {
        "current": {s: sum(n for (a, _), n in counts.items() if a.value == s) for s in names},
        "candidate": {s: sum(n for (_, b), n in counts.items() if b.value == s) for s in names},
        "transitions": {a: {b: counts[(LeadStatus(a), LeadStatus(b))] for b in names} for a in names},
        "became_sales_ready": sum(n for (a, b), n in counts.items() if a != ready and b == ready),
        "dropped_out": sum(n for (a, b), n in counts.items() if a == ready and b != ready),
    }


# -- the two handoff plans ------------------------------------------------------------------------------------


def handoff_side(decision: HandoffDecision) -> dict[str, Any]:
    """One model's plan with today's open tasks and capacity, in numbers."""
    return {
        "effective_threshold": decision.effective_threshold,
        "free_capacity": decision.free_capacity,
        "tasks": len(decision.assigned),
        "hand_raisers": sum(1 for a in decision.assigned if a.candidate.hand_raiser),
        "beyond_capacity": sum(1 for a in decision.assigned if a.over_capacity is not None),
        "waiting": len(decision.waiting),
        "unrouted": len(decision.unrouted),
        "updates": len(decision.updates),
        "held": len(decision.held),
    }


def lost_tasks(current: HandoffDecision, candidate: HandoffDecision) -> list[HandoffCandidate]:
    """The contacts the current model gives a task now and the candidate would not, in the current queue order."""
    kept = {a.candidate.contact_id for a in candidate.assigned}
    return [a.candidate for a in current.assigned if a.candidate.contact_id not in kept]


def gained_tasks(current: HandoffDecision, candidate: HandoffDecision) -> int:
    """How many of the candidate's tasks the current model would not create now."""
    given = {a.candidate.contact_id for a in current.assigned}
    return sum(1 for a in candidate.assigned if a.candidate.contact_id not in given)


# -- the backtest ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scoring:
    """One contact scored as of one moment: what the backtest needs of it."""

    contact_id: int
    at: datetime
    engagement: int
    profile: int


def reached(engagement: int, fit_light: str, threshold: int, model: ScoringModel) -> bool:
    """A contact's score at or above the threshold with a fit light (FitLight value) that does not block a handoff
    (as `first_crossings` counts)."""
    return engagement >= threshold and fit_light not in model.handoff.blocked_fit


def backtest_side(  # noqa: PLR0917  (the parts of one side, each computed by the job)
    model: ScoringModel,
    threshold: int,
    outcomes: Sequence[ContactOutcome],
    window: Window,
    sample: Iterable[tuple[Scoring, bool]],
    recent: tuple[int, int],
    *,
    min_n: int,
) -> dict[str, Any]:
    """One model at its threshold on the outcomes. `sample`: the backtest's scorings (each contact as of the day before
    its deal was created, or a control at one of those moments) and whether the contact has a deal; `recent`: (the
    contacts at or above the threshold now, those of them that were below it `RECENT` before `now`)."""
    sample = list(sample)
    # A scoring whose fit light blocks a handoff crosses no threshold (`first_crossings` leaves it out).
    crossings = first_crossings(((s.contact_id, s.at, s.engagement, s.profile) for s, _ in sample), model)
    (row,) = threshold_table(outcomes, crossings, window, thresholds=range(threshold, threshold + 1), min_n=min_n)
    lift = backtest_summary(((s.contact_id, s.engagement, deal) for s, deal in sample), min_n=min_n)
    now_at, crossed = recent
    return {
        "threshold": threshold,
        "won_handed_over": {"value": row.recall, "n": row.n_won, "judged": row.recall is not None},
        "handoffs_per_week": {"value": crossed, "n": now_at, "judged": True},
        "top_decile_lift": {
            "value": lift.top_decile_lift,
            "n": lift.contacts_with_deal + lift.contacts_without,
            "with_deal": lift.contacts_with_deal,
            "without": lift.contacts_without,
            "judged": lift.judged,
        },
    }
