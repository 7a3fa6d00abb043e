"""Retention: the inbox, audit, engagement ledger and dead letters stop growing forever.

`store.retention` in app.yaml says how long each is kept; `nurture prune` (run it daily from cron or a
systemd timer, docs/DEPLOY.md) deletes what is older, in chunks so no statement holds locks for long.
The inbox doubles as the dedupe window for redeliveries, so its retention is at least two days (both CRMs
retry for about a day). Unresolved dead letters are never pruned: they are work someone must look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, select

from connector.settings.app_config import Retention
from connector.store.leases import sweep
from connector.store.models import activity_hints, audit, dead_letters, engagement, inbox

CHUNK = 5000
HINTS_DAYS = 7  # a hint the worker never got to (its person was never claimed) is stale by then


@dataclass
class PruneReport:
    deleted: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def prune(engine: Engine, retention: Retention, now: datetime | None = None, dry_run: bool = False) -> PruneReport:
    now = now or datetime.now(UTC)
    report = PruneReport(dry_run=dry_run)
    plans = [
        ("inbox", inbox, inbox.c.received_at < now - timedelta(days=retention.inbox_days)),
        ("audit", audit, audit.c.at < now - timedelta(days=retention.audit_days)),
        ("engagement", engagement, engagement.c.occurred_at < now - timedelta(days=retention.engagement_days)),
        ("dead_letters", dead_letters, dead_letters.c.resolved_at.is_not(None)
         & (dead_letters.c.resolved_at < now - timedelta(days=retention.dead_letters_days))),
    ]
    for name, table, old in plans:
        if dry_run:
            with engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(table).where(old)).scalar_one()
            report.deleted[name] = int(count)
            continue
        total = 0
        while True:  # chunks: short transactions, so webhooks and workers never wait on a long delete
            with engine.begin() as conn:
                ids = select(table.c.id).where(old).limit(CHUNK).scalar_subquery()
                gone = conn.execute(delete(table).where(table.c.id.in_(ids))).rowcount or 0
            total += gone
            if gone < CHUNK:
                break
        report.deleted[name] = total
    if not dry_run:
        with engine.begin() as conn:
            report.deleted["activity_hints"] = conn.execute(delete(activity_hints).where(
                activity_hints.c.received_at < now - timedelta(days=HINTS_DAYS))).rowcount or 0
            report.deleted["leases"] = sweep(conn, now)
    return report
