"""Incremental polling and backfill: mark what changed since a stored cursor, so no missed webhook is lost.

Cursors are high-water marks with an explicit policy: after a run the cursor is the newest
modification time seen, minus an overlap (clocks and commit order are not exact), so a record can be
marked twice but never skipped. Marking is idempotent; the worker reconciles whatever is marked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connector.core.conditions import as_datetime
from connector.core.pair import HubSpotRecord, SalesforceRecord
from connector.engine.clients import Clients
from connector.engine.lookup import hubspot_properties, salesforce_fields
from connector.settings.mapping_config import MappingConfig
from connector.store.exclusive import exclusive
from connector.store.inbox import DirtyMark, record
from connector.store.models import cursors

OVERLAP = timedelta(seconds=60)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MARK_BATCH = 500


@dataclass
class PollReport:
    marked: dict[str, int] = field(default_factory=dict)  # source -> records marked
    cursors: dict[str, str] = field(default_factory=dict)
    skipped: bool = False  # another process was polling


def get_cursor(engine: Engine, name: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar()
    return as_datetime(value) if value else None


def set_cursor(engine: Engine, name: str, value: datetime) -> None:
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    now = datetime.now(UTC)
    stmt = insert(cursors).values(name=name, value=value.isoformat(), updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[cursors.c.name], set_={"value": value.isoformat(),
                                                                            "updated_at": now})
    with engine.begin() as conn:
        conn.execute(stmt)


def poll(engine: Engine, clients: Clients, mapping: MappingConfig, prefix: str = "poll",
         since: datetime | None = None, limit: int | None = None, dry_run: bool = False,
         progress: Callable[[str, int], None] | None = None) -> PollReport:
    """Mark every record changed since its cursor (or `since`); advance the cursors unless dry_run.

    One poller at a time per installation (an advisory lock): two would read the same pages, spend the
    API budget twice and race on the cursors. A poll that finds the lock held is skipped (`skipped`)."""
    with exclusive(engine, f"poller:{prefix}", wait=False) as mine:
        if not mine:
            return PollReport(skipped=True)
        return _poll(engine, clients, mapping, prefix, since, limit, dry_run, progress)


def _poll(engine: Engine, clients: Clients, mapping: MappingConfig, prefix: str, since: datetime | None,
          limit: int | None, dry_run: bool, progress: Callable[[str, int], None] | None) -> PollReport:
    report = PollReport()
    sources: list[tuple[str, Callable[[datetime], Iterator[HubSpotRecord | SalesforceRecord]], str, str]] = [
        ("hubspot", lambda t: clients.hubspot.modified_since(t, hubspot_properties(mapping)), "hubspot", "contact")]
    for sobject in mapping.salesforce.objects:
        sources.append((f"salesforce.{sobject}", lambda t, o=sobject: clients.salesforce.modified_since(
            o, t, salesforce_fields(mapping, o)), "salesforce", sobject))
    for name, walk, system, object_type in sources:
        cursor_name = f"{prefix}:{name}"
        start = since or get_cursor(engine, cursor_name) or (EPOCH if prefix == "backfill" else _recent())
        newest = start
        pending: list[DirtyMark] = []
        count = 0
        for item in walk(start):
            if limit is not None and count >= limit:
                break
            count += 1
            pending.append(DirtyMark(system, item.id, object_type, urgent=False))
            if item.updated_at and item.updated_at > newest:
                newest = item.updated_at
            if len(pending) >= MARK_BATCH:
                _flush(engine, pending, dry_run)
                if not dry_run:  # resumable: a backfill that stops here starts again from this point
                    set_cursor(engine, cursor_name, newest - OVERLAP)
            if progress:
                progress(name, count)
        _flush(engine, pending, dry_run)
        report.marked[name] = count
        if not dry_run and newest > start:
            set_cursor(engine, cursor_name, newest - OVERLAP)
        report.cursors[name] = (newest - OVERLAP).isoformat() if newest > start else start.isoformat()
    return report


def _flush(engine: Engine, pending: list[DirtyMark], dry_run: bool) -> None:
    if pending and not dry_run:
        with engine.begin() as conn:
            record(conn, [], pending)
    pending.clear()


def _recent() -> datetime:
    """A first poll looks back one day: older history is what `nurture backfill` is for."""
    return datetime.now(UTC) - timedelta(days=1)
