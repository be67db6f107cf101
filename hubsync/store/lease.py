"""One active syncer per portal: a lease row in the database, on SQLite and PostgreSQL alike.

Taking the lease is one conditional UPDATE (held by me, or expired) or, when no row exists yet, one INSERT that
does nothing on conflict: whichever statement changes a row wins, so two processes can never both hold it.
Times come from the caller; hosts that share a database need synchronised clocks (NTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from hubsync.store.tables import lease_t


def acquire(engine: Engine, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease. True when `holder` holds it until `now + ttl`."""
    expires = now + ttl
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(lease_t)
            .where(lease_t.c.name == name, sa.or_(lease_t.c.holder == holder, lease_t.c.expires_at < now))
            .values(
                holder=holder,
                expires_at=expires,
                # A renewal keeps the original acquisition time; a takeover starts a new one.
                acquired_at=sa.case((lease_t.c.holder == holder, lease_t.c.acquired_at), else_=now),
            )
        ).rowcount
        if taken:
            return True
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        # rowcount is -1 for this INSERT on psycopg; RETURNING says unambiguously whether a row was written.
        stmt = (
            insert(lease_t)
            .values(name=name, holder=holder, acquired_at=now, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(lease_t.c.name)
        )
        return conn.execute(stmt).first() is not None


def take_from(engine: Engine, name: str, dead: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take the lease from a holder the caller knows to be dead, before it expires. One conditional UPDATE (still
    held by `dead`): of two processes that both find it dead, only one wins."""
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(lease_t)
            .where(lease_t.c.name == name, lease_t.c.holder == dead)
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        ).rowcount
    return bool(taken)


def release(engine: Engine, name: str, holder: str) -> None:
    """Give the lease up at once, so a standby need not wait for it to expire."""
    with engine.begin() as conn:
        conn.execute(sa.delete(lease_t).where(lease_t.c.name == name, lease_t.c.holder == holder))


@dataclass(frozen=True, slots=True)
class Held:
    holder: str
    expires_at: datetime


def current_lease(engine: Engine, name: str, *, now: datetime) -> Held | None:
    """Who holds the lease and until when; None when nobody does (no row, or it expired)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(lease_t.c.holder, lease_t.c.expires_at).where(lease_t.c.name == name)).first()
    if row is None:
        return None
    if row.expires_at < now:
        return None
    return Held(str(row.holder), row.expires_at)


def current_holder(engine: Engine, name: str, *, now: datetime) -> str | None:
    held = current_lease(engine, name, now=now)
    return held.holder if held is not None else None
