"""Fetching ahead: a worker thread reads the next pages from HubSpot while the pull stores this one.

Storing and fetching take turns being the slower: a CRM page of 100 records waits for the pacer longer than it takes
to store, a page of 1,000 email events the other way round. With a buffer of a few pages, fetching goes on at the
pacer's rate through a slow page to store, and storing catches up while the next pages wait for the pacer, so a
pull takes about the longer of the two instead of their sum. The buffer is bounded (`AHEAD` pages), and so is the
memory it holds."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import structlog

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

# Pages fetched and not yet stored, at most (one more may be in flight). Eight pages of a thousand activities are a
# few megabytes; at the pacer's 17 calls a second they are half a second of fetching, more than a page's storing.
AHEAD: Final = 8


def pipelined(pages: Iterator[_T], *, stream: str = "", ahead: int = AHEAD) -> Iterator[_T]:
    """`pages`, produced up to `ahead` pages ahead in a worker thread: the next pages are fetched (and wait for the
    pacer) while this one is mapped and stored. Errors of the worker (a failed call, the quota) come out here, in
    order, after the pages fetched before them; pages fetched but not yet stored when something fails are simply
    fetched again by the next run, which resumes from the last stored page's cursor."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    cancelled = threading.Event()
    waits = _Waits()
    worker = threading.Thread(target=_produce, args=(pages, handoff, cancelled, waits), name="pull-fetch", daemon=True)
    worker.start()
    began = time.monotonic()
    try:
        while True:
            asked = time.monotonic()
            item = handoff.get()
            waits.storing += time.monotonic() - asked
            if item is _END:
                break
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        cancelled.set()
        worker.join()
        # Which side held the other up: storing waiting for pages (fetch-bound) or fetching for room (store-bound).
        log.debug(
            "pull.pipeline_done",
            stream=stream,
            seconds=round(time.monotonic() - began, 3),
            storing_waited=round(waits.storing, 3),
            fetching_waited=round(waits.fetching, 3),
        )


@dataclass(slots=True)
class _Waits:
    storing: float = 0.0
    fetching: float = 0.0


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_END: Final = object()


def _produce(pages: Iterator[Any], handoff: queue.Queue[Any], cancelled: threading.Event, waits: _Waits) -> None:
    try:
        for page in pages:
            if not _offer(handoff, page, cancelled, waits):
                return
    except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, which re-raises it
        _offer(handoff, _Failed(exc), cancelled, waits)
        return
    _offer(handoff, _END, cancelled, waits)


def _offer(handoff: queue.Queue[Any], item: object, cancelled: threading.Event, waits: _Waits) -> bool:
    """Put `item` once there is room, unless the consumer gave up (then the worker ends)."""
    asked = time.monotonic()
    try:
        while not cancelled.is_set():
            try:
                handoff.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False
    finally:
        waits.fetching += time.monotonic() - asked
