"""The service's work lock: one writer at a time, and a cycle that lets a waiting webhook batch in between its units.

A cycle holds the lock from start to end, but its work comes in units that leave the database consistent on their
own: a page of the pull stored with its cursor, the rescore, a page of the property push, the handoff (plan and apply
together: it counts capacity and open tasks), the outcomes. Between two units the cycle calls `between_units()`: if a
webhook batch is waiting, the batch runs there, and the cycle goes on after it. While the pull only waits for a page
that its fetching thread reads from HubSpot, it lets go of the lock altogether (`released()`), so batches are not held
up by the cycle's HubSpot calls either.

Fair both ways: a batch (`held(urgent=True)`) goes before a cycle that wants the lock back, but a cycle that yielded
lets in the batches waiting at that moment and then takes its turn again, so a stream of batches cannot starve it.
Why interleaving at these points is safe is written where the units are (`jobs/cycle.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WorkLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        # Batches waiting for the lock, and how many took it so far.
        self._urgent = 0
        self._urgent_turns = 0
        # A holder that let go takes the lock back once this many batches in all have had it, before later ones.
        self._back_after: int | None = None

    @contextmanager
    def held(self, *, urgent: bool = False) -> Iterator[None]:
        """Hold the lock for a whole cycle, or (`urgent`) a webhook batch, which goes before a waiting cycle."""
        with self._cond:
            if urgent:
                self._urgent += 1
                try:
                    self._cond.wait_for(self._batch_may_take)
                finally:
                    self._urgent -= 1
                self._urgent_turns += 1
            else:
                self._cond.wait_for(lambda: not self._held and not self._urgent and self._back_after is None)
            self._held = True
        try:
            yield
        finally:
            self._let_go()

    @property
    def batch_waiting(self) -> bool:
        with self._cond:
            return self._urgent > 0

    def between_units(self) -> None:
        """The holder is at a point where its work so far is consistent: the batches waiting now run, then the
        holder goes on (before any batch that came meanwhile). Returns at once when nobody waits."""
        with self._cond:
            if not self._urgent:
                return
            self._held = False
            self._take_back(after=self._urgent_turns + self._urgent)

    @contextmanager
    def released(self) -> Iterator[None]:
        """The holder waits for something that needs no lock (a page read from HubSpot): any number of batches work
        meanwhile; then the holder waits for the one in hand and goes on before the next."""
        self._let_go()
        try:
            yield
        finally:
            with self._cond:
                self._take_back(after=self._urgent_turns)

    def _batch_may_take(self) -> bool:
        return not self._held and (self._back_after is None or self._urgent_turns < self._back_after)

    def _let_go(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def _take_back(self, *, after: int) -> None:
        """With the condition held and the lock let go: wait until `after` batches in all have had the lock (or no
        batch waits any more) and none holds it, then take it."""
        self._back_after = after
        self._cond.notify_all()
        try:
            self._cond.wait_for(lambda: not self._held and (self._urgent_turns >= after or not self._urgent))
        finally:
            self._back_after = None
        self._held = True
