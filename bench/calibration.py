"""Calibration bench (issue 14, acceptance 4): what does the report say about a simulated portal, and what does it cost?

    .venv/bin/python bench/calibration.py [--contacts 1000] [--days 91] [--cycle-hours 24] [--seed 7]
                                          [--database-url URL] [--min-n 30]

A generated sandbox portal lives through `--days` simulated days with a sales team (hubsync/sandbox/sales.py: reps
work or ignore hubsync's tasks, stamp lifecycle dates, win or lose deals by each contact's hidden intent; the
simulation never reads hubsync's scores). hubsync runs as the scheduler would (an incremental cycle every
`--cycle-hours`, the daily full rescore, the weekly reconciliation; tests/support/handoff_sim.py's schedule), then the
bench times a full outcome refresh and `report_data`, and prints (nothing is asserted, nothing is tuned): the KPIs,
the A1 row with the base rate and the lift and their n, the threshold advice, the backtest and the signals, as
measured. The whole JSON goes to bench/out/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the schedule lives with the tests' helpers

from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.outcomes import refresh_outcomes
from hubsync.jobs.report import report_data
from hubsync.jobs.setup import setup
from hubsync.logs import configure
from hubsync.sandbox import start_sandbox
from hubsync.sandbox.sales import SalesBehaviour
from hubsync.sandbox.simulate import Simulation
from hubsync.settings import ReportConfig
from hubsync.store.db import open_database
from tests.support.handoff_sim import schedule
from tests.support.sandbox import fast_client, portal_now, sandbox_settings

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=91)
    parser.add_argument("--cycle-hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-n", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    configure(level="error")
    with tempfile.TemporaryDirectory(prefix="hubsync-calibration-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'hubsync.db'}"
        report, timings = _run(args, url)
    OUT.mkdir(exist_ok=True)
    (OUT / "calibration.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    _print(report, timings)


def _run(args: argparse.Namespace, url: str) -> tuple[dict[str, Any], dict[str, float]]:
    began = time.monotonic()
    with start_sandbox(contacts=args.contacts, seed=args.seed, rate_limits=False) as sb:
        settings = sandbox_settings(sb, url)
        report_config = ReportConfig(min_n=args.min_n)
        settings = replace(settings, config=settings.config.model_copy(update={"report": report_config}))
        engine = open_database(url)
        portal = sb.portal
        with fast_client(sb) as client:
            setup(client, settings.config.push)
            start = portal.now
            run_cycle(settings, engine, client, clock=lambda: portal_now(portal))
            sim = Simulation(
                portal,
                days=args.days,
                seed=args.seed + 1,
                buyers=max(4, args.contacts // 50),
                arrivals=args.contacts / 400,
                sales=SalesBehaviour(),
            )
            for tick in schedule(start, sim.end, args.cycle_hours, settings.config.schedule):
                sim.run_until(tick.at)
                run_cycle(settings, engine, client, clock=lambda: portal_now(portal), options=tick.options)
            simulated = time.monotonic() - began
            now = portal_now(portal)
        took = time.monotonic()
        refreshed = refresh_outcomes(engine, settings.config.scoring, now=now)
        refresh_s = time.monotonic() - took
        took = time.monotonic()
        report = report_data(engine, settings, now=now, since=None)
        report_s = time.monotonic() - took
        engine.dispose()
    return report, {"simulated_s": simulated, "refresh_s": refresh_s, "refreshed": refreshed, "report_s": report_s}


def _print(report: dict[str, Any], timings: dict[str, float]) -> None:
    print(f"simulation and cycles {timings['simulated_s']:.0f} s")
    print(f"full outcome refresh of {timings['refreshed']:.0f} contacts: {timings['refresh_s']:.2f} s")
    print(f"report_data: {timings['report_s']:.2f} s")
    print()
    for kpi in report["kpis"]:
        value = "too few to judge" if kpi["value"] is None else f"{kpi['value']:.4g}"
        print(f"  {kpi['label']:<40} {value:>18}   n={kpi['n']}")
    kpis = {k["key"]: k for k in report["kpis"]}
    print()
    base = kpis["base_rate"]
    print(f"base rate: {base['value']} (won {kpis['won']['value']} of n={base['n']} contacts)")
    for row in report["segments"]:
        print(
            f"  {row['segment']}: contacts {row['contacts']:>5}  handed over {row['handed_over']:>4}"
            f"  won {row['won']:>4}  win rate {row['win_rate']}  lift {row['lift']}  judged {row['judged']}"
        )
    print()
    print("threshold advice:", json.dumps(report["threshold_advice"], indent=1))
    print("backtest:", json.dumps(report["backtest"]))
    print("signals (judged first):")
    for row in report["signals"]:
        print(
            f"  {row['signal']:<24} won {row['won_with']}/{row['won_total']}  all {row['all_with']}/{row['all_total']}"
            f"  lift {row['lift']}"
        )
    print("funnel:", [(s["stage"], s["count"]) for s in report["funnel"]])


if __name__ == "__main__":
    main()
