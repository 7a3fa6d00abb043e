"""Workers claim dirty marks in batches with a lease; a crashed worker's claims come back when it expires.

A mark is cleared only if its version is still the one claimed: a webhook that re-marked the record
while a worker was busy keeps it dirty, so that change is reconciled too (level-triggered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select, true, tuple_, update

from connector.store.leases import Lease, hold, let_go, open_lease, revoke_dead
from connector.store.models import contacts, dirty


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


PREFIX = {"hubspot": "hs", "salesforce": "sf"}
BUSY_S = 2.0  # a person another batch holds is tried again this much later


def person_key(system: str, object_id: str) -> str:
    return f"{PREFIX[system]}:{object_id}"


def claim_people(engine: Engine, owner: str, limit: int, lease_s: float, now: datetime | None = None,
                 urgent_only: bool = False) -> tuple[Lease, list[Mark]] | None:
    """Claim up to `limit` due marks *by person*: open a lease, hold every key of each marked person
    (both CRM ids of a linked contact), and lease all of their free marks, so the other side's mark of
    the same person comes along instead of going to another worker. A person another live batch holds
    is skipped and its marks pushed back by BUSY_S. None when nothing is due."""
    now = now or datetime.now(UTC)
    free = or_(dirty.c.lease_until.is_(None), dirty.c.lease_until < now)
    with engine.begin() as conn:
        revoke_dead(conn, now)  # first: on SQLite this write takes the lock for the whole claim
        query = select(dirty.c.system, dirty.c.object_id).where(dirty.c.due_at <= now, free)
        if urgent_only:
            query = query.where(dirty.c.urgent.is_(True))
        query = query.order_by(dirty.c.urgent.desc(), dirty.c.due_at).limit(limit)
        if engine.dialect.name == "postgresql":
            # Two claimers skip each other's candidates instead of queueing on them.
            query = query.with_for_update(skip_locked=True)
        candidates = [(row[0], row[1]) for row in conn.execute(query)]
        if not candidates:
            return None
        units = _people_of(conn, candidates)
        lease = open_lease(conn, owner, lease_s, now)
        taken = hold(conn, lease, {k for unit in units for k in unit}, now)
        whole = [unit for unit in units if unit <= taken]
        let_go(conn, lease, taken - {k for unit in whole for k in unit})
        held_keys = {k for unit in whole for k in unit}
        wanted = sorted(_record(k) for k in held_keys)
        busy = [c for c in candidates if person_key(*c) not in held_keys]
        if busy:
            conn.execute(update(dirty).where(tuple_(dirty.c.system, dirty.c.object_id).in_(busy), free)
                         .values(due_at=now + timedelta(seconds=BUSY_S)))
        if not wanted:
            return lease, []
        if engine.dialect.name == "postgresql":
            # Only rows this transaction could lock: a row an edge write or a releasing worker holds right now
            # is skipped (it stays dirty and is claimed next time) rather than waited for while we hold others.
            lock = select(dirty.c.system, dirty.c.object_id).where(
                tuple_(dirty.c.system, dirty.c.object_id).in_(wanted), free)
            wanted = [(r[0], r[1]) for r in conn.execute(
                lock.order_by(dirty.c.system, dirty.c.object_id).with_for_update(skip_locked=True))]
            if not wanted:
                return lease, []
        conn.execute(update(dirty).where(tuple_(dirty.c.system, dirty.c.object_id).in_(wanted), free)
                     .values(lease_owner=lease.mark_owner, lease_until=now + timedelta(seconds=lease_s)))
        rows = conn.execute(select(dirty).where(tuple_(dirty.c.system, dirty.c.object_id).in_(wanted),
                                                dirty.c.lease_owner == lease.mark_owner)).all()
    return lease, [Mark(r.system, r.object_id, r.object_type, r.version, r.attempts, r.urgent) for r in rows]


def _record(key: str) -> tuple[str, str]:
    prefix, _, object_id = key.partition(":")
    return ("hubspot" if prefix == "hs" else "salesforce", object_id)


def _people_of(conn: object, records: list[tuple[str, str]]) -> list[frozenset[str]]:
    """Each record's person as the set of keys it is known by: both ids of its linked contact, or itself."""
    hs = [i for s, i in records if s == "hubspot"]
    sf = [i for s, i in records if s == "salesforce"]
    rows = conn.execute(select(contacts.c.hubspot_id, contacts.c.salesforce_id).where(  # type: ignore[attr-defined]
        or_(contacts.c.hubspot_id.in_(hs), contacts.c.salesforce_id.in_(sf)))).all() if records else []
    linked: dict[str, frozenset[str]] = {}
    for row in rows:
        unit = frozenset(k for k in (row.hubspot_id and f"hs:{row.hubspot_id}",
                                     row.salesforce_id and f"sf:{row.salesforce_id}") if k)
        for key in unit:
            linked[key] = unit
    units = {linked.get(person_key(s, i), frozenset({person_key(s, i)})) for s, i in records}
    return sorted(units, key=sorted)


def release(engine: Engine, done: Iterable[Mark], failed: Iterable[tuple[Mark, float]] = (),
            now: datetime | None = None, owner: str | None = None, count_attempts: bool = True) -> None:
    """Clear the marks that were reconciled; push failed ones out by their backoff (seconds).

    With `owner`, only rows this worker still leases are touched: a worker whose lease ran out must not
    clear what another worker has claimed since. A dry run or a budget pause is no failure of the record:
    `count_attempts=False` then leaves the attempt count alone."""
    now = now or datetime.now(UTC)
    # In key order, as every writer of dirty rows locks them (no deadlocks on PostgreSQL).
    done = sorted(done, key=lambda m: m.key)
    failed = sorted(failed, key=lambda f: f[0].key)
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
