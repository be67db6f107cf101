"""The worker hand-off of the pull: pages come out in order, a worker's error comes out after the pages before it,
and a consumer that stops early ends the worker (nothing keeps fetching). Fetched ahead by records (`prefetch`): the
worker starts at once and holds a bounded number of records; `ready` hands over what was fetched without waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from hubsync.errors import QuotaExhausted
from hubsync.jobs.pull.pipelined import AHEAD, RECORDS_AHEAD, prefetch
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


def test_prefetch_fetches_before_asked_and_holds_at_most_its_records() -> None:
    produced: list[int] = []
    started = threading.Event()

    def pages() -> Iterator[list[int]]:
        for i in range(100):
            produced.append(i)
            started.set()
            yield [i] * 1_000

    fetching = prefetch(pages(), stream="test", size=len)
    try:
        # Nothing was asked for yet, and the worker already fetches: up to RECORDS_AHEAD records wait, one more
        # page may be in hand.
        assert started.wait(5)
        deadline = time.monotonic() + 5
        while len(produced) < RECORDS_AHEAD // 1_000 + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert len(produced) <= RECORDS_AHEAD // 1_000 + 1
        assert next(fetching) == [0] * 1_000
    finally:
        fetching.close()


def test_ready_takes_what_was_fetched_within_its_records_and_leaves_an_error_for_next() -> None:
    def pages() -> Iterator[list[int]]:
        yield [1] * 10
        yield [2] * 10
        yield [3] * 10
        raise QuotaExhausted("daily quota")

    fetching = prefetch(pages(), stream="test", size=len)
    try:
        deadline = time.monotonic() + 5
        while len(fetching._buffer) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert next(fetching) == [1] * 10
        # Within 15 records: one page of 10, not two.
        assert fetching.ready(15) == [[2] * 10]
        assert fetching.ready(100) == [[3] * 10]
        assert fetching.ready(100) == []
        with pytest.raises(QuotaExhausted):
            next(fetching)
    finally:
        fetching.close()


def test_waiting_until_a_page_the_end_or_an_error_is_there_to_take() -> None:
    release = threading.Event()

    def pages() -> Iterator[list[int]]:
        yield [1]
        release.wait()
        raise QuotaExhausted("daily quota")

    fetching = prefetch(pages(), stream="test", size=len)
    try:
        while fetching.waiting():
            time.sleep(0.001)
        assert next(fetching) == [1]
        # The worker holds on before its error: nothing to take, the consumer would wait.
        assert fetching.waiting()
        release.set()
        while fetching.waiting():
            time.sleep(0.001)
        # The error is there to take (and comes out of next()), so the consumer does not wait for it.
        with pytest.raises(QuotaExhausted):
            next(fetching)
        assert not fetching.waiting()
    finally:
        fetching.close()
