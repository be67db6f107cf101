"""Real-time benchmark: from a demo-request form submission in the sandbox portal to hubsync's task on that contact.

    .venv/bin/python bench/realtime.py [--rates 1,10,100] [--seconds 60] [--runs 2] [--cycle-seconds 30]
                                       [--contacts 2000] [--database URL] [--keep DIR]

For each run: a generated portal (Enterprise limits on: 190 requests per 10 s) with enough fresh contacts for
every submission, set up and synced (twice, as a portal in steady state), then `hubsync run` in its own process
as in production, webhooks on, the scheduled cycle every `--cycle-seconds` (30 by default, so that cycles run
during every phase; production's is 900), and the portal's webhooks subscribed to it. Then, for each rate,
`--seconds` of demo requests ("Demo anfragen") at that many per second, each from a contact without a task, the
portal's clock moving with the wall clock. A request's latency is from just before the submission to the moment
the portal holds a task on that contact (seen in the portal itself, not through its API). Reported per rate:
requests, tasks, p50 / p95 / max, the 429s the sandbox answered (every 429 is the pacer's: no faults are
injected), hubsync's API calls, the cycles that ran while requests came in and how long each took, and how long
batches waited for the work lock (p95 / max, from hubsync's log). Target: p95 <= 1 s at 10 per second, no 429.

The sandbox runs in this process, hubsync in its own. Expect about 3 x --seconds plus two minutes per run.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' config and subscription helpers

from hubsync.sandbox import generate_portal, serve
from hubsync.sandbox.limits import LimitSettings
from hubsync.sandbox.portal import Portal, PortalChange
from hubsync.sandbox.server import Sandbox
from hubsync.sandbox.webhooks import Subscription
from tests.integration.webhooks.world import SECRET, SUBSCRIBED, WEBHOOKS_ON
from tests.support.cli import hubsync_command, log_events
from tests.support.config import WHOLE_HISTORY, config_with

FORM = "Demo anfragen"
START_TIMEOUT_S = 600.0


@dataclass
class Phase:
    rate: int
    submitted: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    rate_limited: int = 0
    api_calls: int = 0
    # How long each cycle took that ran while requests came in (seconds), and the batches' waits for the work lock.
    cycles: list[float | None] = field(default_factory=list)
    lock_waits: list[float] = field(default_factory=list)

    def line(self) -> str:
        lat = sorted(self.latencies)
        waits = sorted(self.lock_waits) or [0.0]
        missing = len(self.submitted) - len(lat)
        if not lat:
            return f"{self.rate:>5}/s  requests {len(self.submitted):>5}  no task seen"
        return (
            f"{self.rate:>5}/s  requests {len(self.submitted):>5}  tasks {len(lat):>5}"
            f"{f' (missing {missing})' if missing else ''}  p50 {_ms(_pct(lat, 50))}  p95 {_ms(_pct(lat, 95))}"
            f"  max {_ms(lat[-1])}  429s {self.rate_limited}  API calls {self.api_calls}\n"
            f"         cycles {len(self.cycles)} ({', '.join(_took(c) for c in self.cycles) or 'none'})"
            f"  batches {len(self.lock_waits)}, waited for the work lock: p95 {_ms(_pct(waits, 95))}"
            f"  max {_ms(waits[-1])}  load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


def _pct(values: Sequence[float], p: int) -> float:
    """The nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


def _took(seconds: float | None) -> str:
    return "not finished" if seconds is None else f"{seconds:.1f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:>7.0f} ms"


class TaskWatch:
    """Sees each task the moment the portal creates it (a portal listener), and which contacts it is on."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.seen: dict[int, float] = {}
        self._lock = threading.Lock()
        portal.listeners.append(self.notice)

    def notice(self, change: PortalChange) -> None:
        if change.object_type != "tasks" or change.kind not in {"creation", "propertyChange"}:
            return
        at = time.monotonic()
        # Called under the portal's lock, after the create stored its associations.
        contacts = self.portal.assoc.of("tasks", change.object_id, "contacts")
        with self._lock:
            for contact in contacts:
                self.seen.setdefault(contact, at)


@contextmanager
def ticking(portal: Portal) -> Iterator[None]:
    """The portal's clock moves with the wall clock, so submissions carry their real order and spacing."""
    stop = threading.Event()

    def tick() -> None:
        last = time.monotonic()
        while not stop.wait(0.02):
            now = time.monotonic()
            portal.advance(now - last)
            last = now

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class Service:
    """`hubsync run` in its own process, its JSON log in a file."""

    def __init__(self, env: dict[str, str], cycle_seconds: int, log: Path) -> None:
        self.log = log
        with log.open("wb") as err:
            command = hubsync_command("run", "--cycle-seconds", str(cycle_seconds))
            self.proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)  # noqa: S603

    def events(self, name: str) -> list[dict[str, Any]]:
        return log_events(self.log, name)

    def cycles_between(self, start: datetime, end: datetime) -> list[float | None]:
        """How long each cycle took (seconds; None: not finished) that ran at some point between `start` and `end`."""
        ended = {e["run_id"]: _when(e) for e in self.events("cycle.finished")}
        durations: list[float | None] = []
        for began in self.events("cycle.started"):
            started, finished = _when(began), ended.get(began["run_id"])
            if started < end and (finished is None or finished > start):
                durations.append(None if finished is None else (finished - started).total_seconds())
        return durations

    def lock_waits_between(self, start: datetime, end: datetime) -> list[float]:
        return [
            e.get("lock_wait_ms", 0) / 1000 for e in self.events("webhooks.batch_processed") if start <= _when(e) <= end
        ]

    def wait_for(self, name: str, count: int = 1) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(found := self.events(name)) < count:
            if self.proc.poll() is not None:
                sys.exit(f"hubsync run exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                sys.exit(f"no {name} within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        return found[-1]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _fresh_contacts(portal: Portal, count: int) -> list[int]:
    """Contacts made for the benchmark: each at a company, with an owner, no task yet."""
    companies = portal.stores["companies"].live
    owners = [o for o in portal.owners if not o.archived]
    made = []
    for i in range(count):
        company = companies[i % len(companies)]
        props = {
            "email": f"bench.lead.{i}@bench-{i % 97}.example",
            "firstname": "Bench",
            "lastname": f"Lead {i}",
            "jobtitle": "Head of Operations",
            "hubspot_owner_id": str(owners[i % len(owners)].id),
            "associatedcompanyid": str(company),
        }
        made.append(portal.create("contacts", props, associations=[("companies", company)]).id)
    return made


def _when(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["timestamp"]))


def _sandbox_counts(sb: Sandbox) -> tuple[int, int]:
    stats = sb.stats()
    return int(stats["total"]), int(stats["byStatus"].get("429", 0))


def _drain(base: str, phase: Phase, watch: TaskWatch, drain_seconds: float) -> None:
    """Wait until every request has its task (or `drain_seconds` passed) and hubsync's queue is empty."""
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline:
        with watch._lock:  # noqa: SLF001  (the benchmark's own watcher)
            done = all(c in watch.seen for c in phase.submitted)
        health = requests.get(f"{base}/healthz", timeout=10).json()
        if done and health.get("queue_depth") == 0:
            return
        time.sleep(0.2)


def run_phase(
    sb: Sandbox,
    service: Service,
    base: str,
    watch: TaskWatch,
    contacts: Iterator[int],
    *,
    rate: int,
    seconds: int,
    drain: float,
) -> Phase:
    phase = Phase(rate)
    calls_before, limited_before = _sandbox_counts(sb)
    started_at = datetime.now(UTC)
    start = time.monotonic()
    for i in range(rate * seconds):
        due = start + i / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        contact = next(contacts)
        phase.submitted[contact] = time.monotonic()
        sb.portal.add_form_submission(contact, FORM, page_url="https://leadwerk.example/demo")
    submitted_until = datetime.now(UTC)
    _drain(base, phase, watch, drain)
    with watch._lock:  # noqa: SLF001
        phase.latencies = [watch.seen[c] - t for c, t in phase.submitted.items() if c in watch.seen]
    calls, limited = _sandbox_counts(sb)
    phase.api_calls, phase.rate_limited = calls - calls_before, limited - limited_before
    phase.cycles = service.cycles_between(started_at, submitted_until)
    phase.lock_waits = service.lock_waits_between(started_at, datetime.now(UTC))
    return phase


def one_run(args: argparse.Namespace, work: Path, run: int) -> list[Phase]:
    rates = [int(r) for r in args.rates.split(",")]
    portal = generate_portal(args.contacts, args.seed + run, activities_per_contact=5)
    fresh = _fresh_contacts(portal, sum(r * args.seconds for r in rates) + 10)
    # An hour passes before hubsync starts: the fresh contacts are not in the next cycles' re-read overlap.
    portal.advance(3600)
    sb = serve(portal, limits=LimitSettings(tier="enterprise", enabled=True))
    config = config_with(work, {**WEBHOOKS_ON, **WHOLE_HISTORY, 'tier = "professional"': 'tier = "enterprise"'})
    database = args.database or f"sqlite:///{work / f'realtime-{run}.db'}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HUBSPOT_ACCESS_TOKEN": sb.token,
        "HUBSYNC_API_BASE_URL": sb.url,
        "HUBSYNC_DATABASE_URL": database,
        "HUBSYNC_CONFIG": str(config),
        "HUBSYNC_CLOCK": "sandbox",
        "HUBSYNC_WEBHOOK_SECRET": SECRET,
    }
    # As a portal in steady state: set up, synced, and synced again after hubsync's first write-back (which moves
    # every contact's modified date, so the next cycle reads everything once more); then a quiet quarter hour, so
    # that the cycles during the phases re-read only what the phases change.
    for command in ("setup", "sync", "sync"):
        done = subprocess.run(hubsync_command(command), env=env, capture_output=True, check=False)  # noqa: S603
        if done.returncode:
            sys.exit(done.stderr.decode()[-2000:])
        portal.advance(900)
    service = Service(env, args.cycle_seconds, work / f"run-{run}.log")
    try:
        listening = service.wait_for("webhooks.listening")
        base = f"http://127.0.0.1:{listening['port']}"
        service.wait_for("cycle.finished")
        print(f"run {run + 1}: {len(fresh)} fresh contacts", flush=True)
        sb.webhooks.subscribe(Subscription(base + listening["path"], SECRET, properties=SUBSCRIBED))
        watch = TaskWatch(portal)
        contacts = iter(fresh)
        phases = []
        with ticking(portal):
            for rate in rates:
                phase = run_phase(sb, service, base, watch, contacts, rate=rate, seconds=args.seconds, drain=args.drain)
                print("  " + phase.line(), flush=True)
                phases.append(phase)
        return phases
    finally:
        service.stop()
        sb.webhooks.subscribe(None)
        sb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="1,10,100", help="demo requests per second, one phase each")
    parser.add_argument("--seconds", type=int, default=60, help="length of each phase")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--contacts", type=int, default=2000, help="contacts of the generated portal (before the fresh ones)"
    )
    parser.add_argument(
        "--cycle-seconds", type=int, default=30, help="the scheduled cycle's interval (15 min in production)"
    )
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the last tasks of a phase")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a SQLite file per run)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the databases and hubsync's logs here")
    args = parser.parse_args()
    print(f"hubsync real time: demo request → task; rates {args.rates}/s, {args.seconds} s each, cycle every "
          f"{args.cycle_seconds} s, {args.runs} run(s)", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hubsync-realtime-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        runs = [one_run(args, work, run) for run in range(args.runs)]
    if len(runs) > 1:
        print("over the runs (min / median):")
        for i, first in enumerate(runs[0]):
            summary = []
            for label, p in (("p50", 50), ("p95", 95), ("max", 100)):
                values = [_pct(sorted(r[i].latencies), p) for r in runs if r[i].latencies]
                if values:
                    summary.append(f"{label} {_ms(min(values))} / {_ms(statistics.median(values))}")
            limited = [r[i].rate_limited for r in runs]
            print(
                f"  {first.rate:>5}/s  "
                + "  ".join(summary)
                + f"  429s {min(limited)} / {statistics.median(limited):g}"
            )


if __name__ == "__main__":
    main()
