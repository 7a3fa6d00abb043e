"""The durable, idempotent inbox: what a webhook request writes, in one transaction, before it answers.

Every statement here is a batch (one executemany or one multi-row statement per table), never a
statement per event: a 100-event HubSpot request costs a handful of statements, which is where the
ingest throughput comes from. Redelivery is a no-op by the unique keys (inbox: source + source event
id; engagement: event_key); a dirty mark is level-triggered, so marking it again only bumps `version`.

On SQLite the statements are plain SQL run with the driver's `executemany` on the caller's connection
(same transaction), with rows built as tuples in the exact text forms SQLAlchemy's SQLite types store
(DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, JSON by the dialect's serializer, Boolean as 0/1):
SQLAlchemy's per-row parameter processing cost more than SQLite's insert itself (docs/PERFORMANCE-
ingest.md). PostgreSQL keeps the Core statements below; tests/webhooks/test_inbox.py holds the two
paths to the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from connector.store.models import activity_hints, audit, contacts, counters, dead_letters, dirty, engagement, inbox

# A fact with this source is a hint (an outbound message's activity, unverified): it goes to
# activity_hints, and the worker reads the record back before any fact reaches the ledger
# (connector/engine/activity_hints.py).
HINT_SOURCE = "salesforce_hint"

try:  # a dozen times faster than json.dumps for an event; the stdlib's text is used whenever it refuses
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; without it the stdlib does the same job
    orjson = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One accepted webhook event, normalized across sources."""

    source: str  # hubspot | salesforce | engagement | poll
    source_event_id: str  # unique within the source; the dedupe key
    object_type: str  # contact | Lead | Contact | Task | ...
    object_id: str
    kind: str  # created | updated | deleted | privacy_deleted | merged | restored | association_changed | ...
    occurred_at: datetime | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DirtyMark:
    """"This record may have changed": the worker reads it fresh from its CRM."""

    system: str  # hubspot | salesforce
    object_id: str
    object_type: str
    urgent: bool = True


@dataclass(frozen=True, slots=True)
class EngagementFact:
    """One engagement fact for the ledger that scoring reads; stored once per event_key."""

    event_key: str
    source: str
    event_type: str
    occurred_at: datetime
    email: str | None = None
    hubspot_id: str | None = None
    salesforce_id: str | None = None
    content_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def _insert(conn: Connection, table: Any) -> Insert:
    """The dialect's own INSERT, which has ON CONFLICT on both SQLite and PostgreSQL."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"the store supports SQLite and PostgreSQL, not {dialect} — set store.url to one of them")


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(conn: Connection, name: str) -> Any:
    """Build each statement once per dialect: constructing ON CONFLICT clauses costs more than running them."""
    key = (conn.dialect.name, name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = _BUILDERS[name](_insert(conn, _TABLES[name]))
    return stmt


def record(
    conn: Connection,
    events: list[InboxEvent],
    marks: list[DirtyMark],
    *,
    facts: Iterable[EngagementFact] = (),
    counts: Mapping[str, float] | None = None,
    now: datetime | None = None,
) -> int:
    """Store events, dirty marks, engagement facts and counters in the caller's transaction.

    Returns how many events were new (the rest were redeliveries). The caller owns the transaction
    (`with engine.begin() as conn:`), so everything here commits or none of it does.
    """
    now = now or datetime.now(UTC)
    all_counts = dict(counts or {})
    new = write(conn, events, marks, facts=facts, counts=all_counts, now=now)
    increment(conn, all_counts, now)
    return new


def write(
    conn: Connection,
    events: list[InboxEvent],
    marks: list[DirtyMark],
    *,
    facts: Iterable[EngagementFact] = (),
    counts: dict[str, float] | None = None,
    now: datetime | None = None,
) -> int:
    """`record` without the counters upsert: redeliveries are added to `counts` for the caller to
    `increment` once."""
    return write_many(conn, [(events, marks, list(facts))], counts=counts, now=now)[0]


Batch = tuple[list[InboxEvent], list[DirtyMark], list[EngagementFact]]


def write_many(conn: Any, batches: list[Batch], *, counts: dict[str, float] | None = None,
               now: datetime | None = None) -> list[int]:
    """Several requests' writes in the caller's transaction (a group commit, webhooks/edge.py).

    Each batch's events are inserted on their own, so each request learns how many of its events were
    new; the dirty marks and engagement facts of all batches go in one statement each (a contact marked
    by several requests of the group is marked once, urgent if any was). `conn` is a SQLAlchemy
    Connection, or a sqlite3 connection whose transaction the caller commits. Redeliveries are added to
    `counts` (for one `increment` by the caller).
    """
    now = now or datetime.now(UTC)
    marks: dict[tuple[str, str], DirtyMark] = {}
    facts: list[EngagementFact] = []
    for _, batch_marks, batch_facts in batches:
        for m in batch_marks:
            seen = marks.get((m.system, m.object_id))
            marks[(m.system, m.object_id)] = m if seen is None or m.urgent or not seen.urgent else \
                DirtyMark(m.system, m.object_id, m.object_type, True)
        facts.extend(batch_facts)
    hints = {(f.event_type, f.event_key.partition(":")[2]): f for f in facts if f.source == HINT_SOURCE}
    # Sorted, so that every writer locks rows in the same order: on PostgreSQL two requests (or a request
    # and a worker's claim) that touch the same rows in different orders could otherwise deadlock.
    facts = sorted({f.event_key: f for f in facts if f.source != HINT_SOURCE}.values(), key=lambda f: f.event_key)
    ordered = [marks[k] for k in sorted(marks)]
    hint_rows = [{"sobject": k[0], "record_id": k[1], "person_id": f.salesforce_id or "",
                  "org_id": str(f.properties.get("org", ""))[:18], "received_at": now}
                 for k, f in sorted(hints.items())]
    if isinstance(conn, Connection) and conn.dialect.name != "sqlite":
        news = [_insert_events(conn, sorted(events, key=lambda e: e.source_event_id), now)
                for events, _, _ in batches]
        _upsert_marks(conn, ordered, now)
        _insert_facts(conn, facts)
        if hint_rows:
            stmt = postgresql.insert(activity_hints).values(hint_rows)
            conn.execute(stmt.on_conflict_do_update(index_elements=["sobject", "record_id"], set_={
                "person_id": stmt.excluded.person_id, "received_at": stmt.excluded.received_at}))
    else:
        news = _sqlite_write(conn, batches, ordered, facts, now)
        if hint_rows:
            cursor = _sqlite_driver(conn).cursor()
            cursor.executemany(_SQLITE_HINTS, [(r["sobject"], r["record_id"], r["person_id"], r["org_id"],
                                                _sqlite_time(now)) for r in hint_rows])
            cursor.close()
    if counts is not None:
        for (events, _, _), new in zip(batches, news, strict=True):
            if events and new < len(events):
                key = f"webhooks.{events[0].source}.duplicates"
                counts[key] = counts.get(key, 0) + len(events) - new
    return news


# --- SQLite: the driver's executemany on precompiled SQL ----------------------------------------------------------

_SQLITE_INBOX = (
    "INSERT INTO inbox (source, source_event_id, object_type, object_id, kind, occurred_at, received_at, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_event_id) DO NOTHING"
)
_SQLITE_DIRTY = (
    "INSERT INTO dirty (system, object_id, object_type, version, marked_at, due_at, attempts, urgent)"
    " VALUES (?, ?, ?, 1, ?, ?, 0, ?) ON CONFLICT (system, object_id) DO UPDATE SET"
    " version = dirty.version + 1, object_type = excluded.object_type, marked_at = excluded.marked_at,"
    " due_at = excluded.due_at, attempts = 0, urgent = (dirty.urgent OR excluded.urgent)"
)
_SQLITE_ENGAGEMENT = (
    "INSERT INTO engagement (event_key, source, event_type, occurred_at, email, hubspot_id, salesforce_id,"
    " contact_id, content_id, properties) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (event_key) DO NOTHING"
)
_SQLITE_HINTS = (
    "INSERT INTO activity_hints (sobject, record_id, person_id, org_id, received_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (sobject, record_id) DO UPDATE SET person_id = excluded.person_id,"
    " received_at = excluded.received_at"
)
_SQLITE_COUNTERS = (
    "INSERT INTO counters (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
    " value = counters.value + excluded.value, updated_at = excluded.updated_at"
)


def json_text(value: Any) -> str:
    """JSON text for a stored payload: orjson's compact form, or the stdlib's where orjson refuses
    (integers beyond 64 bits, lone surrogates), so anything the request parser accepted is stored."""
    if orjson is not None:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            pass
    return json.dumps(value)


def _sqlite_time(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DateTime text form, in UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _sqlite_driver(conn: Any) -> Any:
    """The sqlite3 connection under a SQLAlchemy Connection (same transaction), or the one given."""
    return conn.connection.driver_connection if isinstance(conn, Connection) else conn


def _json_dumps(conn: Any) -> Any:
    serializer = conn.dialect._json_serializer if isinstance(conn, Connection) else None
    return serializer or json_text


def _sqlite_write(conn: Any, batches: list[Batch], marks: list[DirtyMark], facts: list[EngagementFact],
                  now: datetime) -> list[int]:
    dumps = _json_dumps(conn)
    stamp = _sqlite_time(now)
    cursor = _sqlite_driver(conn).cursor()
    try:
        news = []
        for events, _, _ in batches:
            if not events:
                news.append(0)
                continue
            cursor.executemany(_SQLITE_INBOX, [
                (e.source, e.source_event_id, e.object_type, e.object_id, e.kind,
                 None if e.occurred_at is None else _sqlite_time(e.occurred_at), stamp, dumps(e.payload))
                for e in events])
            news.append(cursor.rowcount)
        if marks:
            cursor.executemany(_SQLITE_DIRTY, [
                (m.system, m.object_id, m.object_type, stamp, stamp, int(m.urgent)) for m in marks])
        if facts:
            cursor.executemany(_SQLITE_ENGAGEMENT, [
                (f.event_key, f.source, f.event_type, _sqlite_time(f.occurred_at), f.email, f.hubspot_id,
                 f.salesforce_id, f.content_id, dumps(f.properties)) for f in facts])
        return news
    finally:
        cursor.close()


# --- PostgreSQL (and the reference for SQLite): SQLAlchemy Core ---------------------------------------------------

def _inbox_stmt(stmt: Insert) -> Any:
    # A batch may repeat an id (HubSpot resends inside one request too); the conflict clause absorbs it.
    stmt = stmt.on_conflict_do_nothing(index_elements=["source", "source_event_id"])
    # SQLite's executemany reports the rows it changed and is the fastest path there; psycopg reports
    # no rowcount for a batch, so PostgreSQL counts the new rows by RETURNING.
    return stmt if isinstance(stmt, sqlite.Insert) else stmt.returning(inbox.c.id)


def _dirty_stmt(stmt: Insert) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=["system", "object_id"],
        set_={
            # A new version tells a worker holding the old one not to clear the mark when it finishes.
            "version": dirty.c.version + 1,
            "object_type": stmt.excluded.object_type,
            "marked_at": stmt.excluded.marked_at,
            # Fresh evidence is worth a prompt retry even if earlier attempts backed off.
            "due_at": stmt.excluded.due_at,
            "attempts": 0,
            "urgent": or_(dirty.c.urgent, stmt.excluded.urgent),
        },
    )


def _engagement_stmt(stmt: Insert) -> Any:
    return stmt.on_conflict_do_nothing(index_elements=["event_key"])


def _counters_stmt(stmt: Insert) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"value": counters.c.value + stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )


_TABLES = {"inbox": inbox, "dirty": dirty, "engagement": engagement, "counters": counters}
_BUILDERS = {"inbox": _inbox_stmt, "dirty": _dirty_stmt, "engagement": _engagement_stmt, "counters": _counters_stmt}


def _insert_events(conn: Connection, events: list[InboxEvent], now: datetime) -> int:
    if not events:
        return 0
    rows = [
        {"source": e.source, "source_event_id": e.source_event_id, "object_type": e.object_type,
         "object_id": e.object_id, "kind": e.kind, "occurred_at": e.occurred_at, "received_at": now,
         "payload": e.payload}
        for e in events
    ]
    result = conn.execute(_statement(conn, "inbox"), rows)
    return result.rowcount if conn.dialect.name == "sqlite" else len(result.all())


def _upsert_marks(conn: Connection, marks: list[DirtyMark], now: datetime) -> None:
    if not marks:
        return
    # PostgreSQL refuses to update one row twice in a statement, and a second mark adds nothing.
    unique = {(m.system, m.object_id): m for m in marks}
    rows = [
        {"system": m.system, "object_id": m.object_id, "object_type": m.object_type, "version": 1,
         "marked_at": now, "due_at": now, "attempts": 0, "urgent": m.urgent}
        for m in unique.values()
    ]
    conn.execute(_statement(conn, "dirty"), rows)


def _insert_facts(conn: Connection, facts: list[EngagementFact]) -> None:
    if not facts:
        return
    rows = [
        {"event_key": f.event_key, "source": f.source, "event_type": f.event_type, "occurred_at": f.occurred_at,
         "email": f.email, "hubspot_id": f.hubspot_id, "salesforce_id": f.salesforce_id, "contact_id": None,
         "content_id": f.content_id, "properties": f.properties}
        for f in facts
    ]
    conn.execute(_statement(conn, "engagement"), rows)


def increment(conn: Any, counts: Mapping[str, float], now: datetime | None = None) -> None:
    """Add to shared counters (rejections by reason, ignored event types, duplicates)."""
    merged: dict[str, float] = {}
    for name, value in counts.items():
        if value:
            merged[name[:128]] = merged.get(name[:128], 0) + value
    counts = merged
    if not counts:
        return
    now = now or datetime.now(UTC)
    if not isinstance(conn, Connection) or conn.dialect.name == "sqlite":
        stamp = _sqlite_time(now)
        cursor = _sqlite_driver(conn).cursor()
        try:
            cursor.executemany(_SQLITE_COUNTERS, [(name, value, stamp) for name, value in sorted(counts.items())])
        finally:
            cursor.close()
        return
    conn.execute(_statement(conn, "counters"),
                 [{"name": name, "value": value, "updated_at": now} for name, value in sorted(counts.items())])


def _rows_about(table: Any, contact_ids: set[int], hubspot_ids: set[str], salesforce_ids: set[str]) -> list[Any]:
    """Conditions matching a table's rows about one person: by contact, or by a record of either CRM."""
    who = [table.c.contact_id.in_(contact_ids)] if contact_ids else []
    for system, ids in (("hubspot", hubspot_ids), ("salesforce", salesforce_ids)):
        if ids:
            who.append((table.c.system == system) & table.c.object_id.in_(ids))
    return who


def erase_person(conn: Connection, *, hubspot_id: str | None = None, email: str | None = None) -> int:
    """Forget what the store holds about one person (HubSpot privacy deletion / GDPR erasure).

    Removes every engagement fact, blanks the payloads of the inbox events about their records, the
    before/after values of their audit rows and the payloads of their dead letters, and empties their
    contacts row. The inbox rows themselves stay, payload-free, so a late redelivery of an old
    event stays a duplicate instead of bringing the data back. Returns the number of rows touched.
    """
    if not hubspot_id and not email:
        return 0
    who = []
    if hubspot_id:
        who.append(contacts.c.hubspot_id == hubspot_id)
    if email:
        who.append(contacts.c.email == email.strip().lower())
    rows = conn.execute(select(contacts.c.id, contacts.c.email, contacts.c.hubspot_id, contacts.c.salesforce_id,
                               contacts.c.salesforce_type).where(or_(*who))).all()
    emails = {e for e in [email and email.strip().lower(), *(r.email for r in rows)] if e}
    hubspot_ids = {h for h in [hubspot_id, *(r.hubspot_id for r in rows)] if h}
    salesforce_ids = {r.salesforce_id for r in rows if r.salesforce_id}
    contact_ids = {r.id for r in rows}

    touched = 0
    conditions = []
    if emails:
        conditions.append(engagement.c.email.in_(emails))
    if hubspot_ids:
        conditions.append(engagement.c.hubspot_id.in_(hubspot_ids))
    if salesforce_ids:
        conditions.append(engagement.c.salesforce_id.in_(salesforce_ids))
    if contact_ids:
        conditions.append(engagement.c.contact_id.in_(contact_ids))
    touched += conn.execute(delete(engagement).where(or_(*conditions))).rowcount or 0

    objects = [(inbox.c.source == "hubspot") & inbox.c.object_id.in_(hubspot_ids)] if hubspot_ids else []
    if salesforce_ids:
        objects.append((inbox.c.source == "salesforce") & inbox.c.object_id.in_(salesforce_ids))
    if objects:
        touched += conn.execute(
            update(inbox).where(or_(*objects)).values(payload=literal({"erased": True}, inbox.c.payload.type))
        ).rowcount or 0
    # The audit and dead letters keep that a write happened (the accounting), not what it wrote.
    who_audit = _rows_about(audit, contact_ids, hubspot_ids, salesforce_ids)
    if who_audit:
        touched += conn.execute(update(audit).where(or_(*who_audit)).values(
            before=None, after=None, message="erased (privacy deletion)")).rowcount or 0
    who_dead = _rows_about(dead_letters, contact_ids, hubspot_ids, salesforce_ids)
    if who_dead:
        touched += conn.execute(update(dead_letters).where(or_(*who_dead)).values(
            payload=literal({"erased": True}, dead_letters.c.payload.type), message="erased (privacy deletion)",
        )).rowcount or 0
    if contact_ids:
        # Keep the row as a tombstone without personal data: the Salesforce record stays linked to it, and
        # the flag stops the next sync from creating the erased person in HubSpot again. `_privacy_deleted`
        # lets the worker apply hubspot.deletions to the linked Salesforce record, which is marked for it.
        touched += conn.execute(update(contacts).where(contacts.c.id.in_(contact_ids)).values(
            email=None, hubspot_id=None, brain={}, synced={"_hubspot_deleted": True, "_privacy_deleted": True},
            next_due_at=None,
        )).rowcount or 0
        linked = [DirtyMark("salesforce", r.salesforce_id, r.salesforce_type or "Lead") for r in rows
                  if r.salesforce_id]
        if linked:
            record(conn, [], linked)
    return touched
