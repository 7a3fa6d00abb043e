"""Workers claim dirty marks in batches with a lease; a crashed worker's claims come back when it expires.

A mark is cleared only if its version is still the one claimed: a webhook that re-marked the record
while a worker was busy keeps it dirty, so that change is reconciled too (level-triggered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select, true, tuple_, update

from connector.store.models import dirty


@dataclass(frozen=True)
class Mark:
    system: str  # hubspot | salesforce
    object_id: str
    object_type: str
    version: int
    attempts: int
    urgent: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.system, self.object_id)


def claim(engine: Engine, owner: str, limit: int, lease_s: int, now: datetime | None = None,
          urgent_only: bool = False) -> list[Mark]:
    now = now or datetime.now(UTC)
    free = or_(dirty.c.lease_until.is_(None), dirty.c.lease_until < now)
    query = select(dirty.c.system, dirty.c.object_id).where(dirty.c.due_at <= now, free)
    if urgent_only:
        query = query.where(dirty.c.urgent.is_(True))
    query = query.order_by(dirty.c.urgent.desc(), dirty.c.due_at).limit(limit)
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with engine.begin() as conn:
        keys = [tuple(row) for row in conn.execute(query)]
        if not keys:
            return []
        # The lease condition is repeated in the UPDATE: on SQLite two workers may select the same
        # rows, and only one UPDATE can take each of them.
        conn.execute(update(dirty).where(tuple_(dirty.c.system, dirty.c.object_id).in_(keys), free)
                     .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s)))
        rows = conn.execute(select(dirty).where(tuple_(dirty.c.system, dirty.c.object_id).in_(keys),
                                                dirty.c.lease_owner == owner)).all()
    return [Mark(r.system, r.object_id, r.object_type, r.version, r.attempts, r.urgent) for r in rows]


def release(engine: Engine, done: Iterable[Mark], failed: Iterable[tuple[Mark, float]] = (),
            now: datetime | None = None, owner: str | None = None, count_attempts: bool = True) -> None:
    """Clear the marks that were reconciled; push failed ones out by their backoff (seconds).

    With `owner`, only rows this worker still leases are touched: a worker whose lease ran out must not
    clear what another worker has claimed since. A dry run or a budget pause is no failure of the record:
    `count_attempts=False` then leaves the attempt count alone."""
    now = now or datetime.now(UTC)
    done = list(done)
    mine = dirty.c.lease_owner == owner if owner else true()
    with engine.begin() as conn:
        for mark in done:
            same = and_(dirty.c.system == mark.system, dirty.c.object_id == mark.object_id, mine)
            result = conn.execute(delete(dirty).where(same, dirty.c.version == mark.version))
            if result.rowcount == 0:  # re-marked meanwhile: keep it, free it for the next claim
                conn.execute(update(dirty).where(same).values(lease_owner=None, lease_until=None))
        for mark, backoff_s in failed:
            same = and_(dirty.c.system == mark.system, dirty.c.object_id == mark.object_id, mine)
            values: dict[str, object] = {"lease_owner": None, "lease_until": None,
                                         "due_at": now + timedelta(seconds=backoff_s)}
            if count_attempts:
                values["attempts"] = dirty.c.attempts + 1
            conn.execute(update(dirty).where(same).values(**values))


def renew(engine: Engine, owner: str, marks: list[Mark], lease_s: int, now: datetime | None = None) -> bool:
    """Extend this worker's lease on its marks; False if any was lost (expired and claimed by another)."""
    if not marks:
        return True
    now = now or datetime.now(UTC)
    keys = [m.key for m in marks]
    with engine.begin() as conn:
        result = conn.execute(update(dirty).where(tuple_(dirty.c.system, dirty.c.object_id).in_(keys),
                                                  dirty.c.lease_owner == owner)
                              .values(lease_until=now + timedelta(seconds=lease_s)))
    return (result.rowcount or 0) == len({m.key for m in marks})


def pending(engine: Engine, now: datetime | None = None) -> int:
    """Marks due now (for --once: drain until this is zero)."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        return len(conn.execute(select(dirty.c.object_id).where(dirty.c.due_at <= now)).all())
