"""Episodes through the sandbox portal with real tasks, on SQLite and PostgreSQL: worked examples 10 (no cold-start
surge) and 11 (one task per episode), and a hand-raise inside an episode updating the open task (scoring.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.records import ActivityKind
from hubsync.store.tables import contact_score_t
from tests.support.cli import cli_env, run_hubsync

from .push_world import BATCH_CREATE, activity, settings, start_world, stat, tasks_in_db, write_rows
from .test_push_tasks import JAN, Jan, day, jan_snapshot

# The handoff triggers of the default model (config/hubsync.toml [scoring.handoff]).
HANDOFF_SEGMENTS = ("A1", "A2", "B1")
FLOOR = 61
REARM_DAYS = 30


@pytest.fixture
def jan(database_url: str) -> Iterator[Jan]:
    with ExitStack() as stack:
        cfg = settings()
        yield Jan(*start_world(stack, jan_snapshot(), database_url, cfg), cfg)


def _consultation(jan: Jan, n: float) -> None:
    """Jan asks for a consultation again on day n (a hand-raise: the `demo_request` signal)."""
    write_rows(
        jan.engine,
        activities=[
            activity(f"test:ask:{n}", JAN, ActivityKind.FORM_SUBMISSION, day(n), form_name="Beratung vereinbaren")
        ],
    )


def _complete_open_tasks(jan: Jan) -> None:
    for task in jan.hubsync_tasks():
        if task.props.get("hs_task_status") != "COMPLETED":
            jan.sb.portal.update("tasks", task.id, {"hs_task_status": "COMPLETED"})


def _a_trigger_holds(row: Any) -> bool:
    return row.status == "sales_ready" or row.segment in HANDOFF_SEGMENTS or bool(row.surge) or row.engagement >= FLOOR


def test_example_10_no_cold_start_surge_scored_every_day_one_task_on_day_16(jan: Jan) -> None:
    created_on = []
    for n in range(17):
        result = jan.cycle(n + 0.1)
        created_on += [n] * result.tasks_created
        # A new contact has no history to surge against (35 days), however fast its first points come.
        assert jan.jan_score().surge is False
    assert created_on == [16]
    (task,) = jan.hubsync_tasks()
    body = task.props["hs_task_body"]
    for label in ("content download", "webinar attended", "pricing page", "demo / consultation request"):
        assert label in body


def test_example_11_one_task_per_episode_then_a_new_one_after_30_quiet_days(jan: Jan) -> None:
    jan.cycle(16.1)
    assert len(jan.hubsync_tasks()) == 1
    # Hot for three weeks, scored daily, the rep completing each task the same day: still one task.
    for n in range(17, 38):
        _complete_open_tasks(jan)
        assert jan.cycle(n + 0.1).tasks_created == 0
        assert jan.jan_score().handoff_armed is False
    assert len(jan.hubsync_tasks()) == 1

    # He cools off; he re-arms only once no trigger has held for 30 days in a row.
    last_trigger, at = 37.1, 38.1
    while not jan.jan_score().handoff_armed:
        assert at < 400, "never re-armed"
        jan.cycle(at)
        row = jan.jan_score()
        if _a_trigger_holds(row):
            last_trigger = at
        assert row.handoff_armed is (at - last_trigger >= REARM_DAYS and not _a_trigger_holds(row))
        at += 3
    assert len(jan.hubsync_tasks()) == 1

    # A new consultation request: the second task, the second episode.
    _consultation(jan, at)
    assert jan.cycle(at + 0.1).tasks_created == 1
    assert len(jan.hubsync_tasks()) == 2
    assert [r.state for r in tasks_in_db(jan.engine)] == ["done", "open"]


def test_a_new_hand_raise_updates_the_open_task_and_after_completion_makes_a_new_one(jan: Jan) -> None:
    jan.cycle(16.1)
    (task,) = jan.hubsync_tasks()
    # The rep lowered the priority; then Jan asks again, within the same episode.
    jan.sb.portal.update("tasks", task.id, {"hs_task_priority": "LOW"})
    _consultation(jan, 18)
    jan.sb.reset_stats()
    result = jan.cycle(18.1)
    assert result.tasks is not None
    assert (result.tasks_created, result.tasks.updated) == (0, 1)
    assert stat(jan.sb, BATCH_CREATE) == 0
    (updated,) = jan.hubsync_tasks()
    assert updated.id == task.id
    assert updated.props["hs_task_priority"] == "HIGH"
    assert "Asked to be contacted on 2025-03-21." in updated.props["hs_task_body"]  # day 18
    # Told once: the next cycle leaves the task alone.
    quiet = jan.cycle(18.2).tasks
    assert quiet is not None
    assert quiet.updated == 0

    # The rep completes the task; a hand-raise after that is a new task (the rep must hear that the lead asked).
    _complete_open_tasks(jan)
    jan.cycle(19)
    assert len(jan.hubsync_tasks()) == 1
    _consultation(jan, 20)
    assert jan.cycle(20.1).tasks_created == 1
    tasks = sorted(jan.hubsync_tasks(), key=lambda t: t.id)
    assert len(tasks) == 2
    assert "Asked to be contacted on 2025-03-23." in tasks[1].props["hs_task_body"]  # day 20
    assert [r.state for r in tasks_in_db(jan.engine)] == ["done", "open"]
    with jan.engine.connect() as conn:
        row = conn.execute(sa.select(contact_score_t).where(contact_score_t.c.contact_id == JAN)).one()
    assert row.handoff_armed is False


def _explain(database_url: str, n: float) -> str:
    """`hubsync explain` of Jan as of day n, through the CLI (a subprocess: the command sets up logging)."""
    result = run_hubsync(cli_env(database_url), "explain", str(JAN), "--as-of", day(n).isoformat(), log_json=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_explain_shows_the_trigger_and_the_episode(jan: Jan, database_url: str) -> None:
    jan.cycle(14.1)
    before = _explain(database_url, 14.1)
    assert (
        "  armed: would be handed over when it becomes sales_ready (engagement ≥ 71), it enters segment A1, A2 or B1, "
        "it surges" in before
    )
    assert "; or at once when it asks to be contacted (demo / consultation request)" in before
    assert "handed over on" not in before

    jan.cycle(16.1)
    after = _explain(database_url, 16.2)
    assert (
        "  handed over on 2025-03-19 (sales_ready, segment A1, engagement 95, hand-raiser); its task is open" in after
    )
    assert "  disarmed: re-arms after 30 quiet days without a trigger (not quiet yet: sales_ready" in after
    assert "  asked to be contacted on 2025-03-19 (sales has heard of it)" in after

    # He cools off below every trigger: the quiet days count from the last cycle a trigger held.
    n, last_trigger = 20.0, 16.1
    while True:
        jan.cycle(n)
        if not _a_trigger_holds(jan.jan_score()):
            break
        last_trigger, n = n, n + 5
    quiet = _explain(database_url, n)
    since = day(last_trigger)
    assert (
        f"  disarmed: re-arms after 30 quiet days without a trigger (quiet since {since:%Y-%m-%d}, re-arms on "
        f"{since + timedelta(days=30):%Y-%m-%d})"
    ) in quiet
    assert "its task is open" in quiet
