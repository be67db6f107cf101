"""Benchmark: `hubsync preview` (candidate = the shipped model with the pricing page's points doubled) against a full
rescore, on bench/score.py's database of 100,000 contacts and 2,000,000 activities in SQLite.

Prints (nothing is asserted), each run in a fresh process on a fresh copy of the database, the two kinds alternating
so that a busy machine slows both alike:

- wall and CPU seconds (worker processes included) and peak memory of each full rescore and each preview, their
  minimum and median; both score in a worker process per core (bench/score.py prints what starting them costs);
- the ratio preview / full rescore of the medians and of each pair of runs (target: preview <= 2x), and of CPU;
- the machine's load average before and after.

The preview runs on a copy that a full rescore has scored once (stored scores and episodes, as on a live portal).
The database has no owners, tasks or outcomes: the handoff plans route nobody and the backtest has no sample, so
the figure is the scoring of every contact with both models, the companies and the planning over them.

    python bench/preview.py [--contacts 100000] [--activities 2000000] [--runs 2]
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runs import arguments, load, measured, run, summary

# bench/score.py builds (or has built) the database this bench reuses.
from score import CONFIG, NOW, OUT, database

PRICING = 'name = "pricing_page_view"\nlabel = "pricing page"\npoints = 15\nmax_points = 45'
DOUBLED = 'name = "pricing_page_view"\nlabel = "pricing page"\npoints = 30\nmax_points = 90'


def candidate_config() -> Path:
    text = CONFIG.read_text(encoding="utf-8")
    if PRICING not in text:
        raise SystemExit("config/hubsync.toml no longer has the pricing signal this bench doubles")
    path = OUT / "preview-candidate.toml"
    path.write_text(text.replace(PRICING, DOUBLED), encoding="utf-8")
    return path


def measure(path: Path, kind: str) -> None:
    """Runs in its own process: one full rescore or one preview of the database at `path`, then its figures
    (`runs.measured`: its worker processes included) as one line of JSON."""
    from hubsync.jobs.preview import preview  # noqa: PLC0415  (imports the project only when measuring)
    from hubsync.jobs.rescore import rescore, worker_processes  # noqa: PLC0415
    from hubsync.settings import load_settings  # noqa: PLC0415
    from hubsync.store.db import open_database  # noqa: PLC0415

    live = load_settings({}, str(CONFIG)).config
    engine = open_database(f"sqlite:///{path}")
    changed = 0
    if kind == "rescore":
        result, figures = measured(lambda: rescore(engine, live.scoring, now=NOW))
        contacts = result.contacts_scored
    else:
        candidate = load_settings({}, str(OUT / "preview-candidate.toml")).config
        doc, figures = measured(lambda: preview(engine, live, candidate, now=NOW, sources=(str(CONFIG), "candidate")))
        contacts, changed = doc["contacts"], doc["segments"]["changed"]
    engine.dispose()
    workers = worker_processes(None, contacts)
    print(json.dumps(figures | {"contacts": contacts, "changed": changed, "workers": workers}))


def report(path: Path, runs: int) -> None:
    print(f"machine load (1, 5, 15 min): {load()}")
    candidate_config()
    scored = path.with_name(f"{path.stem}.scored.db")
    if not scored.exists():
        shutil.copyfile(path, scored)
        run(__file__, scored, "rescore")
        shutil.copyfile(scored.with_name(f"{scored.stem}.rescore.db"), scored)
    rescores: list[dict[str, float]] = []
    previews: list[dict[str, float]] = []
    for _ in range(runs):
        rescores.append(run(__file__, path, "rescore"))
        previews.append(run(__file__, scored, "preview"))
    print(f"{int(previews[0]['contacts']):,} contacts; the candidate moves {int(previews[0]['changed']):,} of them")
    rescore_median = summary("full rescore (stores scores)", rescores)
    preview_median = summary("preview (both models, nothing stored)", previews)
    pairs = ", ".join(f"{p['wall'] / r['wall']:.2f}" for r, p in zip(rescores, previews, strict=True))
    cpu = ", ".join(f"{p['cpu'] / r['cpu']:.2f}" for r, p in zip(rescores, previews, strict=True))
    ratio = preview_median / rescore_median
    print(f"ratio preview / full rescore: {ratio:.2f} (medians, wall); per pair: {pairs} (target <= 2); CPU: {cpu}")
    print(f"machine load after: {load()}")


def main() -> None:
    args = arguments(__doc__, ("rescore", "preview")).parse_args()
    if args.measure:
        measure(args.measure, args.kind)
        return
    report(database(args.contacts, args.activities), args.runs)


if __name__ == "__main__":
    main()
