"""What the dashboard pages read from the store: short aggregate queries on indexed columns, and pages of
rows by keyset (id below a cursor), so a page costs the same with a thousand contacts or a million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, String, cast, func, or_, select

from connector.core.conditions import as_datetime
from connector.store.models import audit, contacts, counters, dead_letters, dirty, engagement, inbox

PAGE = 50


@dataclass
class Health:
    queue: int
    queue_urgent: int
    oldest_age_s: float | None
    intake: list[tuple[str, int, int]]  # (source, last 5 minutes, last hour)
    crms: list[dict[str, Any]]  # per CRM: last write, last error, budget
    dead_letters: list[Any]
    dead_letters_open: int
    problems_open: int | None
    contacts: int
    written_last_hour: int


def health(engine: Engine, now: datetime | None = None) -> Health:
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        queue = conn.execute(select(func.count(), func.min(dirty.c.marked_at))).one()
        urgent = conn.execute(select(func.count()).where(dirty.c.urgent.is_(True))).scalar_one()
        intake = []
        hour_ago, five_ago = now - timedelta(hours=1), now - timedelta(minutes=5)
        for source, last_hour, last_five in conn.execute(
                select(inbox.c.source, func.count(), func.count().filter(inbox.c.received_at >= five_ago))
                .where(inbox.c.received_at >= hour_ago).group_by(inbox.c.source)):
            intake.append((source, last_five, last_hour))
        facts = conn.execute(select(func.count().filter(engagement.c.occurred_at >= five_ago), func.count())
                             .where(engagement.c.occurred_at >= hour_ago)).one()
        intake.append(("engagement facts (by occurred time)", facts[0], facts[1]))
        crms = []
        rows = {r.name: r.value for r in conn.execute(select(counters.c.name, counters.c.value))}
        for system in ("hubspot", "salesforce"):
            last_write = conn.execute(select(func.max(audit.c.at)).where(
                audit.c.system == system, audit.c.action.in_(["update", "create", "task", "enroll"]))).scalar()
            last_error = conn.execute(select(audit.c.at, audit.c.message).where(
                audit.c.system == system, audit.c.action == "error").order_by(audit.c.id.desc()).limit(1)).first()
            crms.append({"name": system, "last_write": as_datetime(last_write),
                         "last_error": (as_datetime(last_error.at), last_error.message) if last_error else None,
                         "state": _state(as_datetime(last_write), as_datetime(last_error.at) if last_error else None),
                         "budget": _budget(system, rows, now)})
        letters = conn.execute(select(dead_letters).where(dead_letters.c.resolved_at.is_(None))
                               .order_by(dead_letters.c.id.desc()).limit(20)).all()
        letters_open = conn.execute(select(func.count()).select_from(dead_letters)
                                    .where(dead_letters.c.resolved_at.is_(None))).scalar_one()
        people = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
        written = conn.execute(select(func.count()).where(audit.c.at >= hour_ago,
                                                          audit.c.action.in_(["update", "create"]))).scalar_one()
        from connector.metrics.store_gauges import _open_problems

        problems = _open_problems(conn)
    oldest = as_datetime(queue[1])
    return Health(queue[0], urgent, (now - oldest).total_seconds() if oldest else None, intake, crms, letters,
                  letters_open, problems, people, written)


def _state(last_write: datetime | None, last_error: datetime | None) -> str:
    if last_write is None and last_error is None:
        return "no calls yet"
    if last_error is not None and (last_write is None or last_error > last_write):
        return "failing"
    return "connected"


def _budget(system: str, rows: dict[str, float], now: datetime) -> str:
    if system == "salesforce":
        usage = rows.get("salesforce:api_usage")
        return f"{usage:.0%} of the daily API limit used" if usage is not None else "no usage reported yet"
    window = int(now.timestamp() // 10)
    return f"{int(rows.get(f'hubspot:window:{window}', 0))} calls in this 10-second window"


def search_contacts(engine: Engine, q: str, ids: list[int] | None = None, before: int | None = None
                    ) -> list[dict[str, Any]]:
    """By email prefix (the email index), or by name or email part (a scan that stops at a page)."""
    query = select(contacts.c.id, contacts.c.email, contacts.c.hubspot_id, contacts.c.salesforce_id,
                   contacts.c.synced, contacts.c.brain, contacts.c.updated_at).where(contacts.c.deleted_at.is_(None))
    q = q.strip().lower()
    if before is not None:
        query = query.where(contacts.c.id < before)
    with engine.connect() as conn:
        if ids is not None:
            rows = conn.execute(query.where(contacts.c.id.in_(ids[:500])).order_by(contacts.c.id.desc())
                                .limit(PAGE)).all()
        elif q:
            # Emails are stored lowercased: first a range on the email index (LIKE cannot use it on SQLite);
            # only if that finds less than a page, a scan for the text anywhere in the email or the name.
            prefix = (contacts.c.email >= q) & (contacts.c.email < q + "\uffff")
            rows = conn.execute(query.where(prefix).order_by(contacts.c.email).limit(PAGE)).all()
            if len(rows) < PAGE:
                seen = {r.id for r in rows}
                anywhere = or_(contacts.c.email.contains(q, autoescape=True),
                               func.lower(cast(contacts.c.synced, String)).contains(q, autoescape=True))
                more = conn.execute(query.where(anywhere).order_by(contacts.c.id.desc()).limit(PAGE)).all()
                rows += [r for r in more if r.id not in seen][:PAGE - len(rows)]
        else:
            rows = conn.execute(query.order_by(contacts.c.id.desc()).limit(PAGE)).all()
    return [{"id": r.id, "email": r.email, "name": _name(r.synced or {}), "hubspot_id": r.hubspot_id,
             "salesforce_id": r.salesforce_id, "stage": (r.brain or {}).get("lifecycle"),
             "track": (r.brain or {}).get("track"), "updated_at": as_datetime(r.updated_at)} for r in rows]


def _name(synced: dict[str, Any]) -> str:
    return " ".join(str(synced[k]) for k in ("first_name", "last_name") if synced.get(k)) or "-"


def contact(engine: Engine, contact_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(contacts).where(contacts.c.id == contact_id)).first()
        if row is None:
            return None
        trail = conn.execute(select(audit).where(audit.c.contact_id == contact_id)
                             .order_by(audit.c.id.desc()).limit(200)).all()
        keys = [engagement.c.contact_id == contact_id]
        for column, value in (("hubspot_id", row.hubspot_id), ("salesforce_id", row.salesforce_id),
                              ("email", row.email)):
            if value:
                keys.append(engagement.c[column] == value)
        events = conn.execute(select(engagement).where(or_(*keys)).order_by(engagement.c.occurred_at.desc())
                              .limit(200)).all()
    return {"row": row, "name": _name(row.synced or {}), "audit": trail, "events": events,
            "tasks": [a for a in trail if a.action == "task"]}


def activity(engine: Engine, action: str | None, system: str | None, email: str | None, before: int | None
             ) -> list[Any]:
    query = select(audit, contacts.c.email).join(contacts, contacts.c.id == audit.c.contact_id, isouter=True)
    if action:
        query = query.where(audit.c.action == action)
    if system:
        query = query.where(audit.c.system == system)
    if email:
        query = query.where(contacts.c.email == email.strip().lower())
    if before is not None:
        query = query.where(audit.c.id < before)
    with engine.connect() as conn:
        return list(conn.execute(query.order_by(audit.c.id.desc()).limit(PAGE)))
