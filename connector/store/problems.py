"""Problems: values the connector could not sync (a picklist value with no mapping, a value of the wrong type).

They are level-triggered like everything else: each run that reconciles a contact states the contact's
problems as they are now. A problem found again is counted (`seen`), a new one is opened, and an open one the
run no longer finds is resolved — which is how adding the missing mapping and running `nurture rescore` (or a
replay) clears it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from connector.store.models import contacts, problems


@dataclass(frozen=True)
class Found:
    field: str
    kind: str
    message: str
    value: Any = None


def record_problems(conn: Connection, contact_id: int, found: Iterable[Found], now: datetime | None = None
                    ) -> list[Found]:
    """Make the contact's open problems exactly `found`. Returns the ones that are new."""
    now = now or datetime.now(UTC)
    wanted = {(f.field, f.kind): f for f in found}
    open_rows = conn.execute(select(problems.c.id, problems.c.field, problems.c.kind).where(
        problems.c.contact_id == contact_id, problems.c.resolved_at.is_(None))).all()
    have = {(r.field, r.kind): r.id for r in open_rows}
    gone = [pid for key, pid in have.items() if key not in wanted]
    if gone:
        conn.execute(update(problems).where(problems.c.id.in_(gone)).values(resolved_at=now))
    new = [f for key, f in wanted.items() if key not in have]
    if new:
        conn.execute(insert(problems), [
            {"contact_id": contact_id, "field": f.field, "kind": f.kind, "value": _json(f.value), "message": f.message,
             "first_seen": now, "last_seen": now, "seen": 1} for f in new])
    for key, pid in have.items():
        if key in wanted:
            conn.execute(update(problems).where(problems.c.id == pid).values(
                last_seen=now, seen=problems.c.seen + 1, message=wanted[key].message, value=_json(wanted[key].value)))
    return new


def open_problems(engine: Engine, include_resolved: bool = False) -> list[Any]:
    """Problems with the contact's email and CRM ids, oldest first."""
    query = (select(problems, contacts.c.email, contacts.c.hubspot_id, contacts.c.salesforce_id)
             .join(contacts, contacts.c.id == problems.c.contact_id, isouter=True).order_by(problems.c.id))
    if not include_resolved:
        query = query.where(problems.c.resolved_at.is_(None))
    with engine.connect() as conn:
        return list(conn.execute(query))


def counts_by_kind(engine: Engine, since: datetime | None = None) -> dict[str, int]:
    """Open problems by kind; with `since`, only those first seen after it (new ones)."""
    query = select(problems.c.kind, func.count()).where(problems.c.resolved_at.is_(None)).group_by(problems.c.kind)
    if since is not None:
        query = query.where(problems.c.first_seen > since)
    with engine.connect() as conn:
        return dict(Counter({kind: int(n) for kind, n in conn.execute(query)}))


def _json(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return str(value)
