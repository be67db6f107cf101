"""Fetching one page ahead: a worker thread reads the next page from HubSpot while the pull stores this one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

_T = TypeVar("_T")


def pipelined(pages: Iterator[_T]) -> Iterator[_T]:
    """`pages`, produced one ahead in a worker thread: the next page is fetched (and waits for the pacer) while
    this one is mapped and stored. Errors of the worker (a failed call, the quota) come out here, in order; a
    page fetched but not yet stored when something fails is simply fetched again by the next run."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    cancelled = threading.Event()
    worker = threading.Thread(target=_produce, args=(pages, handoff, cancelled), name="pull-fetch", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        cancelled.set()
        worker.join()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_END: Final = object()


def _produce(pages: Iterator[Any], handoff: queue.Queue[Any], cancelled: threading.Event) -> None:
    try:
        for page in pages:
            if not _offer(handoff, page, cancelled):
                return
    except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, which re-raises it
        _offer(handoff, _Failed(exc), cancelled)
        return
    _offer(handoff, _END, cancelled)


def _offer(handoff: queue.Queue[Any], item: object, cancelled: threading.Event) -> bool:
    """Put `item` once there is room, unless the consumer gave up (then the worker ends)."""
    while not cancelled.is_set():
        try:
            handoff.put(item, timeout=0.1)
        except queue.Full:
            continue
        return True
    return False
