"""Plays a story (connector.demo.story) against a running connector: engagement through the real, signed
engagement webhook, and the sales team's moves as user edits in the sandbox Salesforce (whose outbound
messages then reach the connector like a real org's would).

Time is simulated: SimClock starts `days` in the past and runs `speed` times faster than the wall clock
until it catches up with now, so weeks of nurture cadence play out in minutes, and every timestamp the
connector stores is in the past, where reports look.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connector.demo.story import Action
from webhooks.engagement_events import EMAIL
from webhooks.signatures import sign_engagement

log = logging.getLogger(__name__)
SALES_ACTIONS = ("sales:work", "sales:convert", "sales:win", "sales:reject")


class SimClock:
    def __init__(self, days_back: float, speed: float, wall: Callable[[], datetime] | None = None) -> None:
        self._wall = wall or (lambda: datetime.now(UTC))
        self.start = self._wall() - timedelta(days=days_back)
        self.speed = speed
        self._t0 = time.monotonic()
        self._offset = timedelta(0)  # headless runs jump ahead instead of waiting

    def now(self) -> datetime:
        elapsed = timedelta(seconds=(time.monotonic() - self._t0) * self.speed) + self._offset
        return min(self._wall(), self.start + elapsed)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


@dataclass
class Person:
    email: str
    hubspot_id: str | None
    salesforce_id: str | None
    salesforce_type: str | None


@dataclass
class Tally:
    events: int = 0
    sales: dict[str, int] = field(default_factory=dict)
    skipped: int = 0


class Player:
    def __init__(self, actions: Sequence[Action], people: Sequence[Person], clock: SimClock, engagement_url: str,
                 secret: str, salesforce: Any, lookup: Callable[[str], Person | None]) -> None:
        self.actions = list(actions)
        self.people = list(people)
        self.clock = clock
        self.url = engagement_url
        self.secret = secret
        self.salesforce = salesforce  # the in-process SalesforceSandbox: sales users edit through its UI path
        self.lookup = lookup  # the person as the store knows them now (a converted Lead is a Contact)
        self.next = 0
        self.tally = Tally()
        self.opportunities: dict[int, tuple[str, str]] = {}  # person -> (opportunity id, contact id)
        self.http = requests.Session()

    def done(self) -> bool:
        return self.next >= len(self.actions)

    def play_due(self) -> int:
        """Send every action whose simulated time has come; returns how many."""
        now = self.clock.now()
        due: list[Action] = []
        while self.next < len(self.actions) and self.clock.start + self.actions[self.next].at <= now:
            due.append(self.actions[self.next])
            self.next += 1
        events = [a for a in due if a.kind not in SALES_ACTIONS]
        for start in range(0, len(events), 100):
            self._send(events[start:start + 100])
        for action in due:
            if action.kind in SALES_ACTIONS:
                self._sales(action)
        return len(due)

    def _send(self, actions: list[Action]) -> None:
        items = []
        for a in actions:
            person = self.people[a.person]
            # a CRM may hold an address the webhook refuses ("jane.doe@"); one bad event would refuse the batch
            email = person.email if person.email and EMAIL.fullmatch(person.email) else None
            who = {k: v for k, v in (("email", email), ("hubspot_id", person.hubspot_id)) if v}
            if not who:
                self.tally.skipped += 1
                continue
            item: dict[str, Any] = {"id": f"demo-{a.person}-{a.kind}-{int(a.at.total_seconds())}", "type": a.kind,
                                    "occurred_at": (self.clock.start + a.at).isoformat(), "person": who}
            if a.content:
                item["content_id"] = a.content
            if a.properties:
                item["properties"] = a.properties
            items.append(item)
        if not items:
            return
        body = json.dumps({"events": items}).encode()
        headers = {"Content-Type": "application/json", **sign_engagement(self.secret, body)}
        response = self.http.post(self.url, data=body, headers=headers, timeout=10)
        if response.status_code != 200:
            log.warning("demo: engagement webhook answered %s: %s", response.status_code, response.text[:200])
            return
        self.tally.events += len(items)

    def _sales(self, action: Action) -> None:
        person = self.lookup(self.people[action.person].email)
        try:
            if person is None or not person.salesforce_id:
                self.tally.skipped += 1
                return
            if action.kind == "sales:win":
                won = self.opportunities.get(action.person)
                if won is None:
                    self.tally.skipped += 1
                    return
                self.salesforce.ui_edit("Opportunity", won[0], {"StageName": "Closed Won"})
                # the Opportunity is not watched: touch the Contact so its outbound message brings the news
                self.salesforce.ui_edit("Contact", won[1], {"Description": "Closed won in the demo"})
            elif person.salesforce_type != "Lead":
                self.tally.skipped += 1
                return
            elif action.kind == "sales:work":
                self.salesforce.ui_edit("Lead", person.salesforce_id, {"Status": "Working - Contacted"})
            elif action.kind == "sales:reject":
                self.salesforce.ui_edit("Lead", person.salesforce_id, {"Status": "Closed - Not Converted"})
            elif action.kind == "sales:convert":
                conversion = self.salesforce.convert(person.salesforce_id, create_opportunity=True)
                if conversion.opportunity_id:
                    self.opportunities[action.person] = (conversion.opportunity_id, conversion.contact_id)
        except Exception as exc:  # a refusal in the sandbox (a twin already converted...): the story goes on
            log.info("demo: %s for %s failed: %s", action.kind, person.email if person else "?", exc)
            self.tally.skipped += 1
            return
        self.tally.sales[action.kind] = self.tally.sales.get(action.kind, 0) + 1
