"""Where a cycle's wall time goes (`bench/scale.py --timeline`): every request's send and answer times, and the
phases of the cycle (each pull stream, rescore, push, outcomes), on one monotonic clock.

A phase's share of the rate floor is what its requests cost at the paced rate (the pacer's budget of the 10-second
window, searches at their own rate); the rest of its wall time is time the request pipe was not kept full: storing
that held fetching up, a fetching thread slower than the pacer, work after the pull that makes no requests.

Instrumentation only: it wraps the client's pacer and counter and the cycle's step functions in place, for one
benchmark process, and never changes what they do.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.pacing import CallKind
from hubsync.jobs import cycle, push
from hubsync.jobs import pull as pull_package

_SAMPLE_S = 0.02
_CYCLE_STEPS = ("pull", "rescore", "open_task_contacts", "push", "refresh_after_cycle")
_PUSH_STEPS = ("push_properties", "handoff")


@dataclass(frozen=True, slots=True)
class Call:
    asked: float  # when the pacer was asked: from then on the request waits for the budget, not for hubsync
    sent: float
    done: float
    operation: str
    search: bool
    thread: str


@dataclass
class Timeline:
    calls: list[Call] = field(default_factory=list)
    # (name, start, end, depth): depth 0 for the cycle's steps, 1 for what runs inside them.
    phases: list[tuple[str, float, float, int]] = field(default_factory=list)
    # (time, where the main thread was): sampled every `_SAMPLE_S`, to say what it did while no request was in flight.
    samples: list[tuple[float, str]] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def _phase(self, name: str, depth: int, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                self.phases.append((name, start, time.monotonic(), depth))

        return timed


@contextmanager
def recording(client: HubSpotClient) -> Iterator[Timeline]:
    """A timeline of what runs inside: the wrapped functions are put back on the way out."""
    timeline = Timeline()
    pacer = client._pacer
    acquire, count = pacer.acquire, client._count
    local = timeline._local

    def timed_acquire(kind: CallKind = CallKind.STANDARD) -> None:
        asked = time.monotonic()
        acquire(kind)
        local.asked, local.sent, local.search = asked, time.monotonic(), kind is CallKind.SEARCH

    def timed_count(name: str, status: int | str) -> None:
        count(name, status)
        call = Call(
            getattr(local, "asked", time.monotonic()),
            getattr(local, "sent", time.monotonic()),
            time.monotonic(),
            name,
            getattr(local, "search", False),
            threading.current_thread().name,
        )
        with timeline._lock:
            timeline.calls.append(call)

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, depth: int, label: str | None = None) -> None:
        original = owner[name] if isinstance(owner, dict) else getattr(owner, name)
        saved.append((owner, name, original))
        wrapped = timeline._phase(label or name, depth, original)
        if isinstance(owner, dict):
            owner[name] = wrapped
        else:
            setattr(owner, name, wrapped)

    pacer.acquire = timed_acquire  # type: ignore[method-assign]  # instrumentation: same signature, timed
    client._count = timed_count  # type: ignore[method-assign]
    for step in _CYCLE_STEPS:
        patch(cycle, step, 0)
    for step in _PUSH_STEPS:
        patch(push, step, 1)
    streams = pull_package._STREAM_FUNCTIONS
    for stream in list(streams):
        patch(streams, stream, 1, f"pull:{stream}")
    main = threading.get_ident()
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(timeline, main, stop), name="timeline-sampler", daemon=True)
    timeline.began = time.monotonic()
    sampler.start()
    try:
        yield timeline
    finally:
        timeline.ended = time.monotonic()
        stop.set()
        sampler.join()
        del pacer.acquire
        del client._count
        for owner, name, original in reversed(saved):
            if isinstance(owner, dict):
                owner[name] = original
            else:
                setattr(owner, name, original)


def report(timeline: Timeline, *, per_second: float, searches_per_second: float, name: str) -> list[str]:
    """Lines: per phase its wall time, requests, the paced time they need, and the gap between the two; then the
    idle time of the request pipe (no request in flight) per phase, and request latencies per operation."""
    out = [
        (
            f"  {name} cycle's timeline: {timeline.ended - timeline.began:.1f} s, {len(timeline.calls):,} requests,"
            f" paced at {per_second:.1f}/s and {searches_per_second:.0f} searches/s"
        ),
        f"  {'phase':<34}{'start':>7}{'wall':>8}{'calls':>7}{'search':>7}{'paced':>8}{'over':>8}{'idle':>8}",
    ]
    calls = sorted(timeline.calls, key=lambda c: c.sent)
    idle = _idle_spans(calls, timeline.began, timeline.ended)
    for phase, start, end, depth in sorted(timeline.phases, key=lambda p: p[1]):
        inside = [c for c in calls if start <= c.sent < end]
        searches = sum(c.search for c in inside)
        paced = max((len(inside) - searches) / per_second, searches / searches_per_second)
        idle_s = sum(max(0.0, min(b, end) - max(a, start)) for a, b in idle)
        out.append(
            f"  {'  ' * depth + phase:<34}{start - timeline.began:7.1f}{end - start:8.1f}{len(inside):7,}{searches:7,}"
            f"{paced:8.1f}{end - start - paced:8.1f}{idle_s:8.1f}"
        )
    for phase, start, end, depth in sorted(timeline.phases, key=lambda p: p[1]):
        if depth == 0:
            out.append(f"  main thread in {phase}: {_doing(timeline, start, end, top=5)}")
    total_idle = sum(b - a for a, b in idle)
    paced_wait = sum(c.sent - c.asked for c in calls)
    out.append(f"  requests waited {paced_wait:.1f} s for the pacer in all (summed over threads)")
    out.append(f"  no request in flight nor waiting for the pacer: {total_idle:.1f} s in all; longest gaps:")
    for a, b in sorted(idle, key=lambda s: s[0] - s[1])[:8]:
        out.append(f"    {a - timeline.began:8.1f} s  {b - a:6.2f} s  in {_phase_at(timeline, a)}")
        out.append(f"        main thread: {_doing(timeline, a, b)}")
    out.append(f"  {'operation':<44}{'n':>7}{'median ms':>10}{'p90 ms':>8}{'sum s':>8}")
    by_op: dict[str, list[float]] = defaultdict(list)
    for c in calls:
        by_op[c.operation].append(c.done - c.sent)
    for op, times in sorted(by_op.items(), key=lambda kv: -sum(kv[1]))[:12]:
        times.sort()
        out.append(
            f"  {op[:43]:<44}{len(times):7,}{times[len(times) // 2] * 1000:10.0f}"
            f"{times[int(len(times) * 0.9)] * 1000:8.0f}{sum(times):8.1f}"
        )
    threads = Counter(c.thread for c in calls)
    out.append("  requests by thread: " + ", ".join(f"{t} {n:,}" for t, n in threads.most_common(8)))
    return out


def _sample(timeline: Timeline, thread: int, stop: threading.Event) -> None:
    while not stop.wait(_SAMPLE_S):
        frame = sys._current_frames().get(thread)
        where: list[str] = []
        while frame is not None and len(where) < 3:
            name = frame.f_code.co_filename
            if "/hubsync/" in name and "/sandbox/" not in name:
                where.append(f"{name.rsplit('/hubsync/', 1)[1]}:{frame.f_code.co_name}")
            frame = frame.f_back
        timeline.samples.append((time.monotonic(), " < ".join(where)))


def _doing(timeline: Timeline, start: float, end: float, top: int = 3) -> str:
    """The main thread's most frequent places between `start` and `end`."""
    seen = Counter(where for at, where in timeline.samples if start <= at < end)
    total = sum(seen.values()) or 1
    return "; ".join(f"{n * 100 // total}% {where}" for where, n in seen.most_common(top))


def _idle_spans(calls: list[Call], began: float, ended: float) -> list[tuple[float, float]]:
    """Spans of at least 50 ms with no request in flight nor waiting for the pacer: the pipe starved."""
    spans = []
    busy_until = began
    for c in sorted(calls, key=lambda c: c.asked):
        if c.asked - busy_until >= 0.05:
            spans.append((busy_until, c.asked))
        busy_until = max(busy_until, c.done)
    if ended - busy_until >= 0.05:
        spans.append((busy_until, ended))
    return spans


def _phase_at(timeline: Timeline, at: float) -> str:
    inside = [(depth, name) for name, start, end, depth in timeline.phases if start <= at < end]
    return max(inside)[1] if inside else "(outside the cycle's steps)"
