"""Retention (`nurture prune`) and privacy erasure reaching the audit and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update

from connector.settings.app_config import Retention
from connector.store.audit_log import AuditEntry, write_audit, write_dead_letter
from connector.store.inbox import EngagementFact, InboxEvent, erase_person, record
from connector.store.models import audit, contacts, dead_letters, engagement, inbox
from connector.store.prune import prune

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _seed(engine: Engine, age: timedelta, n: int, tag: str) -> None:
    at = NOW - age
    with engine.begin() as conn:
        record(conn, [InboxEvent("hubspot", f"{tag}{i}", "contact", str(i), "updated", at, {"v": i})
                      for i in range(n)], [],
               facts=[EngagementFact(f"{tag}:{i}", "engagement", "email_open", at, hubspot_id=str(i))
                      for i in range(n)], now=at)
        write_audit(conn, tag, [AuditEntry("hubspot", "contact", str(i), "update", "firstname", "a", "b")
                                for i in range(n)], at)
        write_dead_letter(conn, tag, "hubspot", "contact", tag, "update", {"x": 1}, "E", "refused", now=at)


def test_prune_deletes_only_what_retention_lets_go(store_engine: Engine) -> None:
    _seed(store_engine, timedelta(days=1000), 7, "old")
    _seed(store_engine, timedelta(days=1), 3, "new")
    with store_engine.begin() as conn:  # one old dead letter was resolved long ago; the other is open work
        conn.execute(update(dead_letters).where(dead_letters.c.run_id == "old")
                     .values(resolved_at=NOW - timedelta(days=400)))
        write_dead_letter(conn, "open", "hubspot", "contact", "2", "update", {}, "E", "still refused",
                          now=NOW - timedelta(days=1000))
    dry = prune(store_engine, Retention(), now=NOW, dry_run=True)
    assert dry.deleted == {"inbox": 7, "audit": 7, "engagement": 7, "dead_letters": 1}
    assert _count(store_engine, inbox) == 10, "a dry run deletes nothing"
    report = prune(store_engine, Retention(), now=NOW)
    assert {k: report.deleted[k] for k in dry.deleted} == dry.deleted
    assert (_count(store_engine, inbox), _count(store_engine, audit), _count(store_engine, engagement)) == (3, 3, 3)
    with store_engine.connect() as conn:
        assert sorted(conn.execute(select(dead_letters.c.run_id)).scalars()) == ["new", "open"]


def test_a_privacy_deletion_erases_the_person_from_audit_and_dead_letters(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        conn.execute(insert(contacts).values(id=5, hubspot_id="7", salesforce_id="00Q000000000007", email="p@x.io",
                                             synced={"firstname": "Pat"}, brain={}, created_at=NOW, updated_at=NOW))
        write_audit(conn, "r", [AuditEntry("hubspot", "contact", "7", "update", "firstname", "Pat", "Patricia",
                                           contact_id=5),
                                AuditEntry("salesforce", "Lead", "00Q000000000007", "update", "FirstName", "P",
                                           "Patricia"),
                                AuditEntry("hubspot", "contact", "8", "update", "firstname", "Kim", "Kimberly")], NOW)
        write_dead_letter(conn, "r", "salesforce", "Lead", "00Q000000000007", "update", {"FirstName": "Patricia"},
                          "E", "refused", contact_id=5, now=NOW)
        assert erase_person(conn, hubspot_id="7") > 0
    with store_engine.connect() as conn:
        rows = {r.object_id: r for r in conn.execute(select(audit))}
        dead = conn.execute(select(dead_letters)).one()
    assert rows["7"].before is None and rows["7"].after is None and rows["7"].field == "firstname"
    assert rows["00Q000000000007"].after is None
    assert rows["8"].after == "Kimberly", "someone else's audit is untouched"
    assert dead.payload == {"erased": True} and "Patricia" not in (dead.message or "")
