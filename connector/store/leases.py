"""Leases and person holds: one worker thinks about one person at a time, and a dead worker's people return.

A batch opens a *lease* (one row; its id is the batch's fencing token) and *holds* every key its people
are known by (`hs:<id>`, `sf:<id>`, `email:<address>`). A heartbeat renews the one lease row every few
seconds, so leases can be short (15 s) and a dead worker's people come back within that.

Why no deadlocks: holds are taken by one INSERT … ON CONFLICT per call with its keys sorted, so every
process locks keys in the same order; holding is try-lock (a key held by a live lease is simply not
returned), never a wait on another batch's work. Why fencing is sound: a lease is taken over only once
it has lapsed, and taking over first *revokes* it (lease_until NULL) with a conditional UPDATE on its
row — the same row the heartbeat updates — so a renewal and a revocation serialize on that row and a
revoked lease can never be renewed again. A worker whose heartbeat failed stops writing at its local
deadline (connector/engine/fencing.py) before anyone may revoke it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.store.models import dirty, holds, leases

HOST = socket.gethostname()[:64]


@dataclass
class Lease:
    id: int  # the fencing token
    owner: str
    until: datetime

    @property
    def mark_owner(self) -> str:
        """What the batch's dirty marks carry as lease_owner: unique per batch, not per process."""
        return f"lease:{self.id}"


def open_lease(conn: Connection, owner: str, lease_s: float, now: datetime) -> Lease:
    until = now + timedelta(seconds=lease_s)
    result = conn.execute(insert(leases).values(owner=owner[:64], host=HOST, pid=os.getpid(), acquired_at=now,
                                                renewed_at=now, lease_until=until).returning(leases.c.id))
    return Lease(int(result.scalar_one()), owner, until)


def revoke_dead(conn: Connection, now: datetime) -> int:
    """Revoke every lapsed lease, and those of dead processes on this host (a SIGKILLed worker's people
    return at the next claim instead of after its lease). Run first in a claim's transaction: on SQLite
    that write takes the database lock before the claim reads anything."""
    revoked = [row[0] for row in conn.execute(update(leases).where(leases.c.lease_until < now)
                                              .values(lease_until=None).returning(leases.c.id))]
    mine = conn.execute(select(leases.c.id, leases.c.pid).where(leases.c.host == HOST,
                                                                 leases.c.lease_until.is_not(None))).all()
    dead = [row.id for row in mine if not _alive(row.pid)]
    if dead:
        revoked += [row[0] for row in conn.execute(update(leases).where(leases.c.id.in_(dead))
                                                   .values(lease_until=None).returning(leases.c.id))]
    if revoked:  # their marks are free now too, not only when the marks' own lease_until passes
        owned = dirty.c.lease_owner.in_([Lease(i, "", now).mark_owner for i in revoked])
        lock_in_order(conn, owned)
        conn.execute(update(dirty).where(owned).values(lease_owner=None, lease_until=None))
    return len(revoked)


def lock_in_order(conn: Connection, where: Any) -> None:
    """PostgreSQL: lock these dirty rows in key order before a multi-row UPDATE (which would lock them in
    scan order), the order every writer of dirty rows uses, so no two writers wait on each other in a cycle."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(dirty.c.system).where(where).order_by(dirty.c.system, dirty.c.object_id)
                     .with_for_update()).all()


def _alive(pid: int) -> bool:
    """Is this process still running? A reused pid only errs on the safe side (the lease then lapses)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def hold(conn: Connection, lease: Lease, keys: Iterable[str], now: datetime) -> set[str]:
    """Take the keys that are free (or already ours) for this lease; return the ones it now holds."""
    wanted = sorted({k[:200] for k in keys if k})
    if not wanted:
        return set()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(holds).values([{"person": k, "lease_id": lease.id, "held_at": now} for k in wanted])
    living = select(leases.c.id).where(leases.c.lease_until.is_not(None)).scalar_subquery()
    # A key may be taken from a lease that was revoked (or deleted); a live lease keeps it.
    stmt = stmt.on_conflict_do_update(
        index_elements=["person"],
        set_={"lease_id": stmt.excluded.lease_id, "held_at": stmt.excluded.held_at},
        where=(holds.c.lease_id == lease.id) | holds.c.lease_id.not_in(living),
    ).returning(holds.c.person)
    return {row[0] for row in conn.execute(stmt)}


def let_go(conn: Connection, lease: Lease, keys: Iterable[str]) -> None:
    """Give back some keys (a person this batch could not hold whole)."""
    keys = list(keys)
    if keys:
        conn.execute(delete(holds).where(holds.c.lease_id == lease.id, holds.c.person.in_(keys)))


def renew(engine: Engine, lease: Lease, lease_s: float, now: datetime | None = None) -> bool:
    """The heartbeat: extend the lease (and the dirty marks it claimed) unless it lapsed or was revoked."""
    now = now or datetime.now(UTC)
    until = now + timedelta(seconds=lease_s)
    with engine.begin() as conn:
        alive = conn.execute(update(leases).where(leases.c.id == lease.id, leases.c.lease_until >= now)
                             .values(lease_until=until, renewed_at=now)).rowcount
        if not alive:
            return False
        lock_in_order(conn, dirty.c.lease_owner == lease.mark_owner)
        conn.execute(update(dirty).where(dirty.c.lease_owner == lease.mark_owner).values(lease_until=until))
    lease.until = until
    return True


def holds_lease(conn: Connection, lease: Lease, now: datetime) -> bool:
    """Does this lease still stand? Locks its row until the transaction ends (PostgreSQL), so a
    revocation cannot slip in between this check and the writes that follow in the same transaction."""
    stmt = select(leases.c.id).where(leases.c.id == lease.id, leases.c.lease_until >= now)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    else:  # SQLite: a write takes the database lock for the rest of the transaction
        conn.execute(update(leases).where(leases.c.id == lease.id).values(renewed_at=literal_column("renewed_at")))
    return conn.execute(stmt).first() is not None


def close_lease(engine: Engine, lease: Lease) -> None:
    """The batch is over: free its people and drop its lease row."""
    with engine.begin() as conn:
        conn.execute(delete(holds).where(holds.c.lease_id == lease.id))
        conn.execute(delete(leases).where(leases.c.id == lease.id))


def sweep(conn: Connection, now: datetime) -> int:
    """Drop revoked leases and the holds that point at no live lease (housekeeping, from `nurture prune`)."""
    living = select(leases.c.id).where(leases.c.lease_until.is_not(None)).scalar_subquery()
    gone = conn.execute(delete(holds).where(holds.c.lease_id.not_in(living))).rowcount or 0
    gone += conn.execute(delete(leases).where(and_(leases.c.lease_until.is_(None),
                                                   leases.c.renewed_at < now))).rowcount or 0
    return gone
