"""connector.store.inbox on SQLite and (where reachable) PostgreSQL: batch writes, idempotence, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, func, insert, select

from connector.store.inbox import (
    DirtyMark,
    EngagementFact,
    InboxEvent,
    erase_person,
    increment,
    record,
    write_many,
)
from connector.store.models import contacts, counters, dirty, engagement, inbox

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def events(ids: range, object_id: str = "7") -> list[InboxEvent]:
    return [InboxEvent("hubspot", f"1:2:{i}", "contact", object_id, "updated", NOW, {"i": i}) for i in ids]


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_record_is_idempotent_and_counts_new_rows(store_engine: Engine) -> None:
    fact = EngagementFact("src:1", "src", "page_view", NOW, email="a@example.com")
    with store_engine.begin() as conn:
        assert record(conn, events(range(100)), [DirtyMark("hubspot", "7", "contact")] * 3, facts=[fact],
                      counts={"webhooks.hubspot.ignored.deal.creation": 2}) == 100
    with store_engine.begin() as conn:
        assert record(conn, events(range(50, 150)), [DirtyMark("hubspot", "7", "contact")], facts=[fact]) == 50
    assert count(store_engine, inbox) == 150 and count(store_engine, engagement) == 1
    with store_engine.connect() as conn:
        mark = conn.execute(select(dirty)).one()
        assert (mark.version, mark.attempts, mark.urgent) == (2, 0, True)
        assert dict(conn.execute(select(counters.c.name, counters.c.value)).all()) == {
            "webhooks.hubspot.ignored.deal.creation": 2, "webhooks.hubspot.duplicates": 50}


def test_a_mark_resets_backoff(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        record(conn, [], [DirtyMark("salesforce", "00Q5e00000AbCdEEAZ", "Lead")])
        conn.execute(dirty.update().values(attempts=5, due_at=datetime(2030, 1, 1, tzinfo=UTC)))
        record(conn, [], [DirtyMark("salesforce", "00Q5e00000AbCdEEAZ", "Lead")], now=NOW)
        mark = conn.execute(select(dirty)).one()
    assert mark.attempts == 0 and mark.version == 2 and mark.due_at.replace(tzinfo=UTC) == NOW


def test_failed_transaction_stores_nothing(store_engine: Engine) -> None:
    try:
        with store_engine.begin() as conn:
            record(conn, events(range(10)), [DirtyMark("hubspot", "7", "contact")])
            raise RuntimeError("crash between the write and the commit")
    except RuntimeError:
        pass
    assert count(store_engine, inbox) == 0 and count(store_engine, dirty) == 0


def test_erase_person(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        conn.execute(insert(contacts).values(email="gone@example.com", hubspot_id="7", salesforce_id="00Q5e00000AbCdE",
                                             synced={}, brain={}, created_at=NOW, updated_at=NOW))
        record(conn, events(range(3)), [], facts=[
            EngagementFact("s:1", "s", "page_view", NOW, email="gone@example.com"),
            EngagementFact("s:2", "s", "page_view", NOW, salesforce_id="00Q5e00000AbCdE"),
            EngagementFact("s:3", "s", "page_view", NOW, email="kept@example.com")])
        record(conn, events(range(3, 4), object_id="8"), [])
        assert erase_person(conn, hubspot_id="7") > 0
        increment(conn, {})
    with store_engine.connect() as conn:
        (row,) = conn.execute(select(contacts)).all()  # a tombstone: no personal data, still blocks re-creation
        assert (row.email, row.hubspot_id, row.brain, row.synced) == (
            None, None, {}, {"_hubspot_deleted": True, "_privacy_deleted": True})
        assert row.salesforce_id == "00Q5e00000AbCdE"
        assert [r.event_key for r in conn.execute(select(engagement))] == ["s:3"]
        payloads = {r.object_id: r.payload for r in conn.execute(select(inbox))}
    assert payloads == {"7": {"erased": True}, "8": {"i": 3}}


def test_sqlite_driver_path_stores_what_sqlalchemy_stores(sqlite_engine: Engine) -> None:
    """The SQLite fast path (plain SQL, rows as tuples) must write exactly what the Core statements write."""
    from connector.store import inbox as store_inbox

    def batch(source: str) -> tuple[list[InboxEvent], list[DirtyMark], list[EngagementFact]]:
        when = datetime(2026, 11, 20, 15, 30, 1, 250, tzinfo=UTC)
        return ([InboxEvent(source, "1", "contact", "7", "updated", when, {"é": [1, 2.5, None, True], "n": 10**30}),
                 InboxEvent(source, "2", "Lead", "00Q", "created", None, {})],
                [DirtyMark(source, "7", "contact"), DirtyMark(source, "8", "Lead", urgent=False)],
                [EngagementFact(f"{source}:1", source, "page_view", when, "a@example.com", "7", None, "c1",
                                {"k": "v"})])

    with sqlite_engine.begin() as conn:
        events, marks, facts = batch("core")
        assert store_inbox._insert_events(conn, events, NOW) == 2
        store_inbox._upsert_marks(conn, marks, NOW)
        store_inbox._insert_facts(conn, facts)
        conn.execute(insert(counters).values(name="core", value=1.5, updated_at=NOW))
        assert store_inbox.write_many(conn.connection.driver_connection, [batch("fast")], now=NOW) == [2]
        store_inbox.increment(conn, {"fast": 1.5}, NOW)

    def rows(table: Any, key: str) -> dict[str, list[tuple[Any, ...]]]:
        with sqlite_engine.connect() as conn:
            found = [r._asdict() for r in conn.execute(select(table))]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for row in found:
            name = row.pop(key)
            row.pop("id", None)
            row.pop("event_key", None)
            out.setdefault(name, []).append(tuple(sorted(row.items())))
        return out

    for table, key in ((inbox, "source"), (dirty, "system"), (engagement, "source"), (counters, "name")):
        found = rows(table, key)
        assert found["core"] == found["fast"], table.name
    with sqlite_engine.connect() as conn:  # the text forms too, not only what SQLAlchemy reads back
        raw = conn.exec_driver_sql("SELECT source, occurred_at, received_at, payload FROM inbox"
                                   " WHERE source_event_id = '1'")
        texts = {r[0]: r[1:] for r in raw}
    assert texts["fast"][:2] == texts["core"][:2] == ("2026-11-20 15:30:01.000250", "2026-11-20 15:00:00.000000")
    assert json.loads(texts["fast"][2]) == json.loads(texts["core"][2])


def test_write_many_counts_each_batch_and_merges_marks(store_engine: Engine) -> None:
    counts: dict[str, float] = {}
    with store_engine.begin() as conn:
        news = write_many(conn, [(events(range(3)), [DirtyMark("hubspot", "7", "contact", urgent=False)], []),
                                 (events(range(2, 6)), [DirtyMark("hubspot", "7", "contact")], []),
                                 ([], [], [])], counts=counts, now=NOW)
    assert news == [3, 3, 0] and counts == {"webhooks.hubspot.duplicates": 1}
    with store_engine.connect() as conn:
        mark = conn.execute(select(dirty)).one()
    assert (mark.version, mark.urgent) == (1, True)  # one mark for the group, urgent if any request said so
    assert count(store_engine, inbox) == 6


def test_the_sqlite_path_stores_aware_times_in_utc(sqlite_engine: Engine) -> None:
    when = datetime(2026, 11, 20, 16, 30, tzinfo=timezone(timedelta(hours=1)))
    with sqlite_engine.begin() as conn:
        record(conn, [InboxEvent("hubspot", "1", "contact", "7", "updated", when, {})], [], now=NOW)
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT occurred_at FROM inbox").scalar() == "2026-11-20 15:30:00.000000"
