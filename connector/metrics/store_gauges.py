"""Figures read from the store when Prometheus scrapes: the same for every process and node, and right
after a restart. One short query each, cached for a few seconds so that several scrapers cost one read.

Counters here (rejected webhooks, audit actions, stage transitions) only grow while their rows are kept;
pruning old audit rows reads as a counter reset, which Prometheus' rate() already handles.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Text, cast, func, inspect, select

from connector.core.conditions import as_datetime
from connector.crm.budget import WINDOW_S
from connector.settings import Settings
from connector.store.models import audit, counters, dead_letters, dirty, engagement, inbox

CACHE_S = 5.0


class StoreCollector:
    """A prometheus-client custom collector over the store."""

    def __init__(self, engine: Engine, settings: Settings, cache_s: float = CACHE_S) -> None:
        self.engine = engine
        self.cache_s = cache_s
        self.settings = settings
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Any]] = (0.0, [])

    def collect(self) -> Iterator[Any]:
        with self._lock:
            at, families = self._cached
            if time.monotonic() - at >= self.cache_s:
                families = self._read()
                self._cached = (time.monotonic(), families)
        yield from families

    def describe(self) -> list[Any]:
        return []  # read at scrape time only; never while registering

    def _read(self) -> list[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        now = datetime.now(UTC)
        out: list[Any] = []
        with self.engine.connect() as conn:
            depth = GaugeMetricFamily("nurture_queue_depth", "Records marked changed, waiting for the worker.",
                                      labels=["urgent"])
            oldest = None
            for urgent, count, first in conn.execute(select(dirty.c.urgent, func.count(), func.min(dirty.c.marked_at))
                                                     .group_by(dirty.c.urgent)):
                depth.add_metric(["true" if urgent else "false"], count)
                first = as_datetime(first)
                oldest = first if oldest is None or (first and first < oldest) else oldest
            out.append(depth)
            out.append(GaugeMetricFamily("nurture_queue_oldest_age_seconds",
                                         "Age of the oldest record waiting for the worker (the sync lag).",
                                         value=(now - oldest).total_seconds() if oldest else 0.0))
            stored = GaugeMetricFamily("nurture_inbox_events", "Webhook events kept in the inbox, by source and type.",
                                       labels=["source", "type"])
            for source, kind, count in conn.execute(select(inbox.c.source, inbox.c.kind, func.count())
                                                    .group_by(inbox.c.source, inbox.c.kind)):
                stored.add_metric([source, kind], count)
            out.append(stored)
            ledger = GaugeMetricFamily("nurture_engagement_facts", "Engagement facts in the ledger, by type.",
                                       labels=["type"])
            for kind, count in conn.execute(select(engagement.c.event_type, func.count())
                                            .group_by(engagement.c.event_type)):
                ledger.add_metric([kind], count)
            out.append(ledger)
            rejected = CounterMetricFamily("nurture_webhook_rejected", "Webhook requests refused, by source and "
                                           "reason (all processes, kept in the store).", labels=["source", "reason"])
            budget_rows = {}
            for name, value in conn.execute(select(counters.c.name, counters.c.value)):
                parts = name.split(".")
                if len(parts) == 4 and parts[0] == "webhooks" and parts[2] == "rejected":
                    rejected.add_metric([parts[1], parts[3]], value)
                budget_rows[name] = value
            out.append(rejected)
            out.append(self._budget(budget_rows, now))
            open_letters = conn.execute(select(func.count()).select_from(dead_letters)
                                        .where(dead_letters.c.resolved_at.is_(None))).scalar_one()
            out.append(GaugeMetricFamily("nurture_dead_letters_open", "Writes a CRM refused, not replayed yet.",
                                         value=open_letters))
            problems = _open_problems(conn)
            if problems is not None:
                out.append(GaugeMetricFamily("nurture_problems_open", "Open problems the admin should look at.",
                                             value=problems))
            actions = CounterMetricFamily("nurture_audit_actions", "Actions in the audit log: enrolments, tasks, "
                                          "field writes, errors.", labels=["action"])
            for action, count in conn.execute(select(audit.c.action, func.count()).group_by(audit.c.action)):
                actions.add_metric([action], count)
            out.append(actions)
            out.append(self._transitions(conn))
        return out

    def _budget(self, rows: dict[str, float], now: datetime) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        app = self.settings.app
        allowance = max(1, int(app.hubspot.rate_limit.per_10s * app.hubspot.rate_limit.share))
        window = int(now.timestamp() // WINDOW_S)
        used = rows.get(f"hubspot:window:{window}", 0.0)
        budget = GaugeMetricFamily("nurture_api_budget_remaining", "Share of the API budget left: HubSpot in the "
                                   "current 10-second window, Salesforce of the daily share.", labels=["crm"])
        budget.add_metric(["hubspot"], max(0.0, 1 - used / allowance))
        usage = rows.get("salesforce:api_usage", 0.0)
        budget.add_metric(["salesforce"], max(0.0, 1 - usage / app.salesforce.daily_api_share)
                          if app.salesforce.daily_api_share else 0.0)
        return budget

    def _transitions(self, conn: Any) -> Any:
        from prometheus_client.core import CounterMetricFamily

        from connector.engine.report_data import writeback_fields

        fields = writeback_fields(self.settings, "lifecycle_stage")
        moves = CounterMetricFamily("nurture_stage_transitions", "Lifecycle stages written by the brain, by stage "
                                    "and CRM.", labels=["stage", "field"])
        if fields:
            # `after` is JSON; PostgreSQL cannot group json, so group its text ('"lead"') and decode that
            after_text = cast(audit.c.after, Text)
            for field, after, count in conn.execute(
                    select(audit.c.field, after_text, func.count()).where(audit.c.field.in_(list(fields)),
                                                                          audit.c.action == "update")
                    .group_by(audit.c.field, after_text)):
                value = _decode(after)
                if value not in (None, ""):
                    moves.add_metric([fields[field].get(str(value), str(value)), field], count)
        return moves


def _decode(text: str | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return text


def _open_problems(conn: Any) -> int | None:
    """The problems store arrives with another change; count it when its table is there."""
    insp = inspect(conn)
    if not insp.has_table("problems"):
        return None
    columns = {c["name"] for c in insp.get_columns("problems")}
    from sqlalchemy import column, table

    problems = table("problems", *(column(c) for c in columns))
    query = select(func.count()).select_from(problems)
    if "resolved_at" in columns:
        query = query.where(problems.c.resolved_at.is_(None))
    return int(conn.execute(query).scalar_one())
