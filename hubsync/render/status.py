"""`hubsync status` as text: health, the last runs, handoff, open tasks, the segment matrix, cursors, errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from hubsync.render.matrix import segment_matrix
from hubsync.render.text import number

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
    # Open hubsync tasks per owner, most first: owner id, name, open tasks, capacity (jobs/status.py).
    open_tasks_owners: list[dict[str, Any]] = field(default_factory=list)
    waiting_for_capacity: int = 0
    waiting: list[dict[str, Any]] = field(default_factory=list)
    overloaded_owners: list[dict[str, Any]] = field(default_factory=list)
    not_handed_over_count: int = 0
    not_handed_over: list[dict[str, Any]] = field(default_factory=list)
    # Account tasks (one per active buying center): how many are open; the companies due one that wait, and why.
    account_tasks_open: int = 0
    accounts_waiting_count: int = 0
    accounts_waiting: list[dict[str, Any]] = field(default_factory=list)

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
            f"pulled {r['pulled']:,}, scored {r['scored']:,}, pushed {r['pushed']:,}, tasks {r['tasks_created']:,}, "
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
        *_owner_lines(report),
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


def _owner_lines(report: StatusReport) -> list[str]:
    """Each owner's open hubsync tasks against its capacity: "Anna Schmidt (70000000): 22 of 20"."""
    if not report.open_tasks_owners:
        return ["open hubsync tasks by owner: none"]
    lines = ["open hubsync tasks by owner (open of capacity):"]
    for o in report.open_tasks_owners:
        if o["owner_id"] is None:
            lines.append(f"  no owner: {number(o['open_tasks'])}")
            continue
        who = o["name"] if o["name"] != f"owner {o['owner_id']}" else "an owner hubsync has not pulled"
        lines.append(f"  {who} ({o['owner_id']}): {number(o['open_tasks'])} of {number(o['capacity'])}")
    return lines


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
    lines.append(
        f"account tasks (active buying centers): {report.account_tasks_open:,} open, "
        f"{report.accounts_waiting_count:,} waiting"
    )
    lines += [
        f"  {a['name']} ({a['segment']}, account engagement {a['engagement']}): {a['why']}"
        for a in report.accounts_waiting
    ]
    if report.accounts_waiting_count > len(report.accounts_waiting):
        lines.append(f"  … and {report.accounts_waiting_count - len(report.accounts_waiting):,} more")
    return lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
