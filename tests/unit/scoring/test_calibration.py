"""The calibration report's figures on hand-built outcomes. Every expected number is worked out by hand in the
comment beside it; `min_n` is lowered where a handful of contacts must give a judged figure."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.scoring.calibration import (
    BACKTEST_LEAD,
    CalibrationInput,
    Capacity,
    LeadStatusMeaning,
    ReportOptions,
    ThresholdRow,
    Window,
    backtest_moments,
    backtest_summary,
    calibration_report,
    first_crossings,
    funnel,
    kpi_values,
    kpis,
    moment_for,
    owner_table,
    period_windows,
    quantile,
    reference_moments,
    segment_table,
    signal_lift,
    signal_window,
    signals_between,
    threshold_advice,
    threshold_table,
    weekly_capacity,
    weekly_distribution,
)
from hubsync.scoring.outcomes import ContactOutcome
from hubsync.scoring.segments import SEGMENTS
from tests.unit.scoring.scoring_builders import default_model, form, page

T0 = datetime(2026, 9, 1, tzinfo=UTC)  # every contact was first scored here
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MEANING = LeadStatusMeaning()


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def outcome(contact_id: int, **fields: object) -> ContactOutcome:
    values: dict[str, object] = {"scored_from": T0, "created_at": at(8, 1), "peak_segment": "D4"}
    values.update(fields)
    return ContactOutcome(contact_id=contact_id, **values)  # type: ignore[arg-type]  # test data by keyword


# Six contacts, all first scored on T0:
#   c1  handed over 10-01 09:00 (trigger 07:00), answered 13:00, task completed, IN_PROGRESS; MQL 09-20, SQL 10-02;
#       won a deal created 10-05, closed 10-20; owner 7; peak A1
#   c2  handed over 10-02 09:00 (trigger 09:00), answered 10-03 09:00, UNQUALIFIED (rejected); hubsync MQL 09-25;
#       owner 7; peak A1
#   c3  handed over 10-03 10:00 (trigger 10-02 22:00), no answer, task open; hubsync MQL 09-30; owner 8; peak B2
#   c4  not handed over; MQL 10-01, SQL 10-09; won a deal created 10-10, closed 11-01; peak A2
#   c5  nothing; peak D4
#   c6  won a deal created 08-01 (before hubsync first scored it), closed 08-15: history, not an outcome; peak A1
WORLD = (
    outcome(
        1,
        handed_over_at=at(10, 1),
        triggered_at=at(10, 1, 7),
        first_response_at=at(10, 1, 13),
        task_closed="completed",
        task_completed_at=at(10, 1, 13),
        lead_status="IN_PROGRESS",
        mql_at=at(9, 20),
        sql_at=at(10, 2),
        deals=1,
        deal_created_at=at(10, 5),
        won_deal_created_at=at(10, 5),
        won_at=at(10, 20),
        handoff_owner_id=7,
        peak_segment="A1",
    ),
    outcome(
        2,
        handed_over_at=at(10, 2),
        triggered_at=at(10, 2),
        first_response_at=at(10, 3),
        task_closed="completed",
        task_completed_at=at(10, 3),
        lead_status="UNQUALIFIED",
        hubsync_mql_at=at(9, 25),
        handoff_owner_id=7,
        peak_segment="A1",
    ),
    outcome(
        3,
        handed_over_at=at(10, 3, 10),
        triggered_at=at(10, 2, 22),
        hubsync_mql_at=at(9, 30),
        handoff_owner_id=8,
        peak_segment="B2",
    ),
    outcome(
        4,
        mql_at=at(10, 1),
        sql_at=at(10, 9),
        deals=1,
        deal_created_at=at(10, 10),
        won_deal_created_at=at(10, 10),
        won_at=at(11, 1),
        peak_segment="A2",
    ),
    outcome(5),
    outcome(6, deals=1, deal_created_at=at(8, 1), won_deal_created_at=at(8, 1), won_at=at(8, 15), peak_segment="A1"),
)
ALL = Window(None, NOW)


def test_quantiles_interpolate_between_the_nearest_ranks() -> None:
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5  # between 2 and 3
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)  # rank 2.7: 3 + 0.7 × (4 − 3)
    assert quantile([5.0], 0.9) == 5.0
    assert quantile([], 0.5) is None


def test_the_kpis_of_the_six_contacts() -> None:
    values = {f.key: f for f in kpis(WORLD, ALL, min_n=2, meaning=MEANING)}
    assert values["contacts"].value == 6
    assert values["handed_over"].value == 3  # c1, c2, c3
    assert values["accepted"].value == 1  # c1: completed and IN_PROGRESS; c2 was rejected; c3 untouched
    assert values["rejected"].value == 1  # c2
    assert values["back_to_nurture"].value == 0
    assert values["won"].value == 2  # c1, c4; c6's deal predates its first scoring
    assert values["base_rate"].value == pytest.approx(2 / 6)
    assert values["base_rate"].n == 6
    # MQLs: c1 (HubSpot), c2 and c3 (hubsync's status), c4 (HubSpot) = 4; of them SQL: c1, c4 = 2.
    assert (values["mql_to_sql_rate"].value, values["mql_to_sql_rate"].n) == (0.5, 4)
    assert values["sales_acceptance_rate"].value == pytest.approx(1 / 3)
    assert values["rejection_rate"].value == pytest.approx(1 / 3)
    assert values["closed_won_ratio"].value == pytest.approx(1 / 3)  # c1 of the three handed over
    assert values["response_rate"].value == pytest.approx(2 / 3)  # c1, c2 answered
    # Time to lead (trigger → task): c1 2 h, c2 0 h, c3 12 h. Median 2; p90 at rank 1.8: 2 + 0.8 × (12 − 2) = 10.
    assert values["time_to_lead_median_h"].value == 2.0
    assert values["time_to_lead_p90_h"].value == pytest.approx(10.0)
    assert values["time_to_lead_median_h"].n == 3
    # Time to response: c1 4 h, c2 24 h. Median 14; p90 at rank 0.9: 4 + 0.9 × 20 = 22.
    assert values["time_to_response_median_h"].value == 14.0
    assert values["time_to_response_p90_h"].value == pytest.approx(22.0)
    assert [f.key for f in kpis(WORLD, ALL, min_n=2, meaning=MEANING)][:2] == ["contacts", "handed_over"]


def test_below_min_n_a_rate_is_too_few_to_judge() -> None:
    values = {f.key: f for f in kpis(WORLD, ALL, min_n=3, meaning=MEANING)}
    # Two responses are fewer than 3: no time to response, but its n is shown.
    ttr = values["time_to_response_median_h"]
    assert (ttr.value, ttr.n, ttr.judged) == (None, 2, False)
    # Three handoffs are enough for the handoff rates.
    assert values["sales_acceptance_rate"].judged
    # With the default 30 nothing here is judged but the counts.
    default = kpis(WORLD, ALL, min_n=30, meaning=MEANING)
    assert all(f.value is None and not f.judged for f in default if f.kind != "count")
    assert all(f.judged for f in default if f.kind == "count")


def test_since_keeps_only_what_happened_in_the_window() -> None:
    october = Window(at(10, 2, 0), at(10, 31))
    values = kpi_values(kpis(WORLD, october, min_n=1, meaning=MEANING))
    assert values["handed_over"] == 2  # c2 (10-02), c3 (10-03); c1 on 10-01 is before the window
    assert values["won"] == 1  # c1 closed 10-20; c4 closed 11-01, after it
    assert values["mql_to_sql_rate"] is None  # no MQL in the window: 0 cases


def test_the_segment_table_has_all_sixteen_cells_with_win_rate_and_lift() -> None:
    rows = {r.segment: r for r in segment_table(WORLD, ALL, min_n=2)}
    assert list(rows) == list(SEGMENTS)
    # A1: c1, c2, c6; won: c1 (c6's win predates hubsync) → 1/3; base rate 2/6 → lift 1.0.
    assert (rows["A1"].contacts, rows["A1"].handed_over, rows["A1"].won) == (3, 2, 1)
    assert rows["A1"].win_rate == pytest.approx(1 / 3)
    assert rows["A1"].lift == pytest.approx(1.0)
    # A2: only c4, one contact: won, but too few to judge.
    assert (rows["A2"].contacts, rows["A2"].won, rows["A2"].win_rate, rows["A2"].judged) == (1, 1, None, False)
    assert rows["C3"].contacts == 0
    assert rows["C3"].lift is None


def test_the_funnel_counts_contacts_by_the_furthest_stage_they_reached() -> None:
    stages = funnel(WORLD, ALL, min_n=2)
    # Furthest: c1 won, c2 handed over, c3 handed over, c4 won, c5 lead, c6 lead (its only deal predates hubsync).
    assert [(s.stage, s.count) for s in stages] == [
        ("lead", 6),
        ("mql", 4),
        ("handed_over", 4),
        ("sql", 2),
        ("opportunity", 2),
        ("won", 2),
    ]
    assert [s.rate_from_previous for s in stages] == [None, pytest.approx(4 / 6), 1.0, 0.5, 1.0, 1.0]
    # An SQL date from before hubsync first scored the contact is history: it stays a lead.
    assert [s.count for s in funnel([outcome(9, sql_at=at(8, 1))], ALL, min_n=1)] == [1, 0, 0, 0, 0, 0]


def test_owners_with_their_handoffs_and_response_times() -> None:
    rows = owner_table(WORLD, {7: "Anna Becker", 8: "Ben Wolf"}, ALL, min_n=2, meaning=MEANING)
    anna, ben = rows
    # Anna: c1 (accepted, 4 h) and c2 (rejected, 24 h): median 14 h, p90 22 h.
    assert (anna.owner_name, anna.handed_over, anna.accepted, anna.rejected, anna.n) == ("Anna Becker", 2, 1, 1, 2)
    assert anna.time_to_response_median_h == 14.0
    assert anna.time_to_response_p90_h == pytest.approx(22.0)
    # Ben: c3, never answered: no response time to judge.
    assert (ben.handed_over, ben.n, ben.judged, ben.time_to_response_median_h) == (1, 0, False, None)


def test_first_crossings_per_threshold_skip_scorings_a_red_fit_blocks() -> None:
    model = default_model()
    d1, d2, d3 = at(10, 1), at(10, 2), at(10, 3)
    crossed = first_crossings(
        [
            (1, d1, 65, 90),  # green: 61 … 65 reached on d1
            (1, d2, 70, 90),  # 66 … 70 on d2
            (1, d3, 63, 90),  # nothing new
            (2, d1, 80, 10),  # red fit: no handoff at any threshold
            (2, d2, 62, 60),  # yellow: 61, 62 on d2
            (3, d1, 40, 90),  # below the floor
        ],
        model,
    )
    assert crossed[1] == {**dict.fromkeys(range(61, 66), d1), **dict.fromkeys(range(66, 71), d2)}
    assert crossed[2] == {61: d2, 62: d2}
    assert 3 not in crossed


D = at(10, 5, 0)  # day 0 of the threshold story; the window is two weeks from it


def _d(n: int) -> datetime:
    return D + timedelta(days=n)


THRESHOLD_WORLD = (
    outcome(1, deals=1, deal_created_at=_d(5), won_deal_created_at=_d(5), won_at=_d(10)),
    outcome(2, deals=1, deal_created_at=_d(8), won_deal_created_at=_d(8), won_at=_d(12)),
    outcome(3),
    outcome(4),
)
CROSSINGS = {
    1: {**{t: _d(1) for t in range(61, 71)}, **{t: _d(6) for t in range(71, 76)}},
    2: {t: _d(2) for t in range(61, 66)},
    3: {t: _d(3) for t in range(61, 81)},
    4: {61: _d(-10)},  # before the window
}


def test_the_threshold_table_of_two_won_and_two_other_contacts() -> None:
    rows = {
        r.threshold: r
        for r in threshold_table(THRESHOLD_WORLD, CROSSINGS, Window(D, _d(14)), thresholds=range(61, 91), min_n=2)
    }
    # 61: reached in the window by 1, 2, 3 → 3 in 2 weeks = 1.5 a week; both won contacts reached it before their
    # deal (recall 1.0); of the three, 1 and 2 won a deal created afterwards (precision 2/3).
    assert (rows[61].handoffs_per_week, rows[61].recall, rows[61].n_won, rows[61].n_handoffs) == (1.5, 1.0, 2, 3)
    assert rows[61].precision == pytest.approx(2 / 3)
    # 66: 1 and 3 → 1.0 a week; recall 1/2 (contact 1); precision 1/2.
    assert (rows[66].handoffs_per_week, rows[66].recall, rows[66].precision) == (1.0, 0.5, 0.5)
    # 71: 1 (on day 6, after its deal was created on day 5) and 3: recall 0, precision 0.
    assert (rows[71].handoffs_per_week, rows[71].recall, rows[71].precision) == (1.0, 0.0, 0.0)
    # 76: only 3 → 0.5 a week, one handoff: precision too few to judge.
    assert (rows[76].handoffs_per_week, rows[76].precision, rows[76].n_handoffs) == (0.5, None, 1)
    assert (rows[90].handoffs_per_week, rows[90].recall) == (0.0, 0.0)


def test_capacity_per_week_from_how_long_tasks_stay_open_or_else_from_the_sla() -> None:
    done = (
        outcome(1, handed_over_at=at(10, 1), task_closed="completed", task_completed_at=at(10, 2)),  # 1 day
        outcome(2, handed_over_at=at(10, 1), task_closed="completed", task_completed_at=at(10, 4)),  # 3 days
        outcome(3, handed_over_at=at(10, 1), task_closed="deleted"),
    )
    # Mean 2 days open; 10 tasks at once → 10 × 7 / 2 = 35 a week.
    measured = weekly_capacity(done, ALL, open_tasks=10, sla_hours=24, min_n=2)
    assert (measured.per_week, measured.days_open, measured.measured, measured.n) == (35.0, 2.0, True, 2)
    # Two completed tasks are too few for min_n 3: the SLA (48 h = 2 days) stands in → also 35.
    sla = weekly_capacity(done, ALL, open_tasks=10, sla_hours=48, min_n=3)
    assert (sla.per_week, sla.measured) == (35.0, False)


def _row(threshold: int, per_week: float, handoffs: int = 5) -> ThresholdRow:
    return ThresholdRow(threshold, per_week, None, None, 0, handoffs)


def test_the_advised_threshold_is_the_lowest_that_fits_the_capacity() -> None:
    capacity = Capacity(per_week=35.0, open_tasks=10, days_open=2.0, measured=True, n=40)
    rows = [_row(61, 50.0), _row(62, 40.0), _row(63, 30.0), _row(64, 20.0)]
    advice = threshold_advice(rows, capacity, current=71)
    assert (advice.advised_threshold, advice.current_threshold, advice.capacity_per_week) == (63, 71, 35.0)
    assert "At 63" in advice.text
    # Nothing fits: the ceiling.
    assert threshold_advice([_row(61, 50.0), _row(90, 40.0)], capacity, current=None).advised_threshold == 90
    # Nobody reached the floor: nothing to advise.
    assert threshold_advice([_row(61, 0.0, 0), _row(90, 0.0, 0)], capacity, current=None).advised_threshold is None


def test_signals_of_an_activity_list_inside_a_window() -> None:
    model = default_model()
    activities = [page(0, "/preise"), form(3, "Demo anfragen"), page(10, "/preise")]
    # Days 0 … 5 (end excluded): the pricing page on day 0 and the demo request on day 3.
    start, end = activities[0].occurred_at, activities[0].occurred_at + timedelta(days=5)
    assert signals_between(activities, model, start, end) == {"pricing_page_view", "demo_request"}
    assert signals_between(activities, model, end, end + timedelta(days=1)) == set()


def test_signal_lift_is_the_won_share_over_everyones_share() -> None:
    model = default_model()
    observations = [
        (True, {"pricing_page_view", "demo_request"}),
        (True, {"pricing_page_view"}),
        (False, {"pricing_page_view"}),
        (False, set()),
        (False, {"email_open"}),
    ]
    rows = {r.signal: r for r in signal_lift(observations, model, min_n=2)}
    # Pricing: 2 of 2 won, 3 of 5 all → 1.0 / 0.6 = 5/3.
    pricing = rows["pricing_page_view"]
    assert (pricing.won_with, pricing.won_total, pricing.all_with, pricing.all_total) == (2, 2, 3, 5)
    assert pricing.lift == pytest.approx(5 / 3)
    # Demo: 1 contact in all has it, fewer than 2: too few to judge.
    assert (rows["demo_request"].lift, rows["demo_request"].judged) == (None, False)
    ordered = signal_lift(observations, model, min_n=2)
    assert ordered[0].signal == "pricing_page_view"  # the only judged one comes first
    assert all(not r.judged for r in ordered[1:])
    # With min_n 1 the demo request is judged: (1/2) / (1/5) = 2.5, the highest lift.
    assert signal_lift(observations, model, min_n=1)[0].lift == pytest.approx(2.5)


def test_contacts_without_a_win_are_compared_at_the_moments_of_the_wins() -> None:
    won = outcome(1, deals=1, deal_created_at=at(10, 5), won_deal_created_at=at(10, 5), won_at=at(10, 20))
    other = outcome(2, created_at=at(9, 1))
    newcomer = outcome(3, created_at=at(11, 1))  # created after the only win's moment
    moments = reference_moments([won, other, newcomer], ALL)
    assert moments == [at(10, 5)]
    assert signal_window(won, ALL, moments) == (at(10, 5), True)
    assert signal_window(other, ALL, moments) == (at(10, 5), False)
    assert signal_window(newcomer, ALL, moments) is None
    # Among several moments, the one a contact gets is fixed by its id and never before it existed.
    several = [at(9, 1), at(10, 1), at(11, 1)]
    assert moment_for(42, at(10, 15), several) == at(11, 1)
    assert moment_for(42, None, several) == moment_for(42, None, several)


def test_backtest_moments_are_the_day_before_each_deal_and_the_same_moments_for_the_others() -> None:
    with_deal = outcome(1, deals=1, deal_created_at=at(10, 5))
    lost = outcome(2, deals=1, deal_created_at=at(10, 9), lost_at=at(11, 1))
    control = outcome(3, created_at=at(9, 1))
    too_new = outcome(4, created_at=at(11, 20))
    moments = backtest_moments([with_deal, lost, control, too_new], ALL)
    assert moments[1] == (at(10, 5) - BACKTEST_LEAD, True)
    assert moments[2] == (at(10, 9) - BACKTEST_LEAD, True)
    assert moments[3][1] is False
    assert moments[3][0] in {at(10, 5) - BACKTEST_LEAD, at(10, 9) - BACKTEST_LEAD}
    assert 4 not in moments


def test_backtest_summary_medians_and_top_decile_lift() -> None:
    scores = [
        (1, 80, True),
        (2, 60, True),
        (3, 40, True),
        (4, 70, False),
        (5, 30, False),
        (6, 20, False),
        (7, 10, False),
        (8, 10, False),
        (9, 0, False),
        (10, 0, False),
    ]
    result = backtest_summary(scores, min_n=3)
    # With a deal: 80, 60, 40 → median 60. Without: 0, 0, 10, 10, 20, 30, 70 → median 10.
    assert (result.contacts_with_deal, result.contacts_without) == (3, 7)
    assert (result.median_score_with, result.median_score_without) == (60.0, 10.0)
    # Top decile of 10 = the best 1 (contact 1, a deal): 1/1 ÷ 3/10 = 10/3.
    assert result.top_decile_lift == pytest.approx(10 / 3)
    assert result.judged
    small = backtest_summary(scores, min_n=4)  # three with a deal are too few
    assert (small.judged, small.median_score_with, small.top_decile_lift) == (False, None, None)


def test_the_weekly_distribution_counts_each_contact_as_it_stood_at_each_weeks_end() -> None:
    start = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday, ISO week 37
    until = datetime(2026, 9, 23, 12, tzinfo=UTC)
    weeks = period_windows(start, Window(None, until), "week", UTC)
    assert [label for label, _ in weeks] == ["2026-W37", "2026-W38", "2026-W39"]
    scorings = [
        (1, at(9, 8), "C3", "nurture"),
        (1, at(9, 15), "B2", "mql"),
        (1, at(9, 16), "A1", "sales_ready"),
        (2, at(9, 20, 23), "D4", "nurture"),
        (3, at(9, 22), "C4", "nurture"),
    ]
    rows = weekly_distribution(scorings, weeks)
    # End of W37 (Sunday 09-13): only contact 1, C3 nurture.
    assert rows[0].segments["C3"] == 1
    assert dict(rows[0].counts) == {"nurture": 1, "mql": 0, "sales_ready": 0}
    # End of W38 (09-20 24:00): contact 1 A1 sales_ready (its B2 mql lasted a day), contact 2 D4 nurture.
    assert (rows[1].segments["A1"], rows[1].segments["B2"], rows[1].segments["D4"]) == (1, 0, 1)
    assert dict(rows[1].counts) == {"nurture": 1, "mql": 0, "sales_ready": 1}
    # W39 ends with the report (09-23 12:00): contact 3 joined, C4 nurture.
    assert dict(rows[2].counts) == {"nurture": 2, "mql": 0, "sales_ready": 1}
    assert sum(rows[2].segments.values()) == 3


def test_months_follow_the_configured_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    months = period_windows(datetime(2026, 9, 15, tzinfo=UTC), Window(None, NOW), "month", berlin)
    assert [label for label, _ in months] == ["2026-09", "2026-10", "2026-11"]
    # October in Berlin: from 10-01 00:00 CEST (09-30 22:00 UTC) to just before 11-01 00:00 CET (10-31 23:00 UTC).
    october = months[1][1]
    assert october.since == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert october.until == datetime(2026, 10, 31, 23, tzinfo=UTC) - timedelta(microseconds=1)
    assert months[-1][1].until == NOW


def test_the_whole_report_is_json_with_every_part_of_the_contract() -> None:
    model = default_model()
    data = CalibrationInput(
        outcomes=WORLD,
        owner_names={7: "Anna Becker", 8: "Ben Wolf"},
        crossings={1: {61: at(9, 30)}},
        open_task_capacity=40,
        current_threshold=71,
        signal_observations=[(True, {"pricing_page_view"}), (False, set())],
        backtest_scores=[(1, 80, True), (5, 10, False)],
        history=iter([(1, at(9, 2), "B3", "nurture"), (1, at(9, 30), "A1", "sales_ready")]),
    )
    report = calibration_report(data, model, now=NOW, since=None, options=ReportOptions(min_n=2))
    out = json.loads(json.dumps(report.to_json()))
    assert out["version"] == 1
    assert (out["since"], out["until"], out["min_n"]) == (None, NOW.isoformat(), 2)
    assert [s["segment"] for s in out["segments"]] == list(SEGMENTS)
    assert [s["stage"] for s in out["funnel"]] == ["lead", "mql", "handed_over", "sql", "opportunity", "won"]
    assert [t["threshold"] for t in out["thresholds"]] == list(range(61, 91))
    assert out["threshold_advice"]["current_threshold"] == 71
    # Months from the first scoring (09-01) to now; weeks likewise.
    assert [p["period"] for p in out["periods"]] == ["2026-09", "2026-10", "2026-11"]
    assert out["periods"][1]["kpis"]["handed_over"] == 3  # all three handoffs were in October
    assert out["distribution"][0]["period"] == "2026-W36"
    assert out["distribution"][-1]["counts"]["sales_ready"] == 1
    assert set(out["by_segment_kpis"]) == set(SEGMENTS)
    assert out["by_segment_kpis"]["A1"]["handed_over"] == 2
    assert out["backtest"]["contacts_with_deal"] == 1
    assert out["notes"] == []  # deals were won: nothing to warn of
    keys = {k["key"] for k in out["kpis"]}
    assert {"contacts", "handed_over", "accepted", "won", "base_rate", "mql_to_sql_rate"} <= keys
    assert {"time_to_response_median_h", "time_to_response_p90_h", "closed_won_ratio", "rejection_rate"} <= keys


# -- properties -----------------------------------------------------------------------------------------------

_times = st.one_of(st.none(), st.integers(0, 120).map(lambda d: T0 + timedelta(days=d)))


@st.composite
def _outcomes(draw: st.DrawFn) -> list[ContactOutcome]:
    found = []
    for contact_id in range(draw(st.integers(0, 25))):
        won_at = draw(_times)
        deal = draw(_times) if won_at is None else won_at - timedelta(days=draw(st.integers(0, 30)))
        handed = draw(_times)
        found.append(
            outcome(
                contact_id,
                peak_segment=draw(st.sampled_from(SEGMENTS)),
                handed_over_at=handed,
                triggered_at=handed - timedelta(hours=draw(st.integers(0, 48))) if handed else None,
                first_response_at=draw(_times),
                task_closed=draw(st.sampled_from([None, "completed", "deleted"])),
                lead_status=draw(st.sampled_from([None, "UNQUALIFIED", "CONNECTED", "BAD_TIMING"])),
                mql_at=draw(_times),
                sql_at=draw(_times),
                opportunity_at=draw(_times),
                deals=int(deal is not None),
                deal_created_at=deal,
                won_deal_created_at=deal if won_at else None,
                won_at=won_at,
            )
        )
    return found


@settings(max_examples=60, deadline=None)
@given(_outcomes(), st.integers(1, 5))
def test_every_rate_is_a_share_and_the_funnel_never_widens(outcomes: list[ContactOutcome], min_n: int) -> None:
    for figure in kpis(outcomes, ALL, min_n=min_n, meaning=MEANING):
        if figure.kind == "rate" and figure.value is not None:
            assert 0.0 <= figure.value <= 1.0
            assert figure.n >= min_n
    for row in segment_table(outcomes, ALL, min_n=min_n):
        assert row.win_rate is None or 0.0 <= row.win_rate <= 1.0
    stages = funnel(outcomes, ALL, min_n=min_n)
    assert all(a.count >= b.count for a, b in itertools.pairwise(stages))
    assert all(s.rate_from_previous is None or 0.0 <= s.rate_from_previous <= 1.0 for s in stages)


_scoring = st.tuples(st.integers(0, 5), st.integers(0, 60), st.integers(0, 100), st.integers(0, 100))


@settings(max_examples=60, deadline=None)
@given(st.lists(_scoring, max_size=40), _outcomes())
def test_recall_never_rises_with_the_threshold(
    raw: list[tuple[int, int, int, int]], outcomes: list[ContactOutcome]
) -> None:
    model = default_model()
    scorings = sorted((c, T0 + timedelta(days=d), e, p) for c, d, e, p in raw)
    crossings = first_crossings(scorings, model)
    rows = threshold_table(outcomes, crossings, ALL, thresholds=range(61, 91), min_n=1)
    recalls = [r.recall for r in rows]
    if recalls[0] is not None:
        assert all(a is not None and b is not None and a >= b for a, b in itertools.pairwise(recalls))
    handoffs = [r.n_handoffs for r in rows]
    assert handoffs == sorted(handoffs, reverse=True)
    assert all(r.precision is None or 0.0 <= r.precision <= 1.0 for r in rows)


def test_a_portal_without_outcomes_gives_a_complete_report_that_says_so() -> None:
    data = CalibrationInput(
        outcomes=(),
        owner_names={},
        crossings={},
        open_task_capacity=0,
        current_threshold=None,
        signal_observations=(),
        backtest_scores=(),
        history=iter(()),
    )
    out = calibration_report(data, default_model(), now=NOW, since=None).to_json()
    assert len(out["segments"]) == 16
    assert all(k["value"] in {0, None} for k in out["kpis"])
    assert out["threshold_advice"]["advised_threshold"] is None
    assert len(out["notes"]) == 1
    assert "No outcomes" in out["notes"][0]
    assert [p["period"] for p in out["periods"]] == ["2026-11"]
