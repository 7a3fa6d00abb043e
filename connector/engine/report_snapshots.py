"""Computed reports kept in the store, so a dashboard page reads one row however large the history is.

A snapshot holds every report for one period (`since` as the admin wrote it, e.g. "90d"). Pages use it
while it is fresh (FRESH_S); when it is older, the first page that sees it recomputes it in a background
thread and keeps showing the stale one meanwhile, saying how old it is. With no snapshot yet, a small
store is computed on the spot; a large one shows "computing" and refreshes itself.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from connector.core.history import Report
from connector.engine.report_data import REPORTS, build_report, load_history, parse_since
from connector.settings import Settings
from connector.store.models import contacts, report_snapshots

log = logging.getLogger(__name__)
FRESH_S = 60.0
INLINE_UP_TO = 20_000  # contacts: below this a missing snapshot is computed during the request (< 1 s or so)

_running: set[tuple[str, str]] = set()
_lock = threading.Lock()


def compute(engine: Engine, settings: Settings, since: str, now: datetime | None = None) -> dict[str, Report]:
    now = now or datetime.now(UTC)
    history = load_history(engine, settings, parse_since(since, now), now)
    reports = {name: build_report(name, history, settings) for name in REPORTS}
    with engine.begin() as conn:
        conn.execute(delete(report_snapshots).where(report_snapshots.c.since == since))
        conn.execute(insert(report_snapshots).values(
            since=since, computed_at=now, body={name: asdict(r) for name, r in reports.items()}))
    return reports


def load(engine: Engine, since: str) -> tuple[datetime, dict[str, Report]] | None:
    with engine.connect() as conn:
        row = conn.execute(select(report_snapshots).where(report_snapshots.c.since == since)).first()
    if row is None:
        return None
    at = row.computed_at if row.computed_at.tzinfo else row.computed_at.replace(tzinfo=UTC)
    return at, {name: Report(**body) for name, body in row.body.items()}


def refresh_in_background(engine: Engine, settings: Settings, since: str) -> None:
    key = (str(engine.url), since)
    with _lock:
        if key in _running:
            return
        _running.add(key)

    def work() -> None:
        try:
            compute(engine, settings, since)
        except Exception:
            log.exception("reports for %s could not be computed", since)
        finally:
            with _lock:
                _running.discard(key)

    threading.Thread(target=work, name=f"reports-{since}", daemon=True).start()


def get(engine: Engine, settings: Settings, since: str) -> tuple[datetime | None, dict[str, Report] | None]:
    """(computed at, reports), or (None, None) while a large store's first snapshot is being computed."""
    found = load(engine, since)
    now = datetime.now(UTC)
    if found is not None:
        if (now - found[0]).total_seconds() > FRESH_S:
            refresh_in_background(engine, settings, since)
        return found
    with engine.connect() as conn:
        size = conn.execute(select(func.count()).select_from(contacts)).scalar_one()
    if size <= INLINE_UP_TO:
        return now, compute(engine, settings, since, now)
    refresh_in_background(engine, settings, since)
    return None, None


def as_json(reports: dict[str, Report]) -> dict[str, Any]:
    return {name: asdict(r) for name, r in reports.items()}
