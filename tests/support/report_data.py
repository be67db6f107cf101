"""A calibration report dict built by hand, following docs' contract (`hubsync/jobs/report.py::report_data`), for
renderer tests that must not depend on a simulated portal. Deterministic for a seed; every figure is consistent with
its counts (rates are won / total, lifts are rate / base rate) and unjudged below `min_n`, as the real one is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hubsync.scoring.calibration import FUNNEL
from hubsync.scoring.segments import SEGMENTS

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

_KPIS: tuple[tuple[str, str, str], ...] = (
    ("contacts", "Contacts", "count"),
    ("handed_over", "Handed over", "count"),
    ("accepted", "Accepted by sales", "count"),
    ("won", "Won", "count"),
    ("base_rate", "Base rate (won / all contacts)", "rate"),
    ("mql_to_sql_rate", "MQL → SQL", "rate"),
    ("sales_acceptance_rate", "Sales acceptance", "rate"),
    ("rejection_rate", "Rejection rate", "rate"),
    ("closed_won_ratio", "Closed-won of handed over", "rate"),
    ("time_to_lead_median_h", "Time to lead, median", "hours"),
    ("time_to_lead_p90_h", "Time to lead, 90th percentile", "hours"),
    ("time_to_response_median_h", "Time to response, median", "hours"),
    ("time_to_response_p90_h", "Time to response, 90th percentile", "hours"),
)
_SIGNALS = (
    ("demo_request", "Demo request"),
    ("pricing_page", "Pricing page"),
    ("webinar_attended", "Webinar attended"),
    ("comparison_page", "Comparison page"),
    ("newsletter_open", "Newsletter opened"),
    ("careers_page", "Careers page"),
)


def _rate(won: int, total: int, min_n: int) -> tuple[float | None, bool]:
    judged = total >= min_n and total > 0
    return (won / total if judged else None), judged


def build_report(
    *,
    seed: int = 1,
    min_n: int = 30,
    owner_names: tuple[str, ...] = ("Anna Becker", "Jonas Wolf", "Mia Schulz"),
    thin_segments: tuple[str, ...] = ("D1", "A4"),
    unjudged_kpis: tuple[str, ...] = ("rejection_rate",),
    weeks: int = 13,
    since: datetime | None = None,
) -> dict[str, Any]:
    """A report of a portal of a few thousand contacts. `thin_segments` get fewer than `min_n` contacts and
    `unjudged_kpis` fewer than `min_n` cases, so "too few to judge" shows; names are used as given (escaping tests
    pass markup)."""
    rng = random.Random(seed)  # noqa: S311  (test data, not security)
    segments = _segments(rng, min_n, thin_segments)
    contacts = sum(s["contacts"] for s in segments)
    won = sum(s["won"] for s in segments)
    handed = sum(s["handed_over"] for s in segments)
    kpis = _kpis(segments, min_n, unjudged_kpis)
    thresholds = _thresholds(handed, won, min_n, weeks)
    capacity = round(handed / weeks / 2, 1)
    advised = next((t["threshold"] for t in thresholds if t["handoffs_per_week"] <= capacity), None)
    months = sorted({(NOW - timedelta(days=30 * m)).strftime("%Y-%m") for m in range(3)})
    return {
        "version": 1,
        "generated_at": NOW.isoformat(),
        "since": since.isoformat() if since else None,
        "until": NOW.isoformat(),
        "min_n": min_n,
        "kpis": kpis,
        "segments": segments,
        "funnel": _funnel(rng, contacts),
        "owners": [_owner(rng, i, name, min_n) for i, name in enumerate(owner_names)],
        "signals": _signals(rng, contacts, won, min_n),
        "thresholds": thresholds,
        "threshold_advice": {
            "capacity_per_week": capacity,
            "advised_threshold": advised,
            "current_threshold": 70,
            "text": f"Sales can take {capacity} handoffs a week; a threshold of {advised} fits that.",
        },
        "distribution": _distribution(rng, weeks),
        "periods": [
            {"period": month, "kpis": {k["key"]: k["value"] if rng.random() > 0.2 else None for k in kpis}}
            for month in months
        ],
        "by_segment_kpis": {s["segment"]: {"base_rate": s["win_rate"], "won": s["won"]} for s in segments},
        "backtest": {
            "contacts_with_deal": won + 40,
            "contacts_without": contacts - won - 40,
            "median_score_with": 71.0,
            "median_score_without": 38.5,
            "top_decile_lift": 3.4,
            "judged": True,
        },
    }


def _segments(rng: random.Random, min_n: int, thin: tuple[str, ...]) -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = []
    for i, name in enumerate(SEGMENTS):
        contacts = rng.randrange(3, min_n) if name in thin else rng.randrange(min_n + 20, 900)
        quality = 1 - i / len(SEGMENTS)  # A1 best, D4 worst
        handed = int(contacts * (0.05 + 0.5 * quality * rng.random()))
        won = min(handed, int(contacts * 0.25 * quality**2 * (0.5 + rng.random())))
        segments.append({"segment": name, "contacts": contacts, "handed_over": handed, "won": won})
    base = sum(s["won"] for s in segments) / sum(s["contacts"] for s in segments)
    for seg in segments:
        rate, judged = _rate(seg["won"], seg["contacts"], min_n)
        seg.update(win_rate=rate, lift=None if rate is None else rate / base, judged=judged)
    return segments


def _kpis(segments: list[dict[str, Any]], min_n: int, unjudged: tuple[str, ...]) -> list[dict[str, Any]]:
    contacts = sum(s["contacts"] for s in segments)
    won = sum(s["won"] for s in segments)
    handed = sum(s["handed_over"] for s in segments)
    accepted = int(handed * 0.62)
    values: dict[str, tuple[float | None, int]] = {
        "contacts": (contacts, contacts),
        "handed_over": (handed, handed),
        "accepted": (accepted, handed),
        "won": (won, contacts),
        "base_rate": (won / contacts, contacts),
        "mql_to_sql_rate": (0.318, 412),
        "sales_acceptance_rate": (accepted / handed, handed),
        "rejection_rate": (0.08, min_n - 1),
        "closed_won_ratio": (0.127, handed),
        "time_to_lead_median_h": (3.25, 240),
        "time_to_lead_p90_h": (20.5, 240),
        "time_to_response_median_h": (5.5, 180),
        "time_to_response_p90_h": (41.75, 180),
    }
    kpis: list[dict[str, Any]] = []
    for key, label, kind in _KPIS:
        value, n = values[key]
        kpi: dict[str, Any] = {"key": key, "label": label, "kind": kind, "value": value, "n": n}
        if kind != "count":
            judged = key not in unjudged and n >= min_n
            kpi.update(value=value if judged else None, n=n if judged else min(n, min_n - 1), judged=judged)
        kpis.append(kpi)
    return kpis


def _funnel(rng: random.Random, contacts: int) -> list[dict[str, Any]]:
    funnel: list[dict[str, Any]] = []
    count = contacts
    for i, (stage, label) in enumerate(FUNNEL):
        if i:
            count = int(count * rng.uniform(0.2, 0.6))
        previous = funnel[-1]["count"] if funnel else None
        funnel.append(
            {
                "stage": stage,
                "label": label,
                "count": count,
                "rate_from_previous": count / previous if previous else None,
            }
        )
    return funnel


def _owner(rng: random.Random, i: int, name: str, min_n: int) -> dict[str, Any]:
    handed = rng.randrange(5, 120) if i else min_n - 3
    n = int(handed * 0.8)
    judged = n >= min_n
    return {
        "owner_id": 1000 + i,
        "owner_name": name,
        "handed_over": handed,
        "accepted": int(handed * 0.6),
        "rejected": int(handed * 0.1),
        "time_to_response_median_h": round(rng.uniform(1, 30), 2) if judged else None,
        "time_to_response_p90_h": round(rng.uniform(30, 90), 2) if judged else None,
        "n": n,
        "judged": judged,
    }


def _signals(rng: random.Random, contacts: int, won: int, min_n: int) -> list[dict[str, Any]]:
    signals: list[dict[str, Any]] = []
    for key, label in _SIGNALS:
        all_with = rng.randrange(40, contacts // 3)
        won_with = rng.randrange(0, max(1, won // 2))
        judged = won >= min_n and all_with >= min_n
        signals.append(
            {
                "signal": key,
                "label": label,
                "won_with": won_with,
                "won_total": won,
                "all_with": all_with,
                "all_total": contacts,
                "lift": (won_with / won) / (all_with / contacts) if judged else None,
                "judged": judged,
            }
        )
    return sorted(signals, key=lambda s: (not s["judged"], -(s["lift"] or 0.0)))


def _thresholds(handed: int, won: int, min_n: int, weeks: int) -> list[dict[str, Any]]:
    thresholds: list[dict[str, Any]] = []
    for threshold in range(61, 91):
        share = (91 - threshold) / 30
        n_handoffs = int(handed * share)
        n_won = min(n_handoffs, int(won * share**0.6))
        thresholds.append(
            {
                "threshold": threshold,
                "handoffs_per_week": round(n_handoffs / weeks, 2),
                "recall": n_won / won if won else None,
                "precision": n_won / n_handoffs if n_handoffs >= min_n else None,
                "n_won": n_won,
                "n_handoffs": n_handoffs,
            }
        )
    return thresholds


def _distribution(rng: random.Random, weeks: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for w in range(weeks):
        iso = (NOW - timedelta(weeks=weeks - w)).isocalendar()
        counts = {
            "nurture": rng.randrange(1500, 2500),
            "mql": rng.randrange(100, 400),
            "sales_ready": rng.randrange(10, 80),
        }
        segments = {s: rng.randrange(0, 300) for s in SEGMENTS}
        rows.append({"period": f"{iso.year}-W{iso.week:02d}", "counts": counts, "segments": segments})
    return rows
