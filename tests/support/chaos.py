"""The chaos harness: a full cycle (`hubsync setup`, then `hubsync sync`: pull, score, push, tasks) run by the real
command on identical sandbox portals, disturbed in a trial and left alone in the reference, and the end states
compared: the local tables, the portal's hubsync properties, and the hubsync tasks per contact.

A trial is disturbed once (a SIGKILL at a moment, faults on every request, a bad body on some endpoint) and then runs
plain `hubsync sync` until one ends well (at most `max_reruns`). It converged when its end state equals the
reference's. `bench/chaos.py` runs many trials and prints figures; `tests/integration/pipeline/test_chaos.py` runs a
few. The portal's clock does not move by itself, so every run scores as of the same instant as the reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import SQLModel

from hubsync.render.task_text import MARKER
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.sandbox.limits import FAULT_KINDS, FaultSettings
from hubsync.store import tables as _tables  # noqa: F401  (registers the tables in SQLModel's metadata)
from tests.support.paths import DEFAULT_CONFIG, REPO

# The tables an uninterrupted cycle and a disturbed one must leave equal, and the columns that may differ: when a
# run happened (wall clock), ids HubSpot assigns to what hubsync creates, and bookkeeping of the runs themselves.
COMPARED: Mapping[str, frozenset[str]] = {
    "contact": frozenset(),
    "company": frozenset(),
    "owner": frozenset(),
    "deal": frozenset(),
    "engagement": frozenset(),
    "association": frozenset(),
    "activity": frozenset(),
    "contact_score": frozenset(),
    "company_score": frozenset(),
    "score_history": frozenset({"id"}),
    "pushed_values": frozenset({"pushed_at"}),
    "task": frozenset({"id", "hubspot_task_id", "created_at", "error"}),
    "pending_rescore": frozenset(),
}
# The exit code recorded for a run the harness stopped after `Chaos.timeout` seconds.
TIMED_OUT = -1
# The sandbox runs with rate limits off: the client's own pacing need not slow the trials down.
_UNPACED = {
    "# requests_per_10s = 190": "requests_per_10s = 10000",
    "search_requests_per_second = 5": "search_requests_per_second = 50",
    # A killed `hubsync sync` keeps its lease until it expires: short, so the rerun need not wait two minutes.
    "lease_seconds = 120": "lease_seconds = 10",
}


@dataclass(frozen=True, slots=True)
class State:
    tables: Mapping[str, Counter[str]]
    properties: Mapping[str, Mapping[int, Mapping[str, str]]]
    tasks_per_contact: Mapping[int, tuple[str, ...]]
    # Account tasks, on companies.
    tasks_per_company: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def duplicate_tasks(self) -> int:
        """Contacts (or companies) with more than one hubsync task (of any status): a rep would have been called
        twice."""
        per_record = (*self.tasks_per_contact.values(), *self.tasks_per_company.values())
        return sum(1 for tasks in per_record if len(tasks) > 1)

    def mismatches(self, reference: State) -> dict[str, int]:
        """Per table or portal part, how many rows or records differ from the reference (0s left out)."""
        out: dict[str, int] = {}
        for name, rows in self.tables.items():
            out[name] = sum(((rows - reference.tables[name]) + (reference.tables[name] - rows)).values())
        for object_type, values in self.properties.items():
            ref = reference.properties[object_type]
            out[f"portal {object_type}"] = sum(1 for i in set(values) | set(ref) if values.get(i) != ref.get(i))
        ref_tasks = reference.tasks_per_contact
        mine = self.tasks_per_contact
        out["portal tasks"] = sum(1 for c in set(mine) | set(ref_tasks) if mine.get(c) != ref_tasks.get(c))
        ref_accounts, accounts = reference.tasks_per_company, self.tasks_per_company
        out["portal account tasks"] = sum(
            1 for c in set(accounts) | set(ref_accounts) if accounts.get(c) != ref_accounts.get(c)
        )
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class Trial:
    name: str
    # Plain `hubsync sync` runs after the disturbance until one ended well.
    reruns: int
    exit_codes: tuple[int, ...]
    tracebacks: int
    mismatches: Mapping[str, int]
    duplicate_tasks: int

    @property
    def converged(self) -> bool:
        return not self.mismatches and self.reruns > 0


@dataclass
class Chaos:
    """Identical portals (`contacts`, `seed`), one fresh database each, on SQLite (a file in `workdir`) or on the
    PostgreSQL server at `postgres_url` (a schema each)."""

    workdir: Path
    contacts: int = 300
    seed: int = 7
    postgres_url: str | None = None
    max_reruns: int = 3
    timeout: float = 600
    _schemas: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        text = DEFAULT_CONFIG.read_text(encoding="utf-8")
        for old, new in _UNPACED.items():
            if old not in text:
                raise RuntimeError(f"config/hubsync.toml no longer contains {old!r}: update tests/support/chaos.py")
            text = text.replace(old, new)
        self.config = self.workdir / "hubsync.toml"
        self.config.write_text(text, encoding="utf-8")

    # -- the reference and the trials -------------------------------------------------------------------------

    def reference(self) -> tuple[State, float]:
        """The undisturbed cycle's end state, and how long its `hubsync sync` took (the window for kill moments)."""
        with self._world() as (sb, env):
            started = time.monotonic()
            result = self._hubsync(env, "sync")
            took = time.monotonic() - started
            if result.returncode != 0:
                raise RuntimeError(f"the reference cycle failed ({result.returncode}): {result.stderr[-2000:]}")
            return self._state(sb, env), took

    def kill(self, reference: State, at_seconds: float) -> Trial:
        """SIGKILL `hubsync sync` `at_seconds` after it started, then rerun it."""
        with self._world() as (sb, env):
            process = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
                _command("sync"), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            try:
                process.wait(timeout=at_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
            _, stderr = process.communicate()
            return self._finish(f"kill at {at_seconds:.2f} s", sb, env, reference, [stderr])

    def faults(self, reference: State, rate: float, *, seed: int) -> Trial:
        """Every request of every sync run may draw a fault (5xx, drop, slow, 429 burst); setup ran before."""
        with self._world() as (sb, env):
            sb.gate.set_faults(FaultSettings(rate=rate, seed=seed, kinds=FAULT_KINDS))
            return self._finish(f"faults {rate:.0%} (seed {seed})", sb, env, reference, [])

    def bad_body(self, reference: State, kind: str, endpoint: str) -> Trial:
        """Answers of `endpoint` carry a bad body of `kind` for one sync; then the fault is gone."""
        with self._world() as (sb, env):
            sb.gate.set_faults(FaultSettings(rate=1.0, kinds=(kind,), endpoints=(endpoint,)))
            bad = self._hubsync(env, "sync")
            sb.gate.set_faults(FaultSettings())
            return self._finish(f"bad body {kind} on {endpoint}", sb, env, reference, [bad.stderr])

    # -- helpers ---------------------------------------------------------------------------------------------

    def _finish(self, name: str, sb: Sandbox, env: dict[str, str], reference: State, stderrs: list[str]) -> Trial:
        codes: list[int] = []
        for _ in range(self.max_reruns):
            try:
                result = self._hubsync(env, "sync")
            except subprocess.TimeoutExpired as slow:
                # A run slower than `timeout` (retry waits under heavy faults) counts as one that did not end well.
                codes.append(TIMED_OUT)
                stderrs.append(slow.stderr.decode() if isinstance(slow.stderr, bytes) else slow.stderr or "")
                continue
            codes.append(result.returncode)
            stderrs.append(result.stderr)
            if result.returncode == 0:
                break
        ended_well = bool(codes) and codes[-1] == 0
        try:
            state = self._state(sb, env)
        except sa.exc.SQLAlchemyError as err:
            # A database the reruns could not bring back is the worst mismatch there is: report it, go on.
            mismatches, duplicates = {f"database unreadable: {str(err).splitlines()[0]}": 1}, 0
        else:
            mismatches, duplicates = state.mismatches(reference), state.duplicate_tasks()
        return Trial(
            name=name,
            reruns=len(codes) if ended_well else 0,
            exit_codes=tuple(codes),
            tracebacks=sum(text.count("Traceback (most recent call last)") for text in stderrs),
            mismatches=mismatches,
            duplicate_tasks=duplicates,
        )

    @contextmanager
    def _world(self) -> Iterator[tuple[Sandbox, dict[str, str]]]:
        """A fresh identical portal and a fresh database, hubsync set up against them."""
        url = self._new_database()
        with start_sandbox(contacts=self.contacts, seed=self.seed, rate_limits=False) as sb:
            env = {
                "PATH": "/usr/bin:/bin",
                "HUBSYNC_API_BASE_URL": sb.url,
                "HUBSPOT_ACCESS_TOKEN": sb.token,
                "HUBSYNC_DATABASE_URL": url,
                "HUBSYNC_CONFIG": str(self.config),
                "HUBSYNC_CLOCK": "sandbox",
            }
            for _ in range(self.max_reruns):
                if self._hubsync(env, "setup").returncode == 0:
                    break
            else:
                raise RuntimeError("hubsync setup did not succeed against the sandbox")
            yield sb, env

    def _new_database(self) -> str:
        if self.postgres_url is None:
            return f"sqlite:///{self.workdir / f'chaos-{uuid.uuid4().hex[:8]}.db'}"
        schema = f"chaos_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(self.postgres_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self._schemas.append(schema)
        separator = "&" if "?" in self.postgres_url else "?"
        return f"{self.postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"

    def drop_databases(self) -> None:
        if self.postgres_url is None:
            return
        engine = sa.create_engine(self.postgres_url)
        with engine.begin() as conn:
            for schema in self._schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        self._schemas.clear()

    def _hubsync(self, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603  (our own CLI, fixed arguments)
            _command(*args), cwd=REPO, env=dict(env), capture_output=True, text=True, timeout=self.timeout, check=False
        )

    def _state(self, sb: Sandbox, env: Mapping[str, str]) -> State:
        engine = sa.create_engine(env["HUBSYNC_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                rows = {name: _rows(conn, name, excluded) for name, excluded in COMPARED.items()}
        finally:
            engine.dispose()
        with sb.portal.lock:
            properties = {
                object_type: {
                    object_id: {
                        k: v
                        for k, v in sb.portal.store(object_type).by_id[object_id].props.items()
                        if k.startswith("hubsync_")
                    }
                    for object_id in sb.portal.store(object_type).live
                }
                for object_type in ("contacts", "companies")
            }
            store = sb.portal.store("tasks")
            per_record: dict[str, dict[int, list[str]]] = {"contacts": {}, "companies": {}}
            for task_id in store.live:
                props = store.by_id[task_id].props
                if not str(props.get("hs_task_subject", "")).startswith(MARKER):
                    continue
                for object_type, tasks in per_record.items():
                    for object_id in sb.portal.assoc.of("tasks", task_id, object_type):
                        tasks.setdefault(object_id, []).append(
                            f"{props.get('hubspot_owner_id')}|{props.get('hs_task_subject')}"
                        )
        per_contact = {i: tuple(sorted(t)) for i, t in per_record["contacts"].items()}
        per_company = {i: tuple(sorted(t)) for i, t in per_record["companies"].items()}
        return State(rows, properties, per_contact, per_company)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hubsync", "--log-json", *args]


def _rows(conn: sa.Connection, name: str, excluded: frozenset[str]) -> Counter[str]:
    table = SQLModel.metadata.tables[name]
    columns = [c for c in table.columns if c.name not in excluded]
    return Counter(json.dumps([_plain(v) for v in row], default=str) for row in conn.execute(sa.select(*columns)))


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    return value
