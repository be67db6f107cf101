"""`hubsync status` as text: health, the last runs, handoff, open tasks, the segment matrix, cursors, errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from hubsync.render.matrix import segment_matrix

# `hubsync status` exits with these when unhealthy (documented in the README's monitoring section).
EXIT_FAILED = 8
EXIT_STALE = 9


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
    # The handoff's open ends (jobs/status.py): leads waiting for capacity (how many; the best few by name, why),
    # owners beyond capacity (open tasks, capacity, through which exemption), contacts due a task that got none.
    waiting_for_capacity: int = 0
    waiting: list[dict[str, Any]] = field(default_factory=list)
    overloaded_owners: list[dict[str, Any]] = field(default_factory=list)
    not_handed_over_count: int = 0
    not_handed_over: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "failed": EXIT_FAILED}.get(self.health, EXIT_STALE)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable({**asdict(self), "exit_code": self.exit_code})
        return out


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
        *_handoff_lines(report),
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


def _handoff_lines(report: StatusReport) -> list[str]:
    lines = [f"waiting for capacity: {report.waiting_for_capacity:,} lead(s)"]
    lines += [f"  {w['name']} (engagement {w['engagement']}): {w['why']}" for w in report.waiting]
    if report.waiting_for_capacity > len(report.waiting):
        lines.append(f"  … and {report.waiting_for_capacity - len(report.waiting):,} more")
    if report.overloaded_owners:
        lines.append("owners beyond capacity (only ceiling leads and hand-raisers may do that):")
        for o in report.overloaded_owners:
            through = ", ".join(f"{n} {kind}" for kind, n in o["through"].items()) or "none recorded"
            lines.append(
                f"  {o['name']}: {o['open_tasks']} open hubsync tasks, capacity {o['capacity']} "
                f"({o['over']} over; created beyond capacity: {through})"
            )
    else:
        lines.append("owners beyond capacity: none")
    lines.append(f"due a task but not handed over: {report.not_handed_over_count:,}")
    for n in report.not_handed_over:
        who = "hand-raiser " if n["hand_raiser"] else ""
        lines.append(f"  {who}{n['name']} (engagement {n['engagement']}): {n['why']}")
    if report.not_handed_over_count > len(report.not_handed_over):
        lines.append(f"  … and {report.not_handed_over_count - len(report.not_handed_over):,} more")
    return lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
