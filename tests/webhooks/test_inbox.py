"""connector.store.inbox on SQLite and (where reachable) PostgreSQL: batch writes, idempotence, erasure."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select

from connector.store.inbox import DirtyMark, EngagementFact, InboxEvent, erase_person, increment, record
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
        assert conn.execute(select(func.count()).select_from(contacts)).scalar() == 0
        assert [r.event_key for r in conn.execute(select(engagement))] == ["s:3"]
        payloads = {r.object_id: r.payload for r in conn.execute(select(inbox))}
    assert payloads == {"7": {"erased": True}, "8": {"i": 3}}
