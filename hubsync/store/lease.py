"""One active syncer per portal: a lease row in the database, on SQLite and PostgreSQL alike.

Taking the lease is one conditional UPDATE (held by me, or expired) or, when no row exists yet, one INSERT that
does nothing on conflict: whichever statement changes a row wins, so two processes can never both hold it.
Times come from the caller; hosts that share a database need synchronised clocks (NTP).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from hubsync.store.tables import LeaseRow

_lease = LeaseRow.__table__  # type: ignore[attr-defined]  # SQLModel declares __table__ untyped


def acquire(engine: Engine, name: str, holder: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease. True when `holder` holds it until `now + ttl`."""
    expires = now + ttl
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(_lease)
            .where(_lease.c.name == name, sa.or_(_lease.c.holder == holder, _lease.c.expires_at < now))
            .values(
                holder=holder,
                expires_at=expires,
                # A renewal keeps the original acquisition time; a takeover starts a new one.
                acquired_at=sa.case((_lease.c.holder == holder, _lease.c.acquired_at), else_=now),
            )
        ).rowcount
        if taken:
            return True
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        # rowcount is -1 for this INSERT on psycopg; RETURNING says unambiguously whether a row was written.
        stmt = (
            insert(_lease)
            .values(name=name, holder=holder, acquired_at=now, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_lease.c.name)
        )
        return conn.execute(stmt).first() is not None


def release(engine: Engine, name: str, holder: str) -> None:
    """Give the lease up at once, so a standby need not wait for it to expire."""
    with engine.begin() as conn:
        conn.execute(sa.delete(_lease).where(_lease.c.name == name, _lease.c.holder == holder))


def current_holder(engine: Engine, name: str, *, now: datetime) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(_lease.c.holder, _lease.c.expires_at).where(_lease.c.name == name)).first()
    if row is None or row.expires_at < now:
        return None
    return str(row.holder)
