"""Progress bars for long commands (the first sync, a backfill, a full rescore): one bar per stream or step, with
its count, its rate and, where the total is known, how long it has left.

Bars go to standard error, so a command's own output stays clean, and only when a person watches (the caller says
so: standard error is a terminal). While they show, whatever else writes to standard error (the log, see logs.py)
prints above them instead of breaking them up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

# A step's name, how many it has just done, and its total when known (None: counting without an end).
Advance = Callable[[str, int, int | None], None]


class _Count(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = f" / {task.total:,.0f}" if task.total is not None else ""
        return Text(f"{task.completed:,.0f}{total}")


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "–/s")


@contextmanager
def progress_bars(*, enabled: bool, transient: bool = False) -> Iterator[Advance | None]:
    """Yields the function that advances a step's bar (a bar appears with a step's first advance), or None when not
    enabled. `transient` bars vanish when the block ends, leaving the terminal to the command's summary."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description:<22}"), BarColumn(), _Count(), _Rate(), TimeRemainingColumn())
    # No markup or emoji codes: log lines printed above the bars go through this console and stay as written.
    console = Console(stderr=True, markup=False, emoji=False)
    with Progress(*columns, console=console, transient=transient) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(step: str, done: int, total: int | None) -> None:
            task = tasks.get(step)
            if task is None:
                task = tasks[step] = bars.add_task(step, total=total)
            bars.update(task, advance=done, total=total)

        yield advance
