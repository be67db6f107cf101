"""Handoff bench (issue 13, acceptance 2): does the sales handoff stay trustworthy over two simulated months?

    .venv/bin/python bench/handoff.py [--contacts 2000] [--days 60] [--cycle-hours 1] [--seed 7] [--capacity N]
                                      [--database-url URL]

A generated sandbox portal lives through `--days` simulated days: buyers walk to a demo request, a share of contacts
browses each day, new contacts arrive with a download, and the simulated sales team works, ignores or deletes its
tasks at the end of each day (hubsync/sandbox/sales.py). hubsync runs its real cycle as the scheduler would: one
every `--cycle-hours`, the daily full rescore and the weekly reconciliation, scoring as of the portal's clock, into
a fresh SQLite file (or `--database-url`, e.g. an empty PostgreSQL schema).

Prints the hubsync tasks per owner and day, episodes, overloads (owners beyond capacity, and through which
exemption), hand-raisers, and PASS/FAIL for the three rules: no contact gets two tasks in one episode; no owner holds
more open hubsync tasks than its capacity except through ceiling leads and hand-raisers; no contact younger than
the surge horizon (35 days) is scored as surging. The checks are computed from the portal's tasks and the scores the
database stored, not from the planner's own bookkeeping (tests/support/handoff_sim.py says exactly how). Exit code
1 when a check fails. Expect tens of minutes at full size (a cycle takes about a second at 2,000 contacts).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the harness lives with the tests' helpers

from hubsync.logs import configure
from tests.support.handoff_sim import SimulationPlan, run_handoff_simulation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--cycle-hours", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--capacity", type=int, default=None, help="open hubsync tasks per owner (default: config)")
    parser.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    # The bench prints its own report; hubsync's warnings (a lead without an owner, …) would bury it.
    configure(level="error")
    plan = SimulationPlan(
        contacts=args.contacts, days=args.days, cycle_hours=args.cycle_hours, seed=args.seed, capacity=args.capacity
    )
    began = time.monotonic()
    findings = run_handoff_simulation(plan, args.database_url, progress=lambda line: print(line, flush=True))
    print()
    print("\n".join(findings.lines()))
    print(f"\ntook {time.monotonic() - began:.0f} s")
    if not all(findings.ok(key) for _, key in findings.CHECKS):
        sys.exit(1)


if __name__ == "__main__":
    main()
