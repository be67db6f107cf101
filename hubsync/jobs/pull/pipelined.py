"""Fetching ahead: a worker thread reads the next pages from HubSpot while the pull stores this one.

Storing and fetching take turns being the slower: a CRM page of 100 records waits for the pacer longer than it takes
to store, a page of 1,000 email events the other way round. With a buffer of a few pages, fetching goes on at the
pacer's rate through a slow page to store, and storing catches up while the next pages wait for the pacer, so a
pull takes about the longer of the two instead of their sum. The buffer is bounded (`AHEAD` pages, or `RECORDS_AHEAD`
records when the caller tells each page's size), and so is the memory it holds.

`prefetch` starts the worker at once, before anything asks for a page: an activity stream's fetching begins while
the streams before it still store (jobs/pull/__init__.py), so a store-bound stream (email events) and a call-bound
one (form submissions, marketing events) overlap instead of taking turns."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

# Pages fetched and not yet stored, at most (one more may be in flight). Eight pages of a thousand activities are a
# few megabytes; at the pacer's 17 calls a second they are half a second of fetching, more than a page's storing.
AHEAD: Final = 8
# Records fetched and not yet stored, at most, where pages are counted by their records (a page of 50 form
# submissions is not a page of 1,000 email events): about 10 MB of activities, and enough that the next stream's
# call-bound fetching (hundreds of small pages) runs through a store-bound stream's storing.
RECORDS_AHEAD: Final = 20_000
# Pages at most even when counted by records: each one holds its own answer's overhead.
PAGES_AHEAD_BY_RECORDS: Final = 1_000


def pipelined(pages: Iterator[_T], *, stream: str = "", ahead: int = AHEAD) -> Iterator[_T]:
    """`pages`, produced up to `ahead` pages ahead in a worker thread: the next pages are fetched (and wait for the
    pacer) while this one is mapped and stored. Errors of the worker (a failed call, the quota) come out here, in
    order, after the pages fetched before them; pages fetched but not yet stored when something fails are simply
    fetched again by the next run, which resumes from the last stored page's cursor. The worker starts with the
    first page asked for."""
    fetching = Prefetch(pages, stream=stream, ahead=ahead, start=False)
    try:
        yield from fetching
    finally:
        fetching.close()


def prefetch(pages: Iterator[_T], *, stream: str, size: Callable[[_T], int]) -> Prefetch[_T]:
    """`pages`, fetched from now on by a worker thread, up to `RECORDS_AHEAD` records ahead (`size`: a page's
    records). Iterate it to take the pages in order (errors as `pipelined`); `close` ends the worker."""
    return Prefetch(pages, stream=stream, ahead=PAGES_AHEAD_BY_RECORDS, size=size, records=RECORDS_AHEAD)


@dataclass(slots=True)
class _Waits:
    storing: float = 0.0
    fetching: float = 0.0


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_END: Final = object()


@dataclass(eq=False)
class Prefetch(Generic[_T]):
    """A bounded hand-off between one fetching worker and the storing thread: at most `ahead` pages and (with
    `size`) `records` records wait, though a single page always fits however large."""

    pages: Iterator[_T]
    stream: str = ""
    ahead: int = AHEAD
    size: Callable[[_T], int] | None = None
    records: int = 0
    start: bool = True
    _buffer: deque[tuple[Any, int]] = field(default_factory=deque)
    _held: int = 0
    _ready: threading.Condition = field(default_factory=threading.Condition)
    _cancelled: bool = False
    _done: bool = False
    _waits: _Waits = field(default_factory=_Waits)
    _worker: threading.Thread | None = None
    _began: float = 0.0

    def __post_init__(self) -> None:
        if self.start:
            self._start()

    def _start(self) -> None:
        self._began = time.monotonic()
        self._worker = threading.Thread(target=self._produce, name=f"pull-fetch-{self.stream}", daemon=True)
        self._worker.start()

    def __iter__(self) -> Iterator[_T]:
        return self

    def __next__(self) -> _T:
        if self._done:
            raise StopIteration
        if self._worker is None:
            self._start()
        asked = time.monotonic()
        with self._ready:
            while not self._buffer:
                self._ready.wait()
            item, weight = self._buffer.popleft()
            self._held -= weight
            self._ready.notify_all()
        self._waits.storing += time.monotonic() - asked
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failed):
            self._done = True
            raise item.error
        return item  # type: ignore[no-any-return]  # the buffer holds pages, _END and _Failed; both handled above

    def waiting(self) -> bool:
        """Whether `__next__` would wait: nothing fetched (nor the end, nor an error) is there to take."""
        with self._ready:
            return not self._done and not self._buffer

    def ready(self, records: int) -> list[_T]:
        """The pages already fetched, in order, as long as they hold at most `records` records in all (by `size`),
        without waiting for more: a store-bound stream stores them in one transaction. A worker's error or the end
        stays for `__next__` to report."""
        taken: list[_T] = []
        with self._ready:
            while self._buffer:
                item, weight = self._buffer[0]
                if item is _END or isinstance(item, _Failed) or weight > records:
                    break
                self._buffer.popleft()
                self._held -= weight
                records -= weight
                taken.append(item)
            if taken:
                self._ready.notify_all()
        return taken

    def close(self) -> None:
        """End the worker (it stops at its next page) and report the waits; pages not taken are dropped."""
        with self._ready:
            self._cancelled = True
            self._ready.notify_all()
        if self._worker is None:
            return
        self._worker.join()
        self._worker = None
        # Which side held the other up: storing waiting for pages (fetch-bound) or fetching for room (store-bound).
        log.debug(
            "pull.pipeline_done",
            stream=self.stream,
            seconds=round(time.monotonic() - self._began, 3),
            storing_waited=round(self._waits.storing, 3),
            fetching_waited=round(self._waits.fetching, 3),
        )

    def _produce(self) -> None:
        try:
            for page in self.pages:
                if not self._offer(page, self.size(page) if self.size is not None else 0):
                    return
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, which re-raises it
            self._offer(_Failed(exc), 0)
            return
        self._offer(_END, 0)

    def _offer(self, item: object, weight: int) -> bool:
        """Put `item` once there is room, unless the consumer gave up (then the worker ends)."""
        asked = time.monotonic()
        try:
            with self._ready:
                while not self._cancelled and self._buffer and not self._room(weight):
                    self._ready.wait()
                if self._cancelled:
                    return False
                self._buffer.append((item, weight))
                self._held += weight
                self._ready.notify_all()
                return True
        finally:
            self._waits.fetching += time.monotonic() - asked

    def _room(self, weight: int) -> bool:
        if len(self._buffer) >= self.ahead:
            return False
        return self.size is None or self._held + weight <= self.records
