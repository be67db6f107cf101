"""The worker processes of a full rescore and of `hubsync preview` (jobs/workers.py): results in task order, a
worker's error raised in the caller, a worker that dies reported as such, Ctrl-C ignored by the workers, each worker
on an engine of its own, and a pool started beside a thread that holds a lock the workers need (a fork of the caller
would inherit it held)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.errors import HubsyncError, StoreError
from hubsync.jobs.workers import Workers
from hubsync.store.db import open_database

# Stands for a lock of the caller's that a worker also takes: a log writer's, the engine pool's, the pacer's.
SHARED = threading.Lock()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'hubsync.db'}")
    yield engine
    engine.dispose()


# The setups run in the workers, so they are module-level functions (what a worker receives is pickled).


def _squares(engine: Engine) -> Callable[[int], tuple[int, int]]:
    def job(n: int) -> tuple[int, int]:
        # Early tasks take longest: finished out of order, handed back in order.
        time.sleep((10 - n) * 0.01)
        with engine.connect() as conn:
            return n, conn.execute(sa.text("SELECT :n * :n"), {"n": n}).scalar_one()

    return job


def _whose(engine: Engine) -> Callable[[int], tuple[int, str | None]]:
    def job(_: int) -> tuple[int, str | None]:
        with engine.connect() as conn:
            # The caller's table, seen through the worker's own engine.
            return os.getpid(), conn.execute(sa.text("SELECT name FROM mark")).scalar_one()

    return job


def _failing(_engine: Engine, *, at: int) -> Callable[[int], int]:
    def job(n: int) -> int:
        if n == at:
            raise StoreError("cannot use the database: disk I/O error")
        return n

    return job


def _dying(_engine: Engine) -> Callable[[int], int]:
    def job(n: int) -> int:
        if n == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return n

    return job


def _interrupted(_engine: Engine) -> Callable[[int], int]:
    def job(n: int) -> int:
        # What Ctrl-C sends the whole process group.
        os.kill(os.getpid(), signal.SIGINT)
        return n

    return job


def _locking(_engine: Engine) -> Callable[[int], bool]:
    def job(_: int) -> bool:
        # A fork of the caller would hold SHARED forever here; the bounded wait turns that hang into a failure.
        taken = SHARED.acquire(timeout=5)
        if taken:
            SHARED.release()
        return taken

    return job


def test_results_come_back_in_task_order(engine: Engine) -> None:
    with Workers(engine, _squares, 2) as pool:
        assert list(pool.map(range(10))) == [(n, n * n) for n in range(10)]


def test_each_worker_has_an_engine_of_its_own_on_the_same_database(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE mark (name TEXT)"))
        conn.execute(sa.text("INSERT INTO mark VALUES ('the caller''s')"))
    with Workers(engine, _whose, 2) as pool:
        results = list(pool.map(range(4)))
    assert all(pid != os.getpid() for pid, _ in results)
    assert {name for _, name in results} == {"the caller's"}


def test_a_workers_error_is_raised_in_the_caller(engine: Engine) -> None:
    seen: list[int] = []
    with Workers(engine, partial(_failing, at=3), 2) as pool, pytest.raises(StoreError, match="disk I/O error"):
        seen.extend(pool.map(range(6)))
    assert seen == [0, 1, 2]


def test_a_worker_that_dies_is_reported(engine: Engine) -> None:
    with Workers(engine, _dying, 2) as pool, pytest.raises(HubsyncError, match="ended unexpectedly"):
        list(pool.map(range(4)))


def test_ctrl_c_is_left_to_the_caller(engine: Engine) -> None:
    with Workers(engine, _interrupted, 2) as pool:
        assert list(pool.map(range(4))) == [0, 1, 2, 3]


def test_a_lock_held_by_another_thread_of_the_caller_does_not_reach_the_workers(engine: Engine) -> None:
    """`hubsync run` starts a rescore beside its scheduler, lease and webhook threads: one of them holding a lock
    while the workers start must not leave the workers waiting for it."""
    holding = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with SHARED:
            holding.set()
            done.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert holding.wait(5)
        with Workers(engine, _locking, 2) as pool:
            assert list(pool.map(range(4))) == [True] * 4
    finally:
        done.set()
        holder.join(5)


def _slow_start(_engine: Engine) -> Callable[[int], tuple[int, int]]:
    # The workers' first results take long (a fork server still importing, a worker slower than the caller).
    def job(n: int) -> tuple[int, int]:
        time.sleep(0.3)
        return n, os.getpid()

    return job


def _here(n: int) -> tuple[int, int]:
    return n, os.getpid()


def test_the_caller_takes_tasks_while_the_workers_start_and_order_is_kept(engine: Engine) -> None:
    """With `here`, the caller runs the next tasks itself until a worker has finished one: some results are its
    own, some the workers', all handed back in task order."""
    with Workers(engine, _slow_start, 2) as pool:
        results = list(pool.map(range(12), here=_here))
    assert [n for n, _ in results] == list(range(12))
    mine = [n for n, pid in results if pid == os.getpid()]
    assert mine
    assert len(mine) < len(results)


def test_the_caller_leaves_the_tasks_to_the_workers_once_they_answer(engine: Engine) -> None:
    """Started workers keep the cores busy: a third process scoring beside them would only compete for them."""
    with Workers(engine, _slow_start, 2) as pool:
        list(pool.map(range(2)))
        results = list(pool.map(range(8), here=_here))
    assert [n for n, _ in results] == list(range(8))
    assert all(pid != os.getpid() for _, pid in results)
