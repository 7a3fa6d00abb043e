"""Replaying dead letters: mark their records dirty again and close the letters, in one transaction.
The worker then reconciles the records from scratch (level-triggered), so a replay never repeats a stale write."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from connector.store.inbox import DirtyMark, record
from connector.store.models import contacts, dead_letters


def replay_dead_letters(engine: Engine, ids: list[int] | None = None) -> int | None:
    """Records marked; None when no open letter matched (already replayed, or no such id)."""
    query = select(dead_letters).where(dead_letters.c.resolved_at.is_(None))
    if ids:
        query = query.where(dead_letters.c.id.in_(ids))
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return None
        marks = []
        for r in rows:
            link = conn.execute(select(contacts).where(contacts.c.id == r.contact_id)).first() if r.contact_id else None
            if link is not None and link.hubspot_id:
                marks.append(DirtyMark("hubspot", link.hubspot_id, "contact"))
            if link is not None and link.salesforce_id:
                marks.append(DirtyMark("salesforce", link.salesforce_id, link.salesforce_type or "Lead"))
            if link is None and r.object_id and r.system in ("hubspot", "salesforce"):
                marks.append(DirtyMark(r.system, r.object_id, r.object_type))
        record(conn, [], marks)
        conn.execute(update(dead_letters).where(dead_letters.c.id.in_([r.id for r in rows]))
                     .values(resolved_at=datetime.now(UTC)))
    return len(marks)
