"""The sales tasks hubsync tracks (`task`: intent → open → done, or failed), the owners' open-task load, and the
score rows a handoff starts from: contacts, and accounts (companies) with their episodes.

A task row in state "intent" is committed before the task is created in HubSpot and turned "open" with HubSpot's id
right after (`record_created`); an intent still there means a run stopped in between. A contact's task has
`contact_id`, an account task `company_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hubsync.store.reads import owner_from_row
from hubsync.store.rows import id_chunks
from hubsync.store.tables import (
    company_score_t,
    company_t,
    contact_score_t,
    contact_t,
    open_task_t,
    owner_t,
    task_t,
)
from hubsync.store.upsert import upsert

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from hubsync.records import Owner

# The longest error text kept on a failed task row.
ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class LocalTask:
    """A task row that is open or an intent: a contact's task, or an account task (`company_id`)."""

    id: int
    contact_id: int | None
    state: str
    hubspot_task_id: str | None
    company_id: int | None = None

    @property
    def target(self) -> tuple[str, int]:
        """What the task is on, as HubSpot names it: ("contacts", id), or ("companies", id) for an account task."""
        if self.company_id is not None:
            return "companies", self.company_id
        if self.contact_id is None:
            raise ValueError(f"task row {self.id} names neither a contact nor a company")
        return "contacts", self.contact_id


@dataclass(frozen=True, slots=True)
class ClosedTask:
    """How a task that left HubSpot's open tasks ended: "completed" (and when), "deleted", or None (unknown)."""

    row_id: int
    closed_as: str | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AdoptedTask:
    """An open task found in HubSpot that has no row yet: on a contact, or an account task on a company."""

    contact_id: int | None
    owner_id: int | None
    hubspot_task_id: int
    subject: str
    created_at: datetime
    due_at: datetime | None
    company_id: int | None = None


# -- reads ----------------------------------------------------------------------------------------------------


def _local(row: Any) -> LocalTask:
    return LocalTask(int(row.id), row.contact_id, str(row.state), row.hubspot_task_id, row.company_id)


_LOCAL = (task_t.c.id, task_t.c.contact_id, task_t.c.state, task_t.c.hubspot_task_id, task_t.c.company_id)


def intents(conn: Connection) -> list[LocalTask]:
    """Every intent a stopped run left behind."""
    return [_local(r) for r in conn.execute(sa.select(*_LOCAL).where(task_t.c.state == "intent"))]


def known_task_ids(conn: Connection) -> set[str]:
    """The HubSpot ids of every task hubsync has a row for, whatever its state."""
    return {
        str(r)
        for r in conn.execute(sa.select(task_t.c.hubspot_task_id).where(task_t.c.hubspot_task_id.isnot(None))).scalars()
    }


def live_tasks(conn: Connection) -> list[LocalTask]:
    """The rows in state "open" or "intent"."""
    return [_local(r) for r in conn.execute(sa.select(*_LOCAL).where(task_t.c.state.in_(("open", "intent"))))]


def done_tasks(conn: Connection, task_ids: Collection[int]) -> list[LocalTask]:
    """The "done" rows of the given HubSpot tasks."""
    rows = conn.execute(
        sa.select(*_LOCAL).where(task_t.c.hubspot_task_id.in_([str(t) for t in task_ids]), task_t.c.state == "done")
    )
    return [_local(r) for r in rows]


def open_task_owners(conn: Connection) -> dict[int, int | None]:
    """hubsync's open tasks as HubSpot last showed them: the owner of each (None: none)."""
    return {int(task_id): owner for task_id, owner in conn.execute(sa.select(open_task_t))}


def owners(conn: Connection) -> list[Owner]:
    return [owner_from_row(r) for r in conn.execute(sa.select(owner_t))]


def handoff_rows(
    conn: Connection, *, floor: int, statuses: Collection[str], segments: Collection[str], surge: bool
) -> list[Mapping[Any, Any]]:
    """Score rows of live contacts that might trigger a handoff: engagement at the floor, a handoff status, a
    handoff segment, (when surges count) a surge, or a recent hand-raise. Scoring decides; this only narrows the
    read."""
    triggers = [
        contact_score_t.c.engagement >= floor,
        contact_score_t.c.status.in_(list(statuses)),
        contact_score_t.c.hand_raise_at.isnot(None),
    ]
    if segments:
        triggers.append(contact_score_t.c.segment.in_(list(segments)))
    if surge:
        triggers.append(contact_score_t.c.surge.is_(True))
    query = (
        sa.select(contact_score_t)
        .select_from(contact_score_t.outerjoin(contact_t, contact_t.c.id == contact_score_t.c.contact_id))
        .where(sa.or_(*triggers), contact_t.c.archived_at.is_(None))
    )
    return list(conn.execute(query).mappings())


def owners_of(conn: Connection, contact_ids: Collection[int]) -> dict[int, tuple[int | None, int | None]]:
    """(contact owner, owner of its primary company) of each of these contacts."""
    query = sa.select(contact_t.c.id, contact_t.c.owner_id, company_t.c.owner_id.label("company_owner")).select_from(
        contact_t.outerjoin(company_t, company_t.c.id == contact_t.c.company_id)
    )
    found: dict[int, tuple[int | None, int | None]] = {}
    for chunk in id_chunks(contact_ids):
        for row in conn.execute(query.where(contact_t.c.id.in_(chunk))):
            found[int(row.id)] = (row.owner_id, row.company_owner)
    return found


def open_task_ids(conn: Connection, contact_ids: Collection[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """The HubSpot id of the open hubsync task of each of these contacts that has one, and why it was made (the
    triggers in words)."""
    rows = conn.execute(
        sa.select(task_t.c.contact_id, task_t.c.hubspot_task_id, task_t.c.triggers).where(
            task_t.c.state == "open", task_t.c.hubspot_task_id.isnot(None), task_t.c.contact_id.in_(list(contact_ids))
        )
    )
    return {int(contact_id): (str(task_id), tuple(triggers or ())) for contact_id, task_id, triggers in rows}


def handoff_of(conn: Connection, contact_id: int) -> tuple[Any | None, Any | None]:
    """A contact's handoff as the last cycle left it, for `hubsync explain`: its score row (episode, hand-raise,
    why it waits) and its newest hubsync task row that reached HubSpot (None for either that does not exist)."""
    episode = conn.execute(sa.select(contact_score_t).where(contact_score_t.c.contact_id == contact_id)).first()
    return episode, _newest_task(conn, task_t.c.contact_id == contact_id)


def _newest_task(conn: Connection, on: sa.ColumnElement[bool]) -> Any | None:
    """The newest task row `on` a contact or company that reached HubSpot (open or done), or None."""
    return conn.execute(
        sa.select(task_t)
        .where(on, task_t.c.state.in_(("open", "done")))
        .order_by(task_t.c.created_at.desc(), task_t.c.id.desc())
        .limit(1)
    ).first()


# -- writes ---------------------------------------------------------------------------------------------------


def add_intent(
    conn: Connection,
    *,
    contact_id: int | None,
    owner_id: int,
    subject: str,
    intent_at: datetime,
    due_at: datetime,
    kind: str = "lead",
    over_capacity: str | None = None,
    triggers: Sequence[str] = (),
    company_id: int | None = None,
) -> int:
    """The row written (and to be committed) before the create; its id. An account task has `company_id` and no
    contact."""
    if conn.dialect.name == "postgresql":
        # hubsync's PostgreSQL sessions commit without waiting for the disk (store/db.py); an intent is the one
        # write that must survive a crash of the server once the create it announces may have gone out.
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
    inserted = conn.execute(
        sa.insert(task_t).values(
            contact_id=contact_id,
            company_id=company_id,
            owner_id=owner_id,
            state="intent",
            subject=subject,
            intent_at=intent_at,
            due_at=due_at,
            kind=kind,
            over_capacity=over_capacity,
            triggers=list(triggers),
        )
    ).inserted_primary_key
    if inserted is None:
        raise RuntimeError("the database returned no id for the task intent")
    return int(inserted[0])


def record_created(
    conn: Connection, row_id: int, task_id: int, *, created_at: datetime, armed: bool, handed_over_at: datetime
) -> None:
    """Turn an intent into an open task, and store the new episode with it: `armed`, handed over (and a trigger
    held) at `handed_over_at`; for a contact also its current hand-raise heard, for an account no cover."""
    contact_id, company_id = conn.execute(
        sa.update(task_t)
        .where(task_t.c.id == row_id)
        .values(state="open", hubspot_task_id=str(task_id), created_at=created_at, error=None)
        .returning(task_t.c.contact_id, task_t.c.company_id)
    ).one()
    if company_id is not None:
        _store_account_handoff(conn, company_id, armed=armed, at=handed_over_at, covered_by=None)
        return
    score = contact_score_t.c
    conn.execute(
        sa.update(contact_score_t)
        .where(score.contact_id == contact_id)
        .values(
            handoff_armed=armed,
            handed_over_at=handed_over_at,
            triggers_held_at=handed_over_at,
            hand_raise_seen_at=sa.func.coalesce(score.hand_raise_at, score.hand_raise_seen_at),
            handoff_waiting=None,
        )
    )


def record_hand_raise_heard(conn: Connection, contact_id: int, hand_raise_at: datetime) -> None:
    """The contact's open task now tells of its hand-raise of `hand_raise_at`."""
    conn.execute(
        sa.update(contact_score_t)
        .where(contact_score_t.c.contact_id == contact_id)
        .values(hand_raise_seen_at=hand_raise_at)
    )


def store_waiting(conn: Connection, reasons: Mapping[int, str]) -> None:
    """Why the last handoff left these contacts without a task they are due; every other contact: none."""
    conn.execute(
        sa.update(contact_score_t).where(contact_score_t.c.handoff_waiting.isnot(None)).values(handoff_waiting=None)
    )
    if reasons:
        conn.execute(
            sa.update(contact_score_t)
            .where(contact_score_t.c.contact_id == sa.bindparam("cid"))
            .values(handoff_waiting=sa.bindparam("why")),
            [{"cid": c, "why": why} for c, why in reasons.items()],
        )


def record_failed(conn: Connection, row_id: int, error: str) -> None:
    conn.execute(sa.update(task_t).where(task_t.c.id == row_id).values(state="failed", error=error[:ERROR_MAX]))


def drop_intent(conn: Connection, row_id: int) -> None:
    """An intent whose task HubSpot never created: it never happened, and the contact is decided again."""
    conn.execute(sa.delete(task_t).where(task_t.c.id == row_id, task_t.c.state == "intent"))


def mark_done(conn: Connection, row_ids: Sequence[int]) -> None:
    """These rows' tasks are no longer open: nor do they count in their owners' load (teardown closes tasks too)."""
    if row_ids:
        conn.execute(sa.update(task_t).where(task_t.c.id.in_(row_ids)).values(state="done"))
        mine = conn.execute(sa.select(task_t.c.hubspot_task_id).where(task_t.c.id.in_(row_ids))).scalars()
        store_open_tasks(conn, {}, [int(t) for t in mine if t is not None and t.isdigit()])


def record_closed(conn: Connection, closed: Sequence[ClosedTask]) -> None:
    """How these tasks ended (the outcomes read it)."""
    if closed:
        conn.execute(
            sa.update(task_t)
            .where(task_t.c.id == sa.bindparam("row"))
            .values(closed_as=sa.bindparam("how"), completed_at=sa.bindparam("at")),
            [{"row": c.row_id, "how": c.closed_as, "at": c.completed_at} for c in closed],
        )


def reopen(conn: Connection, row_ids: Sequence[int]) -> None:
    if row_ids:
        conn.execute(
            sa.update(task_t).where(task_t.c.id.in_(row_ids)).values(state="open", closed_as=None, completed_at=None)
        )


def adopt(conn: Connection, tasks: Sequence[AdoptedTask]) -> None:
    """Rows for open tasks found in HubSpot, in state "open" as of their creation."""
    if tasks:
        conn.execute(
            sa.insert(task_t),
            [
                {
                    "contact_id": t.contact_id,
                    "company_id": t.company_id,
                    "owner_id": t.owner_id,
                    "state": "open",
                    "hubspot_task_id": str(t.hubspot_task_id),
                    "subject": t.subject,
                    "intent_at": t.created_at,
                    "created_at": t.created_at,
                    "due_at": t.due_at,
                    "kind": "account" if t.company_id is not None else None,
                }
                for t in tasks
            ],
        )


def store_open_tasks(
    conn: Connection, opened: Mapping[int, int | None], closed: Collection[int], *, replace: bool = False
) -> None:
    """What a read of HubSpot's tasks found: tasks open (task id → owner) and tasks no longer open; `replace`: `opened`
    is every open task (a full read), nothing else stays."""
    if replace:
        conn.execute(sa.delete(open_task_t))
    for chunk in id_chunks(closed):
        conn.execute(sa.delete(open_task_t).where(open_task_t.c.task_id.in_(chunk)))
    upsert(conn, open_task_t, [{"task_id": t, "owner_id": o} for t, o in sorted(opened.items())])


def owner_load(conn: Connection) -> dict[int, int]:
    """Open hubsync tasks per owner as the last handoff stored them (`store_owner_load`), owners with any."""
    rows = conn.execute(sa.select(owner_t.c.id, owner_t.c.open_tasks).where(owner_t.c.open_tasks > 0))
    return {int(owner_id): int(count) for owner_id, count in rows}


def store_owner_load(conn: Connection, counts: Mapping[int, int]) -> None:
    """Open hubsync tasks per owner into `owner.open_tasks`, for `status` and the report (set-based: a reset, then
    one executemany update)."""
    conn.execute(sa.update(owner_t).values(open_tasks=0))
    if counts:
        conn.execute(
            sa.update(owner_t).where(owner_t.c.id == sa.bindparam("oid")).values(open_tasks=sa.bindparam("n")),
            [{"oid": o, "n": n} for o, n in counts.items()],
        )


# -- accounts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaitingAccount:
    """A company the last handoff left without the account task it is due, and why (`account_waiting`)."""

    company_id: int
    name: str | None
    owner_id: int | None
    # The company's owner as hubsync knows it (None: none, or not pulled).
    owner: Owner | None
    engagement: int
    segment: str
    why: str


@dataclass(frozen=True, slots=True)
class StoredAccounts:
    """The account handoff as `hubsync status` shows it."""

    open_tasks: int
    # Companies per waiting reason, and the first `top` of each reason by account engagement.
    waiting_counts: dict[str, int]
    waiting: list[WaitingAccount]


def account_rows(conn: Connection, *, segments: Collection[str]) -> list[Any]:
    """Score rows of live companies whose account handoff may move: an active buying center in a handoff segment
    (the trigger holds), or a disarmed episode (it may re-arm); each with the company's `owner_id` and `name`.
    Scoring decides; this only narrows the read."""
    score = company_score_t.c
    triggered = sa.and_(score.buying_center_active.is_(True), score.segment.in_(list(segments)))
    query = (
        sa.select(company_score_t, company_t.c.owner_id, company_t.c.name)
        .join(company_t, company_t.c.id == score.company_id)
        .where(sa.or_(triggered, score.account_armed.is_(False)), company_t.c.archived_at.is_(None))
        .order_by(score.company_id)
    )
    return list(conn.execute(query))


def store_account_episodes(conn: Connection, episodes: Mapping[int, tuple[bool, datetime | None]]) -> None:
    """The accounts' episodes as moved on by this handoff: (armed, when the trigger last held) per company."""
    if episodes:
        conn.execute(
            sa.update(company_score_t)
            .where(company_score_t.c.company_id == sa.bindparam("cid"))
            .values(account_armed=sa.bindparam("armed"), account_triggers_held_at=sa.bindparam("held")),
            [{"cid": c, "armed": armed, "held": held} for c, (armed, held) in episodes.items()],
        )


def record_account_covered(conn: Connection, company_id: int, contact_id: int, *, at: datetime) -> None:
    """The buying center was brought to sales by `contact_id`'s task: its episode starts without an account task."""
    _store_account_handoff(conn, company_id, armed=False, at=at, covered_by=contact_id)


def _store_account_handoff(
    conn: Connection, company_id: int, *, armed: bool, at: datetime, covered_by: int | None
) -> None:
    conn.execute(
        sa.update(company_score_t)
        .where(company_score_t.c.company_id == company_id)
        .values(
            account_armed=armed,
            account_handed_over_at=at,
            account_triggers_held_at=at,
            account_covered_by=covered_by,
            account_waiting=None,
        )
    )


def store_account_waiting(conn: Connection, reasons: Mapping[int, str]) -> None:
    """Why the last handoff left these companies without the account task they are due; every other: none."""
    score = company_score_t.c
    conn.execute(sa.update(company_score_t).where(score.account_waiting.isnot(None)).values(account_waiting=None))
    if reasons:
        conn.execute(
            sa.update(company_score_t)
            .where(score.company_id == sa.bindparam("cid"))
            .values(account_waiting=sa.bindparam("why")),
            [{"cid": c, "why": why} for c, why in reasons.items()],
        )


def account_handoff_of(conn: Connection, company_id: int) -> tuple[Any | None, Any | None]:
    """A company's account handoff as the last cycle left it, for `hubsync explain`: its score row (episode, cover,
    why it waits) and its newest account task that reached HubSpot (None for either that does not exist)."""
    episode = conn.execute(sa.select(company_score_t).where(company_score_t.c.company_id == company_id)).first()
    return episode, _newest_task(conn, task_t.c.company_id == company_id)


def read_accounts(conn: Connection, *, top: int) -> StoredAccounts:
    """Open account tasks, and the companies waiting for one (the `top` best by account engagement per reason)."""
    score = company_score_t.c
    open_tasks = conn.execute(
        sa.select(sa.func.count()).where(task_t.c.company_id.isnot(None), task_t.c.state == "open")
    ).scalar_one()
    counts = {
        str(why): int(n)
        for why, n in conn.execute(
            sa.select(score.account_waiting, sa.func.count())
            .where(score.account_waiting.isnot(None))
            .group_by(score.account_waiting)
        )
    }
    rank = (
        sa.func.row_number()
        .over(partition_by=score.account_waiting, order_by=(score.engagement.desc(), score.company_id))
        .label("rank")
    )
    ranked = (
        sa.select(score.company_id, score.engagement, score.segment, score.account_waiting, rank)
        .where(score.account_waiting.isnot(None))
        .subquery()
    )
    rows = list(
        conn.execute(
            sa.select(ranked, company_t.c.name, company_t.c.owner_id)
            .join(company_t, company_t.c.id == ranked.c.company_id)
            .where(ranked.c.rank <= top)
            .order_by(ranked.c.account_waiting, ranked.c.engagement.desc(), ranked.c.company_id)
        )
    )
    wanted = [r.owner_id for r in rows if r.owner_id is not None]
    known = {r.id: owner_from_row(r) for r in conn.execute(sa.select(owner_t).where(owner_t.c.id.in_(wanted)))}
    waiting = [
        WaitingAccount(
            int(row.company_id),
            row.name,
            row.owner_id,
            known.get(row.owner_id),
            int(row.engagement),
            str(row.segment),
            str(row.account_waiting),
        )
        for row in rows
    ]
    return StoredAccounts(int(open_tasks), counts, waiting)
