"""Sales alerts: one open alert per lead per reason, an owner, a due date, and the why in the body.

An alert is raised when its condition is true and no alert for that reason is open. It stays open
(in state) until the caller reports it closed in `facts["closed_alerts"]` (reasons whose task sales
completed) *and* its condition is false again, so a closed task with the trigger still live is not
re-raised on every run; or until the lead is recycled, which clears every alert.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connector.core.predicates import Ctx, Reasoned
from connector.settings.alerts_config import AlertsConfig


@dataclass(frozen=True, slots=True)
class SalesAlert:
    reason: str  # the alert's name: one open task per lead per reason
    subject: str
    priority: str
    due_at: datetime
    owner_id: str | None
    owner_source: str  # "record", "round robin" or "none configured"
    body: str
    key: str  # idempotency key for the task: look before you create


class AlertRules:
    def __init__(self, config: AlertsConfig) -> None:
        self.config = config
        self.rules = [(a, Reasoned(a.when)) for a in config.alerts]
        owners = config.owners
        self.pool = tuple(owners.round_robin_salesforce if config.target == "salesforce"
                          else owners.round_robin_hubspot)

    def owner(self, facts: Mapping[str, Any], contact_key: str) -> tuple[str | None, str]:
        given = facts.get("owner_id")
        if given:
            return str(given), "record"
        if not self.pool:
            return None, "none configured"
        # A stable hash of the contact, not a counter: same answer on every worker and every rerun.
        return self.pool[zlib.crc32(contact_key.encode()) % len(self.pool)], "round robin"

    def raise_new(self, ctx: Ctx, open_alerts: Mapping[str, Any], contact_key: str,
                  body_for: Any) -> tuple[list[SalesAlert], dict[str, Any]]:
        closed = set(ctx.facts.get("closed_alerts") or ())
        still_open: dict[str, Any] = {}
        new: list[SalesAlert] = []
        for alert, cond in self.rules:
            why = cond.reason(ctx)
            if alert.name in open_alerts:
                if alert.name not in closed or why is not None:
                    still_open[alert.name] = open_alerts[alert.name]
                continue
            if why is None:
                continue
            owner, source = self.owner(ctx.facts, contact_key)
            due = ctx.now + timedelta(hours=alert.sla_hours or self.config.sla_hours)
            body = body_for(alert.subject, why)
            new.append(SalesAlert(alert.name, alert.subject, alert.priority, due, owner, source, body,
                                  f"alert:{contact_key}:{alert.name}"))
            still_open[alert.name] = {"at": ctx.now.isoformat(), "owner": owner, "due": due.isoformat()}
        return new, still_open
