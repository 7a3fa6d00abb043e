"""`explain` from the store alone, for the dashboard: the brain run on the store's copy of the contact's
fields (the last synced values), its engagement ledger and its saved state. No CRM call, so a page stays
fast; `nurture explain EMAIL` reads the CRMs live when the freshest answer matters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connector.core.brain import BrainInput
from connector.core.conditions import as_datetime
from connector.core.events import Event
from connector.engine.nurture_step import make_brain
from connector.settings import Settings

_brains: dict[int, Any] = {}


def explain_stored(settings: Settings, row: Any, events: Sequence[Any], now: datetime) -> list[str]:
    brain = _brains.get(id(settings))
    if brain is None:
        brain = _brains[id(settings)] = make_brain(settings)
    state = dict(row.brain or {})
    facts = dict(row.synced or {})
    facts.setdefault("email", row.email)
    facts["lifecycle_stage"] = state.get("lifecycle")
    if row.salesforce_type:
        facts["salesforce_type"] = row.salesforce_type
        facts["is_converted"] = row.salesforce_type == "Contact"
    facts["unsubscribed"] = bool(facts.get("email_optout"))
    ledger = []
    for e in events:
        at = as_datetime(e.occurred_at) or now
        ledger.append(Event(e.event_type, at, e.properties or {}, e.content_id, at.timestamp()))
    previous = {k: v for k, v in state.items() if k != "counters"} or None
    return list(brain.think(BrainInput(facts, ledger, previous, now, explain=True)).explain())
