"""The scheduler: wake contacts whose next nurture touch has come due, so the worker reconciles them.

Touches fall due with the passing of time, not with a CRM change, so no webhook announces them. The
brain stores each contact's next due time; this marks those that are due as dirty (not urgent) and
clears the time, which the brain sets again when it next thinks about the contact.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from connector.store.inbox import DirtyMark, record
from connector.store.models import contacts


def mark_due(engine: Engine, now: datetime | None = None, limit: int = 1000) -> int:
    now = now or datetime.now(UTC)
    query = (select(contacts.c.id, contacts.c.hubspot_id, contacts.c.salesforce_id, contacts.c.salesforce_type)
             .where(contacts.c.next_due_at <= now, contacts.c.deleted_at.is_(None))
             .order_by(contacts.c.next_due_at).limit(limit))
    if engine.dialect.name == "postgresql":
        # Every worker runs the scheduler: each takes the due contacts nobody else is taking right now,
        # so a due touch is marked once, not once per worker.
        query = query.with_for_update(skip_locked=True)
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        marks = [DirtyMark("hubspot", r.hubspot_id, "contact", urgent=False) if r.hubspot_id
                 else DirtyMark("salesforce", r.salesforce_id, r.salesforce_type or "Lead", urgent=False)
                 for r in rows if r.hubspot_id or r.salesforce_id]
        record(conn, [], marks)
        if rows:
            conn.execute(update(contacts).where(contacts.c.id.in_([r.id for r in rows])).values(next_due_at=None))
    return len(marks)
