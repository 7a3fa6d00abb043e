"""The brain inside the sync: engagement signals into the ledger, the pure brain per person, and its
results folded into the same batch writes (connector.engine.executors carries out touches and alerts).

Write-back values join the plan's update steps, so a rescore costs no extra call and writes only what
changed. The brain's state (what was sent, what was raised) is saved only after its executors succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, or_, select

from connector.core.brain import Brain, BrainInput, BrainResult
from connector.core.conditions import as_datetime
from connector.core.events import Event
from connector.crm.hubspot import TASK_KEY
from connector.engine.clients import Clients
from connector.engine.gather import Person
from connector.engine.plan import BatchPlan, Step
from connector.settings import Settings
from connector.settings.mapping_config import Writeback
from connector.store.inbox import EngagementFact, record
from connector.store.models import engagement

log = logging.getLogger(__name__)
LIFECYCLE_ORDER = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
                   "evangelist")


@dataclass
class NurtureOutcome:
    results: dict[int, BrainResult] = field(default_factory=dict)  # person -> result
    failed: set[int] = field(default_factory=set)  # persons whose touches or alerts did not all go out
    touches: int = 0
    tasks: int = 0
    notes: list[tuple[int, str, str]] = field(default_factory=list)  # (person, action, message) for the audit


# The HubSpot property type each write-back output needs, for `nurture setup`.
OUTPUT_TYPES = {"score": "number", "fit_score": "number", "engagement_score": "number", "next_touch": "date"}


def setup_hubspot_properties(settings: Settings, clients: Clients) -> list[str]:
    """Create the custom contact properties the write-back names (group "nurture"); existing ones are kept."""
    wanted = {}
    for output, target in settings.mapping.writeback.hubspot.items():
        name, _ = Writeback.target(target)
        if name != "lifecyclestage":
            wanted[name] = OUTPUT_TYPES.get(output, "string")
    created = clients.hubspot.ensure_properties("nurture", wanted)
    created += clients.hubspot.ensure_properties("nurture", {TASK_KEY: "string"}, object_type="tasks")
    return created


def make_brain(settings: Settings) -> Brain:
    return Brain(settings.scoring, settings.segments, settings.lifecycle, settings.nurture, settings.alerts)


def derive_engagement(settings: Settings, engine: Engine, plan: BatchPlan, now: datetime) -> int:
    """HubSpot counters (opens, clicks, form conversions, page views) -> one ledger fact per increment.
    The fact's key is the counter's value, so however often the same value is seen, it is stored once."""
    signals = settings.mapping.engagement
    facts: list[EngagementFact] = []
    for person in plan.people:
        hs = person.hubspot
        if hs is None:
            continue
        seen = dict(person.link.brain.get("counters") or {})
        for prop, event_type in signals.hubspot_counters.items():
            try:
                current = int(float(hs.properties.get(prop) or 0))
            except ValueError:
                continue
            before = int(seen.get(prop, 0))
            when = as_datetime(hs.properties.get(signals.hubspot_last_dates.get(prop, ""))) or now
            name = hs.properties.get(signals.conversion_name_property) if event_type == "form_submit" else None
            # Cap the catch-up: a contact first seen with 5,000 page views gets its last 50, dated now.
            for n in range(max(before, current - 50) + 1, current + 1):
                facts.append(EngagementFact(f"hubspot:{hs.id}:{prop}:{n}", "hubspot", event_type, when,
                                            email=email_of(hs.properties.get("email")), hubspot_id=hs.id,
                                            content_id=str(name) if name else None,
                                            properties={"counter": prop, "value": n,
                                                        **({"form": name} if name else {})}))
            seen[prop] = current
        person.link.brain = {**person.link.brain, "counters": seen}
    if facts:
        with engine.begin() as conn:
            record(conn, [], [], facts=facts)
    return len(facts)


def load_events(engine: Engine, plan: BatchPlan) -> dict[int, list[Event]]:
    """Every person's engagement facts, in one query for the batch."""
    keys: dict[str, dict[str, list[int]]] = {"hubspot_id": {}, "salesforce_id": {}, "email": {}, "contact_id": {}}
    for index, person in enumerate(plan.people):
        for column, value in (("hubspot_id", person.link.hubspot_id), ("salesforce_id", person.link.salesforce_id),
                              ("email", email_of(plan.pairs[index].canonical.get("email"))),
                              ("contact_id", person.link.id)):
            if value:
                keys[column].setdefault(str(value), []).append(index)
    clauses = [engagement.c[col].in_(list(values)) for col, values in keys.items() if values and col != "contact_id"]
    if keys["contact_id"]:
        clauses.append(engagement.c.contact_id.in_([int(v) for v in keys["contact_id"]]))
    events: dict[int, dict[str, Event]] = {}
    if clauses:
        with engine.connect() as conn:
            for row in conn.execute(select(engagement).where(or_(*clauses))):
                event = Event(row.event_type, (at := as_datetime(row.occurred_at) or datetime.now(UTC)),
                              row.properties or {}, row.content_id, at.timestamp())
                owners = set()
                for col in ("hubspot_id", "salesforce_id", "email"):
                    owners.update(keys[col].get(str(getattr(row, col) or "").lower() if col == "email"
                                                else str(getattr(row, col) or ""), []))
                owners.update(keys["contact_id"].get(str(row.contact_id), []))
                for index in owners:
                    events.setdefault(index, {})[row.event_key] = event
    return {index: list(by_key.values()) for index, by_key in events.items()}


def crm_facts(person: Person, canonical: Mapping[str, Any]) -> dict[str, Any]:
    facts = dict(canonical)
    hs, sf = person.hubspot, person.salesforce
    if hs is not None:
        facts["lifecycle_stage"] = hs.properties.get("lifecyclestage") or None
        facts["bounced"] = bool(hs.properties.get("hs_email_hard_bounce_reason"))
    if sf is not None:
        facts["salesforce_type"] = sf.type
        facts["is_converted"] = sf.type == "Contact" or bool(sf.fields.get("IsConverted"))
        facts["bounced"] = facts.get("bounced") or bool(sf.fields.get("EmailBouncedReason"))
        facts.setdefault("owner_id", sf.fields.get("OwnerId"))
    facts["unsubscribed"] = bool(canonical.get("email_optout"))
    return facts


def opportunity_facts(clients: Clients | None, plan: BatchPlan) -> dict[str, dict[str, bool]]:
    """AccountId -> {has_opportunity, is_customer}, from one SOQL query for the batch's Contacts."""
    accounts = {str(p.salesforce.fields["AccountId"]) for p in plan.people
                if p.salesforce is not None and p.salesforce.type == "Contact" and p.salesforce.fields.get("AccountId")}
    if clients is None or not accounts:
        return {}
    found = clients.salesforce.find_by("Opportunity", "AccountId", accounts, ["AccountId", "IsClosed", "IsWon"])
    facts: dict[str, dict[str, bool]] = {}
    for rows in found.values():
        for row in rows:
            account = str(row.fields.get("AccountId") or "")
            entry = facts.setdefault(account, {"has_opportunity": False, "is_customer": False})
            entry["has_opportunity"] = True
            entry["is_customer"] = entry["is_customer"] or bool(row.fields.get("IsWon"))
    return facts


def think(settings: Settings, brain: Brain, engine: Engine, plan: BatchPlan, now: datetime,
          clients: Clients | None = None) -> NurtureOutcome:
    """Run the brain for every person in the plan and fold its write-back into the plan's steps."""
    outcome = NurtureOutcome()
    events = load_events(engine, plan)
    opportunities = opportunity_facts(clients, plan)
    for index, person in enumerate(plan.people):
        if person.hubspot is None and person.salesforce is None:
            continue
        facts = crm_facts(person, plan.pairs[index].canonical)
        if person.salesforce is not None:
            facts.update(opportunities.get(str(person.salesforce.fields.get("AccountId") or ""), {}))
        previous = {k: v for k, v in person.link.brain.items() if k != "counters"} or None
        result = brain.think(BrainInput(facts, events.get(index, []), previous, now))
        outcome.results[index] = result
        _writeback(settings, plan, index, person, result)
    return outcome


def _writeback(settings: Settings, plan: BatchPlan, index: int, person: Person, result: BrainResult) -> None:
    wb = settings.mapping.writeback
    if person.hubspot is not None and wb.hubspot:
        changes, before = {}, {}
        for output, target in wb.hubspot.items():
            name, values = Writeback.target(target)
            want = _text(values.get(str(result.writeback.get(output)), result.writeback.get(output)))
            have = person.hubspot.properties.get(name)
            if output == "lifecycle_stage" and not _forward(have, want):
                if not result.recycled:
                    continue  # never downgrade a stage someone set in HubSpot; only the recycle rule goes back
                # HubSpot moves a stage back only when cleared first: clear it now; its webhook echo brings
                # the contact back, and the earlier stage is then a forward write from "".
                want = ""
            if (have or "") != want:
                changes[name], before[name] = want, have
        _add_step(plan, index, "hubspot", "contact", person.hubspot.id, changes, before)
    if person.salesforce is not None and wb.salesforce:
        changes, before = {}, {}
        for output, target in wb.salesforce.items():
            name, values = Writeback.target(target)
            raw = result.writeback.get(output)
            want = values.get(str(raw), raw) if raw is not None else None
            have = person.salesforce.fields.get(name)
            if _differs(have, want):
                changes[name], before[name] = want, have
        _add_step(plan, index, "salesforce", person.salesforce.type, person.salesforce.id, changes, before)


def _add_step(plan: BatchPlan, index: int, system: str, object_type: str, object_id: str,
              changes: dict[str, Any], before: dict[str, Any]) -> None:
    if not changes:
        return
    reasons = {k: "brain: write-back" for k in changes}
    for step in plan.steps:
        if step.person == index and step.system == system and step.action == "update":
            step.fields.update(changes)
            step.before.update(before)
            step.reasons.update(reasons)
            return
    plan.steps.append(Step(index, system, object_type, object_id, "update", changes, before, reasons))


def _forward(have: str | None, want: str | None) -> bool:
    if not have or not want or have not in LIFECYCLE_ORDER or want not in LIFECYCLE_ORDER:
        return True
    return LIFECYCLE_ORDER.index(want) >= LIFECYCLE_ORDER.index(have)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _differs(have: Any, want: Any) -> bool:
    if have in (None, "") and want in (None, ""):
        return False
    if isinstance(want, int | float) and not isinstance(want, bool):
        try:
            return float(have) != float(want)
        except (TypeError, ValueError):
            return True
    return str(have) != str(want)


def email_of(value: Any) -> str:
    return str(value or "").strip().lower()
