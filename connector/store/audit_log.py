"""Writing and reading the audit log and the dead-letter list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from connector.store.models import audit, contacts, dead_letters


@dataclass(frozen=True)
class AuditEntry:
    system: str
    object_type: str
    object_id: str | None
    action: str  # create | update | delete | link | duplicate | error | task | enroll
    field: str | None = None
    before: Any = None
    after: Any = None
    rule: str | None = None
    message: str | None = None
    contact_id: int | None = None


def write_audit(conn: Connection, run_id: str, entries: list[AuditEntry], now: datetime | None = None) -> None:
    if not entries:
        return
    now = now or datetime.now(UTC)
    conn.execute(insert(audit), [{"run_id": run_id, "at": now, **_json_safe(vars(e))} for e in entries])


def write_dead_letter(conn: Connection, run_id: str, system: str, object_type: str, object_id: str | None,
                      operation: str, payload: dict[str, Any], code: str, message: str,
                      contact_id: int | None = None, now: datetime | None = None) -> bool:
    """File a refusal once: the same refusal again (same record, operation, code and fields) while it is open
    only counts another attempt. Returns whether a new letter was filed."""
    same = select(dead_letters.c.id, dead_letters.c.payload).where(
        dead_letters.c.resolved_at.is_(None), dead_letters.c.system == system,
        dead_letters.c.operation == operation, dead_letters.c.error_code == code,
        dead_letters.c.object_id.is_(None) if object_id is None else dead_letters.c.object_id == object_id)
    if object_id is None and contact_id is not None:
        same = same.where(dead_letters.c.contact_id == contact_id)
    for row in conn.execute(same):
        if sorted(row.payload or {}) == sorted(payload):
            conn.execute(update(dead_letters).where(dead_letters.c.id == row.id).values(
                attempts=dead_letters.c.attempts + 1, run_id=run_id, message=message, payload=_json_safe(payload)))
            return False
    conn.execute(insert(dead_letters).values(
        created_at=now or datetime.now(UTC), run_id=run_id, contact_id=contact_id, system=system,
        object_type=object_type, object_id=object_id, operation=operation, payload=_json_safe(payload),
        error_code=code, message=message))
    return True


def history(engine: Engine, email: str) -> list[Any]:
    with engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(contacts.c.id).where(contacts.c.email == email.lower()))]
        if not ids:
            return []
        return list(conn.execute(select(audit).where(audit.c.contact_id.in_(ids)).order_by(audit.c.id)))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
