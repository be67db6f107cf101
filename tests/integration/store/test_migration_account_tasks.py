"""Migration 0004 on a database that holds tasks and account scores (SQLite and PostgreSQL): every row is kept,
every account starts armed, and the database enforces one open task per contact and one open account task per
company while closed ones may pile up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hubsync.store.db import head_revision, make_engine, upgrade
from tests.support.migrations import table, upgrade_to

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _task(
    state: str, contact_id: int | None, *, company_id: int | None = None, after: bool = True
) -> dict[str, object]:
    """A task row; `after`: with the columns 0004 adds."""
    row: dict[str, object] = {"contact_id": contact_id, "state": state, "subject": "[hubsync] x", "intent_at": AT}
    return {**row, "company_id": company_id} if after else row


def test_0004_keeps_tasks_and_scores_and_guards_open_tasks(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to(engine, "0003")
    task, company_score = table(engine, "task"), table(engine, "company_score")
    with engine.begin() as conn:
        conn.execute(sa.insert(task), [_task("open", 1, after=False), _task("done", 1, after=False)])
        conn.execute(
            sa.insert(company_score).values(
                company_id=500, engagement=80, profile=80, completeness=100, segment="A1", fit_light="green",
                tier="mid_market", buying_center_active=True, active_contacts=3, engaged_contacts=3,
                personas_missing=[], reason="", as_of=AT,
            )
        )  # fmt: skip

    assert upgrade(engine) == head_revision()
    task, company_score = table(engine, "task"), table(engine, "company_score")
    with engine.connect() as conn:
        kept = conn.execute(sa.select(task.c.contact_id, task.c.company_id, task.c.state).order_by(task.c.id)).all()
        account = conn.execute(sa.select(company_score.c.account_armed, company_score.c.account_waiting)).one()
    assert [tuple(r) for r in kept] == [(1, None, "open"), (1, None, "done")]
    assert (bool(account.account_armed), account.account_waiting) == (True, None)

    with engine.begin() as conn:
        conn.execute(sa.insert(task), [_task("open", None, company_id=500), _task("done", None, company_id=500)])
        conn.execute(sa.insert(task), [_task("done", None, company_id=500), _task("open", 2)])
    for duplicate in (_task("intent", None, company_id=500), _task("intent", 1)):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.insert(task).values(duplicate))
    engine.dispose()
