"""`hubsync status`: what the service did and whether it is healthy, from the database alone (no HubSpot calls).

Health, for monitoring (the exit code of `hubsync status`):
* ok (0): the last finished run succeeded (or stopped cleanly on the quota reserve or a signal) within
  `monitoring.max_age_minutes`;
* failed (8): the last finished run failed;
* stale (9): no run finished successfully within `monitoring.max_age_minutes`, or none ever did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.report import segment_matrix
from hubsync.settings import HubsyncConfig
from hubsync.store.reads import counts_by
from hubsync.store.tables import cursor_t, lease_t, run_t, task_t

EXIT_FAILED = 8
EXIT_STALE = 9
_FINISHED_WELL = ("ok", "stopped")


@dataclass(frozen=True, slots=True)
class StatusReport:
    now: datetime
    health: str
    reason: str
    runs: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    cursors: dict[str, dict[str, Any]]
    effective_threshold: int | None
    free_capacity: int | None
    segments: dict[str, int]
    statuses: dict[str, int]
    open_tasks_by_owner: dict[str, int]
    lease_holder: str | None
    lease_expires_at: datetime | None

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "failed": EXIT_FAILED}.get(self.health, EXIT_STALE)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable({**asdict(self), "exit_code": self.exit_code})
        return out


def collect(engine: Engine, config: HubsyncConfig, *, now: datetime, last: int = 10) -> StatusReport:
    with engine.connect() as conn:
        # Row._mapping is SQLAlchemy's documented row-as-mapping accessor, despite the underscore.
        recent = conn.execute(sa.select(run_t).order_by(run_t.c.id.desc()).limit(last))
        runs = [dict(r._mapping) for r in recent]  # noqa: SLF001
        errors = [
            {"run": r.id, "kind": r.kind, "started_at": r.started_at, "error": r.error}
            for r in conn.execute(
                sa.select(run_t).where(run_t.c.outcome == "failed").order_by(run_t.c.id.desc()).limit(5)
            )
        ]
        last_finished = conn.execute(
            sa.select(run_t).where(run_t.c.finished_at.is_not(None)).order_by(run_t.c.id.desc()).limit(1)
        ).first()
        last_good = conn.execute(
            sa.select(sa.func.max(run_t.c.finished_at)).where(run_t.c.outcome.in_(_FINISHED_WELL))
        ).scalar_one()
        handoff = conn.execute(
            sa.select(run_t.c.effective_threshold, run_t.c.free_capacity)
            .where(run_t.c.effective_threshold.is_not(None))
            .order_by(run_t.c.id.desc())
            .limit(1)
        ).first()
        cursors = {
            r.stream: {"updated_at": r.updated_at, **_cursor_position(r.state)}
            for r in conn.execute(sa.select(cursor_t).order_by(cursor_t.c.stream))
        }
        segments = counts_by(conn, "segment")
        statuses = counts_by(conn, "status")
        open_tasks = Counter(
            str(owner) if owner is not None else "no owner"
            for owner in conn.execute(sa.select(task_t.c.owner_id).where(task_t.c.state == "open")).scalars()
        )
        held = conn.execute(sa.select(lease_t.c.holder, lease_t.c.expires_at)).first()
    health, reason = _health(last_finished, last_good, now=now, max_age=config.monitoring.max_age_minutes)
    return StatusReport(
        now=now,
        health=health,
        reason=reason,
        runs=runs,
        errors=errors,
        cursors=cursors,
        effective_threshold=handoff.effective_threshold if handoff else None,
        free_capacity=handoff.free_capacity if handoff else None,
        segments=segments,
        statuses=statuses,
        open_tasks_by_owner=dict(open_tasks),
        lease_holder=held.holder if held and held.expires_at >= now else None,
        lease_expires_at=held.expires_at if held else None,
    )


def _health(last_finished: Any, last_good: datetime | None, *, now: datetime, max_age: int) -> tuple[str, str]:
    if last_finished is None:
        return "stale", "no run has finished yet"
    if last_finished.outcome == "failed":
        return "failed", f"the last run ({last_finished.kind}, #{last_finished.id}) failed: {last_finished.error}"
    if last_good is None or now - last_good > timedelta(minutes=max_age):
        age = "never" if last_good is None else f"{int((now - last_good).total_seconds() // 60)} min ago"
        return "stale", f"no run finished within {max_age} min (last good run: {age})"
    return "ok", f"last run finished {int((now - last_good).total_seconds() // 60)} min ago"


def _cursor_position(state: dict[str, Any]) -> dict[str, Any]:
    # The parts of a stream's cursor an admin can read: where it has synced to, and how.
    keys = ("mode", "synced_to", "window", "after_id", "after", "reconciled_at", "swept_at")
    return {k: state[k] for k in keys if k in state}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def render(report: StatusReport) -> str:
    lines = [f"health: {report.health.upper()} — {report.reason}"]
    if report.lease_holder:
        lines.append(
            f"active syncer: {report.lease_holder} (lease until {report.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
    else:
        lines.append("active syncer: none holds the lease now")
    lines += ["", "last runs:"]
    for r in report.runs:
        took = f"{(r['finished_at'] - r['started_at']).total_seconds():.0f} s" if r["finished_at"] else "running"
        quota = f", daily quota left {r['daily_quota_left']:,}" if r["daily_quota_left"] is not None else ""
        lines.append(
            f"  #{r['id']} {r['kind']:<9} {r['started_at']:%Y-%m-%d %H:%M} {took:>7}  {r['outcome']:<8} "
            f"pulled {r['pulled']:,}, scored {r['scored']:,}, pushed {r['pushed']:,}, tasks {r['tasks_created']}, "
            f"API calls {r['api_calls']:,}{quota}"
        )
    if not report.runs:
        lines.append("  (none yet: run `hubsync sync` or `hubsync run`)")
    threshold = report.effective_threshold
    lines += [
        "",
        (
            f"handoff: effective threshold {threshold if threshold is not None else '-'}, "
            f"free sales capacity {report.free_capacity if report.free_capacity is not None else '-'}"
        ),
        "open hubsync tasks by owner: "
        + (", ".join(f"{owner}: {n}" for owner, n in sorted(report.open_tasks_by_owner.items())) or "none"),
        "lead status: " + (", ".join(f"{s}: {n:,}" for s, n in sorted(report.statuses.items())) or "no scores yet"),
        "",
        segment_matrix(report.segments),
        "",
        "cursors:",
    ]
    for stream, cursor in report.cursors.items():
        position = ", ".join(f"{k}={v}" for k, v in cursor.items() if k != "updated_at")
        lines.append(f"  {stream:<24} {position}")
    if report.errors:
        lines += ["", "recent errors:"]
        lines += [f"  #{e['run']} {e['started_at']:%Y-%m-%d %H:%M} {e['kind']}: {e['error']}" for e in report.errors]
    return "\n".join(lines)
