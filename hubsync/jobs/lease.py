"""One writer per database: the lease `hubsync run` holds, taken by the one-off commands too.

`sync`, `push`, `backfill` and `score` (when it stores) take it before they write (`writer_lease`). When another
live process holds it they wait up to `[schedule] lease_wait_seconds`, then give up with LeaseBusy (exit 10) naming
the holder. While the command runs, a thread renews the lease every third of `lease_seconds`, as the service does;
losing it sets the command's stop event, so the command stops after the page in hand. The lease is released when the
command ends, however it ends. Whoever takes the lease records the runs a dead holder left "running" as failed.

A holder that provably died (it ran on this host, in this pid namespace, and its process is gone: a sync killed
by SIGKILL or the OOM killer) is replaced at once instead of waited for until its lease runs out. A holder on
another host, or one whose process cannot be looked at, is waited for.

The lease measures whether a process is alive, so it runs on the system clock, never the sandbox's.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.engine import Engine

from hubsync.clock import system_clock
from hubsync.errors import HubsyncError, Interrupted, LeaseBusy
from hubsync.settings import ScheduleConfig
from hubsync.store import lease
from hubsync.store.db import transaction
from hubsync.store.runs import abandon_runs

log = structlog.get_logger(__name__)

LEASE_NAME = "sync"
# How often a waiting command asks again whether the lease is free.
_POLL_SECONDS = 1.0


def holder_id() -> str:
    """Who holds the lease: "host:pid:namespace.nonce". The pid namespace lets a process on the same host tell
    whether the holder still lives (two containers may share a host name, not a pid namespace); the nonce tells
    apart a pid the system has reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{_pid_namespace()}.{uuid.uuid4().hex[:6]}"


def _pid_namespace() -> str:
    try:
        return str(Path("/proc/self/ns/pid").stat().st_ino)
    except OSError:
        return "0"  # unknown (not Linux): nobody judges this holder dead; its lease runs out instead


def _parts(holder: str) -> tuple[str, int, str] | None:
    """(host, pid, nonce) of one of our holder ids; None for anything else."""
    host, _, rest = holder.partition(":")
    pid, _, nonce = rest.partition(":")
    return (host, int(pid), nonce) if host and pid.isdigit() and nonce and ":" not in nonce else None


def holder_is_dead(holder: str) -> bool:
    """True only when the holder provably died: same host, same pid namespace, and no process with its pid. A
    zombie (killed, not yet reaped by its parent) still counts as alive: its lease runs out instead."""
    parts = _parts(holder)
    if parts is None or "." not in parts[2]:
        return False
    host, pid, namespace = parts[0], parts[1], parts[2].split(".", 1)[0]
    here = _pid_namespace()
    if host != socket.gethostname() or namespace != here or here == "0" or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user has that pid: alive
    return False


def describe_holder(holder: str) -> str:
    """A holder id as an admin reads it ("host web1, pid 4242"); the id itself when it is not one of ours."""
    parts = _parts(holder)
    return f"host {parts[0]}, pid {parts[1]}" if parts is not None else holder


def take_over(engine: Engine, holder: str, *, now: datetime) -> int:
    """Just took the lease: runs another holder left "running" are over (it died, or its lease ran out)."""
    with transaction(engine) as conn:
        abandoned = abandon_runs(conn, holder=holder, now=now)
    if abandoned:
        log.warning("lease.abandoned_runs", holder=holder, runs=abandoned)
    return abandoned


@dataclass(slots=True)
class WriterLease:
    """The lease a command holds; `lost_to` is set when another process took it over while the command ran."""

    holder: str
    abandoned_runs: int
    lost_to: str | None = None


@contextmanager
def writer_lease(
    engine: Engine,
    schedule: ScheduleConfig,
    *,
    command: str,
    clock: Callable[[], datetime],
    stop: threading.Event,
    holder: str | None = None,
) -> Iterator[WriterLease]:
    """Hold the sync lease around a command (see the module docstring). `clock` dates the runs it marks failed."""
    me = holder or holder_id()
    ttl = timedelta(seconds=schedule.lease_seconds)
    _wait_for(engine, me, ttl, wait_seconds=schedule.lease_wait_seconds, stop=stop, command=command)
    try:
        held = WriterLease(me, take_over(engine, me, now=clock()))
        log.info("lease.taken", holder=me, command=command, abandoned_runs=held.abandoned_runs)
        done = threading.Event()
        renewer = threading.Thread(
            target=_renew, args=(engine, held, ttl, done, stop), name="hubsync-lease", daemon=True
        )
        renewer.start()
        try:
            yield held
        except Interrupted:
            if held.lost_to is not None:
                raise LeaseBusy(
                    f"another hubsync process ({describe_holder(held.lost_to)}) took the sync lease over while "
                    f"`hubsync {command}` ran: it stopped after the work in hand (saved); run it again when that "
                    "process is done"
                ) from None
            raise
        finally:
            done.set()
            renewer.join()
    finally:
        _release(engine, me)


def _wait_for(
    engine: Engine, me: str, ttl: timedelta, *, wait_seconds: int, stop: threading.Event, command: str
) -> None:
    deadline = time.monotonic() + wait_seconds
    waiting_logged = False
    while True:
        if lease.acquire(engine, LEASE_NAME, me, now=system_clock(), ttl=ttl):
            return
        other = lease.current_lease(engine, LEASE_NAME, now=system_clock())
        if other is not None and holder_is_dead(other.holder):
            if lease.take_from(engine, LEASE_NAME, other.holder, me, now=system_clock(), ttl=ttl):
                log.warning("lease.dead_holder_replaced", holder=me, dead_holder=other.holder, command=command)
                return
            continue  # another process replaced it first: look again
        if not waiting_logged:
            log.info(
                "lease.waiting",
                command=command,
                holder=other.holder if other else None,
                wait_seconds=wait_seconds,
            )
            waiting_logged = True
        left = deadline - time.monotonic()
        if left <= 0:
            raise LeaseBusy(_busy_message(other, command, wait_seconds))
        if stop.wait(min(_POLL_SECONDS, left)):
            raise Interrupted(f"stopped on request while waiting for the sync lease; `hubsync {command}` did nothing")


def _busy_message(other: lease.Held | None, command: str, wait_seconds: int) -> str:
    who = (
        f"another hubsync process ({describe_holder(other.holder)}) holds the sync lease until "
        f"{other.expires_at:%H:%M:%S} UTC"
        if other is not None
        else "another hubsync process holds the sync lease"
    )
    return (
        f"{who}; `hubsync {command}` waited {wait_seconds} s ([schedule] lease_wait_seconds) and did nothing. "
        "One writer per database: run it again when that process is done, or stop it first"
    )


def _renew(engine: Engine, held: WriterLease, ttl: timedelta, done: threading.Event, stop: threading.Event) -> None:
    beat = max(1.0, ttl.total_seconds() / 3)
    while not done.wait(beat):
        try:
            still = lease.acquire(engine, LEASE_NAME, held.holder, now=system_clock(), ttl=ttl)
        except Exception as err:  # noqa: BLE001  (a database hiccup must not end the renewals; logged, retried)
            # The lease has two more beats before it runs out: try again at the next.
            log.warning("lease.renew_failed", holder=held.holder, error=f"{type(err).__name__}: {err}")
            continue
        if not still:
            other = lease.current_holder(engine, LEASE_NAME, now=system_clock())
            held.lost_to = other or "unknown"
            log.warning("lease.lost", holder=held.holder, taken_by=other)
            stop.set()
            return


def _release(engine: Engine, me: str) -> None:
    try:
        lease.release(engine, LEASE_NAME, me)
    except HubsyncError as err:
        # The command's own outcome (perhaps this very database failure) is what the admin must read; the lease
        # runs out by itself.
        log.warning("lease.release_failed", holder=me, error=str(err))
