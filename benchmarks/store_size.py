"""Store size per contact: how big the store grows, for docs/DEPLOY.md's "per million contacts".

    .venv/bin/python benchmarks/store_size.py [--contacts 20000] [--postgres URL]

Fills a fresh store with N linked contacts shaped like the sync writes them (a merge base of the
mapped fields, a brain state), and per contact the rows a month of ordinary activity leaves behind:
5 inbox events (webhooks), 10 engagement facts, 6 audit rows. Measures the file (SQLite, after VACUUM)
or pg_total_relation_size per table (PostgreSQL), and scales to a million contacts.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from connector.store import open_engine, upgrade
from connector.store.audit_log import AuditEntry, write_audit
from connector.store.inbox import EngagementFact, InboxEvent, record
from connector.store.models import contacts

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TYPES = ["email_open", "email_click", "content_download", "webinar_attend"]


def fill(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(1)
    for start in range(0, n, 1000):
        ids = range(start, min(n, start + 1000))
        with engine.begin() as conn:
            conn.execute(insert(contacts), [{
                "email": f"person{i}@company{i % 997}.example", "hubspot_id": str(10_000_000 + i),
                "salesforce_id": f"00Q{i:015d}", "salesforce_type": "Lead",
                "synced": {"email": f"person{i}@company{i % 997}.example", "firstname": "Firstname",
                           "lastname": f"Lastname{i}", "company": f"Company {i % 997}", "job_title": "Director of IT",
                           "phone": "+1 415 555 0100", "industry": "Software", "employees": 250, "country": "US",
                           "lead_status": "NEW", "lifecycle_stage": "lead", "persona": "technical_buyer"},
                "brain": {"fit": 30, "engagement": 12.5, "segments": ["smb", "technical"], "stage": "consideration",
                          "track": "nurture_technical", "touches": {"t1": "2026-10-01T00:00:00+00:00"}},
                "created_at": NOW, "updated_at": NOW} for i in ids])
            events = [InboxEvent("hubspot", f"62515:4242:{i}:{k}", "contact", str(10_000_000 + i), "updated",
                                 NOW, {"eventId": i * 10 + k, "subscriptionId": 4242, "portalId": 62515,
                                       "occurredAt": 1764000000000, "subscriptionType": "contact.propertyChange",
                                       "objectId": 10_000_000 + i, "propertyName": "jobtitle",
                                       "propertyValue": "Director of IT", "changeSource": "CRM",
                                       "attemptNumber": 0})
                      for i in ids for k in range(5)]
            facts = [EngagementFact(f"engagement:{uuid.UUID(int=rng.getrandbits(128))}", "engagement",
                                    rng.choice(TYPES), NOW - timedelta(days=rng.randrange(60)),
                                    email=f"person{i}@company{i % 997}.example", content_id="ebook-1")
                     for i in ids for _ in range(10)]
            record(conn, events, [], facts=facts, now=NOW)
            write_audit(conn, "run", [AuditEntry("hubspot", "contact", str(10_000_000 + i), "update", "jobtitle",
                                                 "Head of IT", "Director of IT", "two_way: HubSpot changed")
                                      for i in ids for _ in range(6)], NOW)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--postgres", default=os.environ.get("NURTURE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "size.db"
        engine = open_engine(f"sqlite:///{path}")
        upgrade(engine)
        fill(engine, args.contacts)
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")
        engine.dispose()
        size = path.stat().st_size
        print(f"SQLite: {size / args.contacts:,.0f} bytes per contact -> "
              f"{size / args.contacts * 1_000_000 / 2**30:.1f} GiB per million contacts")
    if args.postgres:
        schema = f"size_{uuid.uuid4().hex[:8]}"
        admin = open_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = open_engine(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
        try:
            upgrade(engine)
            fill(engine, args.contacts)
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                rows = conn.execute(text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"), {"s": schema}).all()
            total = sum(r[1] for r in rows)
            per = {r[0]: r[1] / args.contacts for r in rows if r[1] > 16384}
            print(f"PostgreSQL: {total / args.contacts:,.0f} bytes per contact -> "
                  f"{total / args.contacts * 1_000_000 / 2**30:.1f} GiB per million contacts; by table: "
                  + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])))
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
