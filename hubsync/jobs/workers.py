"""Work spread over worker processes, results taken back in task order: the full rescore and `hubsync preview` on
more than one core.

The caller may run threads (`hubsync run`: the scheduler, lease renewal, the webhook server, the realtime worker;
`hubsync score`: lease renewal). A fork of it would copy every lock one of them holds at that moment (the engine's
pool, a log writer's, the pacer's) into a child where nobody ever releases it. So no worker is a fork of the caller:
multiprocessing's fork server, a single-threaded process started once with the scoring modules imported, forks them
("forkserver"; "spawn" where the platform has no fork server). A worker receives only what pickles: the database
URL, and `setup` (a module-level function, or a functools.partial of one with the model and `now`), which it calls
once with an engine of its own to make its job. Only a few tasks are in flight at a time, so results that wait for
the caller stay few however long the run is.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.util
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from sqlalchemy.engine import Engine

from hubsync import logs
from hubsync.errors import HubsyncError
from hubsync.store.db import make_engine

T = TypeVar("T")
R = TypeVar("R")

# Imported once by the fork server, so that a worker starts with them in memory instead of importing them again:
# the caller's main module (multiprocessing imports it in every worker it has not been imported in: the `hubsync`
# script, pytest, a bench script; each runs nothing on import), this one (what every worker runs), and the module
# of the first pool's job (only that one: the fork server's imports are CPU the rescore's cores could use, and
# `hubsync.jobs.preview` alone costs half a second).
PRELOAD = ("__main__", __name__)

# Set in each worker when it starts; the module-level `_run` calls it.
_job: Callable[[Any], Any] | None = None


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the platform tells it, else all of them)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _context(setup: Callable[..., Any]) -> BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Takes effect when the server starts (the first pool of this process); later pools reuse the server, and
    # their workers import what their job needs when they unpickle it.
    job_module = getattr(setup, "func", setup).__module__
    context.set_forkserver_preload([*PRELOAD, job_module])
    return context


def _start(url: str, setup: Callable[[Engine], Callable[[Any], Any]]) -> None:
    global _job  # noqa: PLW0603  (a worker's one job, set once when it starts)
    # Ctrl-C reaches the whole process group: the caller decides what stops, and ends its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's own warnings go to standard error: its standard output may be the caller's (`preview --json`).
    logs.configure(level="warning")
    # The jobs score batches: millions of short-lived records and tuples and no reference cycles, nothing for the
    # cyclic garbage collector (as in the caller: jobs/rescore.py).
    gc.disable()
    engine = make_engine(url)
    # A worker ends through multiprocessing's exit handlers, not atexit: the engine closes its connections there.
    multiprocessing.util.Finalize(None, engine.dispose, exitpriority=10)
    _job = setup(engine)


def _run(task: Any) -> Any:
    if _job is None:
        raise RuntimeError("a worker process ran a task before it was started")
    return _job(task)


class Workers(Generic[T, R]):
    """`processes` worker processes on the database of `engine`, each running the job `setup(its own engine)` made
    on the tasks it is given; `map` yields the results in task order.

    Leaving the `with` block (also by an exception, such as a stop between two results) cancels the tasks not yet
    started and waits for the running ones."""

    def __init__(self, engine: Engine, setup: Callable[[Engine], Callable[[T], R]], processes: int) -> None:
        # The password travels to the workers through multiprocessing's pipe, never through a log or a message.
        url = engine.url.render_as_string(hide_password=False)
        self._pool = ProcessPoolExecutor(
            processes, mp_context=_context(setup), initializer=_start, initargs=(url, setup)
        )
        # Two tasks per worker: one running, one queued behind it while the caller handles a result.
        self._ahead = 2 * processes
        # Whether a worker has finished a task yet (until then, `map` runs tasks here too).
        self._answered = False

    def __enter__(self) -> Workers[T, R]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def map(self, tasks: Iterable[T], *, here: Callable[[T], R] | None = None) -> Iterator[R]:
        """The results of `tasks`, in task order. With `here` (the job as this process runs it), this process takes
        the next tasks itself until a worker has finished one: the first pool of a process waits seconds for its
        fork server to start and import, a core idle meanwhile. Not after: the workers keep a core each busy, and
        a third process scoring beside them only competes for the cores (measured with bench/score.py)."""
        waiting = iter(tasks)
        # Futures of the workers and results made here, in task order.
        running: deque[Future[Any] | _Done] = deque()
        for task in waiting:
            running.append(self._pool.submit(_run, task))
            if len(running) >= self._ahead:
                break
        while running:
            if here is not None and not self._answered and not running[0].done() and self._take(waiting, here, running):
                continue
            head = running.popleft()
            if isinstance(head, _Done):
                yield cast("R", head.result)
                continue
            result = _result(head)
            self._answered = True
            # The next task goes out before the caller gets this result, so the workers stay busy meanwhile (as many
            # in flight as before: a result made here frees no worker).
            for task in waiting:
                running.append(self._pool.submit(_run, task))
                break
            yield cast("R", result)

    @staticmethod
    def _take(waiting: Iterator[T], here: Callable[[T], R], running: deque[Future[Any] | _Done]) -> bool:
        """Runs the next task here, its result queued behind the others; False when no task is left."""
        for task in waiting:
            running.append(_Done(here(task)))
            return True
        return False


class _Done:
    """A result made in the caller's process, queued in task order among the workers' futures."""

    __slots__ = ("result",)

    def __init__(self, result: Any) -> None:
        self.result = result

    @staticmethod
    def done() -> bool:
        return True


def _result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except BrokenProcessPool:
        raise HubsyncError(
            "a worker process ended unexpectedly (killed, or out of memory); what it was scoring was not stored, "
            "what was stored before is kept"
        ) from None
