"""The worker hand-off of the pull: pages come out in order, a worker's error comes out after the pages before it,
and a consumer that stops early ends the worker (nothing keeps fetching)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hubsync.errors import QuotaExhausted
from hubsync.jobs.pull.pipelined import AHEAD
from hubsync.jobs.pull.pipelined import pipelined as _pipelined


def test_pages_in_order() -> None:
    assert list(_pipelined(iter(range(50)))) == list(range(50))


def test_worker_error_after_its_pages() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise QuotaExhausted("daily quota")

    seen: list[int] = []
    with pytest.raises(QuotaExhausted):
        seen.extend(_pipelined(pages()))
    assert seen == [1, 2]


def test_consumer_stopping_ends_the_worker() -> None:
    produced: list[int] = []

    def pages() -> Iterator[int]:
        for i in range(1_000):
            produced.append(i)
            yield i

    before = threading.active_count()
    for page in _pipelined(pages()):
        if page == 3:
            break
    # The worker ran at most AHEAD pages ahead (one more in hand), then ended.
    assert len(produced) <= 4 + AHEAD + 1
    assert threading.active_count() == before
