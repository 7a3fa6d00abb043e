"""The contacts table as the sync engine uses it: who is linked to whom, and the merge base."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update

from connector.store.models import contacts


@dataclass
class Link:
    id: int | None
    hubspot_id: str | None = None
    salesforce_id: str | None = None
    salesforce_type: str | None = None
    email: str | None = None
    synced: dict[str, Any] = field(default_factory=dict)
    brain: dict[str, Any] = field(default_factory=dict)
    next_due_at: datetime | None = None


# Ids per IN (...) list: SQLite builds before 3.32 allow 999 bound parameters in one statement.
IN_CHUNK = 400


def load_links(engine: Engine, hubspot_ids: Iterable[str], salesforce_ids: Iterable[str]) -> list[Link]:
    hs, sf = sorted(set(hubspot_ids)), sorted(set(salesforce_ids))
    found: dict[int, Link] = {}
    with engine.connect() as conn:
        for column, ids in ((contacts.c.hubspot_id, hs), (contacts.c.salesforce_id, sf)):
            for start in range(0, len(ids), IN_CHUNK):
                rows = conn.execute(select(contacts).where(contacts.c.deleted_at.is_(None),
                                                           column.in_(ids[start:start + IN_CHUNK])))
                found.update((r.id, _link(r)) for r in rows)
    return list(found.values())


def links_by_email(engine: Engine, emails: Iterable[str]) -> dict[str, list[Link]]:
    wanted = sorted({e.lower() for e in emails if e})
    if not wanted:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(contacts).where(contacts.c.email.in_(wanted), contacts.c.deleted_at.is_(None))).all()
    result: dict[str, list[Link]] = {}
    for row in rows:
        result.setdefault(row.email, []).append(_link(row))
    return result


def find_link(engine: Engine, email: str | None = None, hubspot_id: str | None = None,
              salesforce_id: str | None = None) -> Link | None:
    clauses = []
    if email:
        clauses.append(contacts.c.email == email.lower())
    if hubspot_id:
        clauses.append(contacts.c.hubspot_id == hubspot_id)
    if salesforce_id:
        clauses.append(contacts.c.salesforce_id == salesforce_id)
    if not clauses:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(contacts).where(or_(*clauses)).order_by(contacts.c.id)).first()
    return _link(row) if row else None


def save_link(conn: Connection, link: Link, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    values = {"hubspot_id": link.hubspot_id, "salesforce_id": link.salesforce_id,
              "salesforce_type": link.salesforce_type, "email": (link.email or "").lower() or None,
              "synced": link.synced, "brain": link.brain, "next_due_at": link.next_due_at, "updated_at": now,
              "deleted_at": None}
    if link.id is None:
        # Another row may still hold one of these ids (a merge, a conversion): take the id over.
        _release_ids(conn, link)
        link.id = conn.execute(insert(contacts).values(**values, created_at=now).returning(contacts.c.id)).scalar_one()
    else:
        _release_ids(conn, link)
        conn.execute(update(contacts).where(contacts.c.id == link.id).values(**values))
    return link.id


def _release_ids(conn: Connection, link: Link) -> None:
    others = contacts.c.id != link.id if link.id is not None else contacts.c.id.isnot(None)
    if link.hubspot_id:
        conn.execute(update(contacts).where(contacts.c.hubspot_id == link.hubspot_id, others).values(hubspot_id=None))
    if link.salesforce_id:
        conn.execute(update(contacts).where(contacts.c.salesforce_id == link.salesforce_id, others)
                     .values(salesforce_id=None, salesforce_type=None))


def _link(row: Any) -> Link:
    return Link(row.id, row.hubspot_id, row.salesforce_id, row.salesforce_type, row.email,
                dict(row.synced or {}), dict(row.brain or {}), row.next_due_at)
