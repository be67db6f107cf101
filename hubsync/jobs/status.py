"""`hubsync status`: what the service did and whether it is healthy, from the database alone (no HubSpot calls).

Health, for monitoring (the exit code of `hubsync status`):
* ok (0): the last finished run succeeded (or stopped cleanly on the quota reserve or a signal) within
  `monitoring.max_age_minutes`;
* failed (8): the last finished run failed;
* stale (9): no run finished successfully within `monitoring.max_age_minutes`, or none ever did.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from hubsync.jobs.handoff import HAND_RAISER_HELD, WAITING_FOR_CAPACITY
from hubsync.render.status import StatusReport
from hubsync.scoring.handoff import owner_capacity
from hubsync.settings import HubsyncConfig
from hubsync.store.status import StoredHandoff, read_status
from hubsync.store.tasks import StoredAccounts, read_accounts

if TYPE_CHECKING:
    from hubsync.scoring import ScoringModel


def collect(engine: Engine, config: HubsyncConfig, *, now: datetime, last: int = 10, top: int = 5) -> StatusReport:
    with engine.connect() as conn:
        stored = read_status(conn, last=last, top=top)
        accounts = read_accounts(conn, top=top)
    errors = [{"run": r.id, "kind": r.kind, "started_at": r.started_at, "error": r.error} for r in stored.failed_runs]
    cursors = {r.stream: {"updated_at": r.updated_at, **_cursor_position(r.state)} for r in stored.cursors}
    open_tasks = Counter(str(owner) if owner is not None else "no owner" for owner in stored.open_task_owners)
    health, reason = _health(stored.last_finished, stored.last_good, now=now, max_age=config.monitoring.max_age_minutes)
    handoff, held = stored.last_handoff, stored.lease
    return StatusReport(
        now=now,
        health=health,
        reason=reason,
        runs=stored.runs,
        errors=errors,
        cursors=cursors,
        effective_threshold=handoff.effective_threshold if handoff else None,
        free_capacity=handoff.free_capacity if handoff else None,
        segments=stored.segments,
        statuses=stored.statuses,
        open_tasks_by_owner=dict(open_tasks),
        lease_holder=held.holder if held and held.expires_at >= now else None,
        lease_expires_at=held.expires_at if held else None,
        **_handoff_states(stored.handoff, config.scoring, accounts),
    )


def _handoff_states(stored: StoredHandoff, model: ScoringModel, accounts: StoredAccounts) -> dict[str, Any]:
    """The handoff's open ends, by name: leads waiting for capacity (and whose capacity they wait for), owners
    beyond capacity (and through which exemption), contacts due a task that got none (hand-raisers held back, no
    owner); open account tasks and the accounts waiting for one (and why)."""
    loads = {load.owner_id: load for load in stored.owners}

    def capacity_of(owner_id: int | None) -> int:
        owner = stored.known_owners.get(owner_id) if owner_id is not None else None
        return owner_capacity(owner, model) if owner is not None else model.handoff.capacity.default

    def owner_name(owner_id: int | None) -> str:
        owner = stored.known_owners.get(owner_id) if owner_id is not None else None
        if owner is not None:
            return owner.display_name
        return f"owner {owner_id}" if owner_id is not None else "no owner"

    waiting, not_handed_over = [], []
    for w in stored.waiting:
        entry = {"contact_id": w.contact.id, "name": w.contact.display_name, "engagement": w.engagement}
        if w.why == WAITING_FOR_CAPACITY:
            owner_id = w.contact.owner_id
            held = loads[owner_id].open_tasks if owner_id in loads else 0
            why = (
                f"{owner_name(owner_id)} holds {held} of {capacity_of(owner_id)} open tasks; no other route has room"
                if owner_id is not None
                else "no route has an owner with room"
            )
            waiting.append({**entry, "why": why})
        else:
            not_handed_over.append(
                {
                    **entry,
                    "why": w.why.removeprefix(HAND_RAISER_HELD),
                    "hand_raiser": w.why.startswith(HAND_RAISER_HELD),
                }
            )
    overloaded = []
    for load in stored.owners:
        capacity = capacity_of(load.owner_id)
        if load.open_tasks > capacity:
            overloaded.append(
                {
                    "owner_id": load.owner_id,
                    "name": owner_name(load.owner_id),
                    "open_tasks": load.open_tasks,
                    "capacity": capacity,
                    "over": load.open_tasks - capacity,
                    # Open tasks created beyond capacity, per exemption ("ceiling lead", "hand-raiser").
                    "through": dict(sorted(load.over_capacity.items())),
                }
            )
    open_by_owner = [
        {
            "owner_id": load.owner_id,
            "name": owner_name(load.owner_id),
            "open_tasks": load.open_tasks,
            "capacity": capacity_of(load.owner_id) if load.owner_id is not None else None,
        }
        for load in stored.owners
    ]
    accounts_waiting = []
    for a in accounts.waiting:
        why = a.why
        if a.why == WAITING_FOR_CAPACITY and a.owner is not None:
            held = loads[a.owner_id].open_tasks if a.owner_id in loads else 0
            capacity = owner_capacity(a.owner, model)
            why = f"{a.owner.display_name} (the company's owner) holds {held} of {capacity} open tasks"
        accounts_waiting.append(
            {
                "company_id": a.company_id,
                "name": a.name or f"company {a.company_id}",
                "segment": a.segment,
                "engagement": a.engagement,
                "why": why,
            }
        )
    return {
        "account_tasks_open": accounts.open_tasks,
        "accounts_waiting_count": sum(accounts.waiting_counts.values()),
        "accounts_waiting": accounts_waiting,
        "open_tasks_owners": open_by_owner,
        "waiting_for_capacity": stored.waiting_counts.get(WAITING_FOR_CAPACITY, 0),
        "waiting": waiting,
        "overloaded_owners": overloaded,
        "not_handed_over_count": sum(n for why, n in stored.waiting_counts.items() if why != WAITING_FOR_CAPACITY),
        "not_handed_over": not_handed_over,
    }


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
