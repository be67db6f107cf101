"""The pure part of `hubsync preview` (scoring/preview.py): the change in words, the transition matrix, the status
changes, the two plans compared and one side of the backtest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hubsync.scoring import HandoffTrigger, LeadStatus, ScoringModel, Tier
from hubsync.scoring.calibration import Window
from hubsync.scoring.handoff import HandoffCandidate, select_handoffs
from hubsync.scoring.outcomes import ContactOutcome
from hubsync.scoring.preview import (
    Scoring,
    backtest_side,
    gained_tasks,
    handoff_side,
    lost_tasks,
    model_changes,
    moves,
    settings_changes,
    status_changes,
    transitions,
)
from hubsync.scoring.segments import SEGMENTS
from hubsync.validation import parse
from tests.unit.scoring.scoring_builders import default_model, raw_scoring


def _model(change: Any) -> ScoringModel:
    data = raw_scoring()
    change(data)
    return parse(ScoringModel, data, source="candidate.toml", prefix=("scoring",))


def _signal(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["signals"] if s["name"] == name)
    return found


def test_equal_models_change_nothing() -> None:
    assert model_changes(default_model(), _model(lambda _d: None)) == []


def test_doubled_pricing_points_in_one_sentence() -> None:
    def double(data: dict[str, Any]) -> None:
        signal = _signal(data, "pricing_page_view")
        signal["points"], signal["max_points"] = 30, 90

    assert model_changes(default_model(), _model(double)) == [
        "signal pricing_page_view: points 15 → 30; max_points 45 → 90"
    ]


def test_signals_patterns_and_rules_added_removed_changed_by_name() -> None:
    def change(data: dict[str, Any]) -> None:
        data["signals"] = [s for s in data["signals"] if s["name"] != "email_open"]
        data["signals"].append(
            {
                "name": "trial_started",
                "label": "trial",
                "points": 40,
                "max_points": 40,
                "match": [{"kind": "form_submission", "form_name": "trial"}],
            }
        )
        data["patterns"] = data["patterns"][1:]
        seniority = next(r for r in data["profile"]["rules"] if r["name"] == "seniority")
        seniority["cases"][0]["points"] = 30
        data["handoff"]["segments"] = ["A1", "A2"]
        data["handoff"]["capacity"]["floor"] = 65

    changes = model_changes(default_model(), _model(change))
    first_pattern = default_model().patterns[0].name
    assert "signal trial_started added: +40 points, cap 40" in changes
    assert "signal email_open removed (was: +2 points, cap 10)" in changes
    assert any(c.startswith(f"pattern {first_pattern} removed (was: bonus +15") for c in changes)
    assert "profile rule seniority: cases 'decision maker' points 20 → 30" in changes
    assert "handoff.segments: removed B1" in changes
    assert "handoff.capacity.floor 61 → 65" in changes
    assert len(changes) == 6


def test_a_new_signal_order_is_a_change() -> None:
    def swap(data: dict[str, Any]) -> None:
        data["signals"][0], data["signals"][1] = data["signals"][1], data["signals"][0]

    (change,) = model_changes(default_model(), _model(swap))
    assert change.startswith("signals reordered: ")


def test_other_settings_by_key() -> None:
    current = {"tasks": {"sla_hours": 24.0, "round_robin_owners": ["a@x.example"]}, "report": {"min_n": 30}}
    candidate = {
        "tasks": {"sla_hours": 48.0, "round_robin_owners": ["a@x.example", "b@x.example"]},
        "report": {"min_n": 30},
    }
    assert settings_changes(current, candidate) == [
        "tasks.sla_hours 24.0 → 48.0",
        "tasks.round_robin_owners: added b@x.example",
    ]


def test_the_transition_matrix_has_every_cell_and_the_moves_largest_first() -> None:
    pairs = [("B2", "B1")] * 3 + [("A1", "A1")] * 5 + [("D4", "C4")] + [("C3", "C2")] * 3
    matrix = transitions(pairs)
    assert list(matrix) == list(SEGMENTS)
    assert all(list(row) == list(SEGMENTS) for row in matrix.values())
    assert sum(n for row in matrix.values() for n in row.values()) == len(pairs)
    assert matrix["B2"]["B1"] == 3
    assert matrix["A1"]["A1"] == 5
    assert moves(matrix) == [
        {"from": "B2", "to": "B1", "contacts": 3},
        {"from": "C3", "to": "C2", "contacts": 3},
        {"from": "D4", "to": "C4", "contacts": 1},
    ]


def test_status_changes_count_who_becomes_sales_ready_and_who_drops_out() -> None:
    n, m, s = LeadStatus.NURTURE, LeadStatus.MQL, LeadStatus.SALES_READY
    changes = status_changes([(m, s), (m, s), (s, m), (s, s), (n, n), (n, m)])
    assert changes["became_sales_ready"] == 2
    assert changes["dropped_out"] == 1
    assert changes["current"] == {"nurture": 2, "mql": 2, "sales_ready": 2}
    assert changes["candidate"] == {"nurture": 1, "mql": 2, "sales_ready": 3}
    assert changes["transitions"]["mql"]["sales_ready"] == 2


def _candidate(contact_id: int, engagement: int) -> HandoffCandidate:
    return HandoffCandidate(contact_id, engagement, 80, Tier.SMB, (HandoffTrigger.STATUS,))


def test_the_two_plans_who_gains_and_who_loses_a_task() -> None:
    model = default_model()
    current = select_handoffs([_candidate(1, 80), _candidate(2, 75), _candidate(3, 72)], 2, model)
    # The candidate model scores contact 4 higher and contact 2 lower: with two free places, 2 loses its task.
    candidate = select_handoffs([_candidate(1, 85), _candidate(4, 82), _candidate(2, 70)], 2, model)
    assert [c.contact_id for c in lost_tasks(current, candidate)] == [2]
    assert gained_tasks(current, candidate) == 1
    side = handoff_side(candidate)
    assert side["tasks"] == 2
    assert side["waiting"] == 1
    assert side["effective_threshold"] == 82
    assert side["free_capacity"] == 2


NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _outcome(contact_id: int, **fields: Any) -> ContactOutcome:
    values: dict[str, Any] = {"scored_from": NOW - timedelta(days=120), "created_at": NOW - timedelta(days=200)}
    values.update(fields)
    return ContactOutcome(contact_id=contact_id, **values)


def test_backtest_side_at_the_threshold_with_its_n() -> None:
    model = default_model()
    deal = NOW - timedelta(days=30)
    won = {
        "deals": 1,
        "deal_created_at": deal,
        "won_deal_created_at": deal,
        "won_at": deal + timedelta(days=10),
    }
    outcomes = [_outcome(i, **won) for i in range(1, 5)] + [_outcome(i) for i in range(5, 9)]
    before = deal - timedelta(days=1)
    # Three of the four later-won contacts stood at 75 or more the day before; one at 70; the others at 20-40.
    engagement = {1: 90, 2: 80, 3: 75, 4: 70, 5: 40, 6: 30, 7: 20, 8: 20}
    sample = [(Scoring(c, before, e, 90), c <= 4) for c, e in engagement.items()]
    side = backtest_side(model, 75, outcomes, Window(None, NOW), sample, (12, 5), min_n=4)
    assert side["threshold"] == 75
    assert side["won_handed_over"] == {"value": 0.75, "n": 4, "judged": True}
    assert side["handoffs_per_week"] == {"value": 5, "n": 12, "judged": True}
    lift = side["top_decile_lift"]
    assert (lift["n"], lift["with_deal"], lift["without"], lift["judged"]) == (8, 4, 4, True)
    # The top tenth of eight is one contact, with a deal: 1 / (4 / 8).
    assert lift["value"] == 2.0
    # Below min_n: too few to judge, n still given.
    small = backtest_side(model, 75, outcomes, Window(None, NOW), sample, (12, 5), min_n=5)
    assert small["won_handed_over"] == {"value": None, "n": 4, "judged": False}
    assert small["top_decile_lift"]["judged"] is False


def test_a_red_fit_light_hands_over_at_no_threshold() -> None:
    model = default_model()
    deal = NOW - timedelta(days=30)
    outcomes = [_outcome(1, deals=1, deal_created_at=deal, won_deal_created_at=deal, won_at=deal)]
    red = [(Scoring(1, deal - timedelta(days=1), 95, 10), True)]
    side = backtest_side(model, 75, outcomes, Window(None, NOW), red, (0, 0), min_n=1)
    assert side["won_handed_over"]["value"] == 0.0
