"""Chaos bench: nothing lost, whatever fails. Prints figures; asserts nothing.

    .venv/bin/python bench/chaos.py [--contacts 1000] [--kills 30] [--fault-runs 3] [--fault-rate 0.3]
                                    [--database sqlite|postgres] [--seed 7]

Every trial starts from a fresh sandbox portal identical to the reference's and a fresh database, runs
`hubsync setup`, is disturbed once, then runs plain `hubsync sync` until one ends well (at most 3), and is compared
with an undisturbed reference cycle (pull, score, push with tasks) on the local tables, the portal's hubsync
properties and the hubsync tasks per contact (tests/support/chaos.py says exactly what is compared):

(a) SIGKILL of `hubsync sync` at `--kills` seeded moments spread over the reference cycle's duration;
(b) `--fault-runs` trials with `--fault-rate` of all requests (setup and every sync) answered by a fault: 5xx,
    dropped connections, slow answers, 429 bursts;
(c) each bad-body class (not JSON, empty, null, [], {}, a page without its results) on one endpoint of each kind of
    stream (a CRM search, a legacy log, the forms API) for one sync; then the fault is gone.

For each trial: the reruns it needed and their exit codes, tracebacks printed, mismatching rows or records, and
contacts with more than one hubsync task. PostgreSQL: HUBSYNC_TEST_POSTGRES_URL (default the local test server).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the harness lives with the tests' helpers

from hubsync.sandbox.limits import BODY_FAULT_KINDS
from tests.support.chaos import Chaos, State, Trial

# One endpoint per kind of page hubsync reads: a CRM search, the legacy email events log, and the forms API.
BAD_BODY_ENDPOINTS = (
    "POST /crm/v3/objects/{objectType}/search",
    "GET /email/public/v1/events",
    "GET /form-integrations/v1/submissions/forms",
)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--fault-runs", type=int, default=3)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", nargs="*", default=[], choices=("kills", "faults", "bodies"))
    args = parser.parse_args()
    postgres = os.environ.get("HUBSYNC_TEST_POSTGRES_URL", POSTGRES_URL) if args.database == "postgres" else None
    with tempfile.TemporaryDirectory(prefix="hubsync-chaos-") as tmp:
        chaos = Chaos(Path(tmp), contacts=args.contacts, seed=args.seed, postgres_url=postgres)
        try:
            _run(chaos, args)
        finally:
            chaos.drop_databases()


def _run(chaos: Chaos, args: argparse.Namespace) -> None:
    started = time.monotonic()
    reference, took = chaos.reference()
    print(f"reference: {args.contacts:,} contacts on {args.database}, `hubsync sync` took {took:.1f} s")
    _show_reference(reference)
    trials: dict[str, list[Trial]] = {}
    if "kills" not in args.skip:
        rng = random.Random(args.seed)  # noqa: S311  (seeded kill moments, not secrets)
        # Stratified: one moment in each of `kills` equal slices of the cycle, so the whole cycle is covered.
        moments = [(i + rng.random()) / args.kills * took for i in range(args.kills)]
        trials["(a) SIGKILL"] = [_shown(chaos.kill(reference, at)) for at in moments]
    if "faults" not in args.skip:
        trials[f"(b) {args.fault_rate:.0%} faults"] = [
            _shown(chaos.faults(reference, args.fault_rate, seed=args.seed + i)) for i in range(args.fault_runs)
        ]
    if "bodies" not in args.skip:
        trials["(c) bad bodies"] = [
            _shown(chaos.bad_body(reference, kind, endpoint))
            for endpoint in BAD_BODY_ENDPOINTS
            for kind in BODY_FAULT_KINDS
        ]
    print()
    print(
        f"{'trials':<20} {'n':>4} {'converged':>10} {'mismatches':>11} {'dup. tasks':>11} {'tracebacks':>11}"
        f" {'reruns (max)':>13}"
    )
    for name, group in trials.items():
        print(
            f"{name:<20} {len(group):>4} {sum(t.converged for t in group):>10} "
            f"{sum(1 for t in group if t.mismatches):>11} {sum(t.duplicate_tasks for t in group):>11} "
            f"{sum(t.tracebacks for t in group):>11} {max((t.reruns for t in group), default=0):>13}"
        )
    print(f"\nwall time {time.monotonic() - started:.0f} s")


def _show_reference(reference: State) -> None:
    sizes = ", ".join(f"{name} {sum(rows.values()):,}" for name, rows in reference.tables.items())
    tasks = sum(len(t) for t in reference.tasks_per_contact.values())
    print(f"  rows: {sizes}\n  hubsync tasks in the portal: {tasks}")


def _shown(trial: Trial) -> Trial:
    verdict = "ok" if trial.converged else "MISMATCH" if trial.mismatches else "NOT CONVERGED"
    extra = f" {dict(trial.mismatches)}" if trial.mismatches else ""
    dup = f", {trial.duplicate_tasks} duplicate tasks" if trial.duplicate_tasks else ""
    tb = f", {trial.tracebacks} tracebacks" if trial.tracebacks else ""
    print(f"  {trial.name:<58} {verdict:<13} exit codes {list(trial.exit_codes)}{dup}{tb}{extra}", flush=True)
    return trial


if __name__ == "__main__":
    main()
