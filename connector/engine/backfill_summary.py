"""What a backfill dry run would do, in totals an admin can decide on: records to create, link and update
on each side, duplicates expected, fields whose values the picklist maps do not cover, and the API calls
it will cost against each daily limit. Pure: computed from the plan the dry run built."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from connector.engine.plan import BatchPlan
from connector.engine.preflight_types import WRITES
from connector.settings.mapping_config import MappingConfig

HUBSPOT_WRITE_BATCH, SALESFORCE_WRITE_BATCH = 100, 200


@dataclass
class SideTotals:
    create: int = 0
    update: int = 0
    link: int = 0
    calls: int = 0


@dataclass
class DryRunSummary:
    hubspot: SideTotals = field(default_factory=SideTotals)
    salesforce: SideTotals = field(default_factory=SideTotals)
    duplicates: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)  # "field: value" -> records


def summarize(plan: BatchPlan, mapping: MappingConfig) -> DryRunSummary:
    summary = DryRunSummary(duplicates=len(plan.duplicates))
    sides = {"hubspot": summary.hubspot, "salesforce": summary.salesforce}
    updated: dict[str, set[str]] = {"hubspot": set(), "salesforce": set()}
    for step in plan.steps:
        side = sides.get(step.system)
        if side is None:
            continue
        if step.action == "create":
            side.create += 1
        elif step.action == "update" and step.object_id:
            updated[step.system].add(step.object_id)
    for name, ids in updated.items():
        sides[name].update = len(ids)
    for person in plan.people:
        # A pair found by match key (not yet linked in the store): the backfill links it, on both sides.
        if person.hubspot and person.salesforce and not (person.link.hubspot_id and person.link.salesforce_id):
            summary.hubspot.link += 1
            summary.salesforce.link += 1
    summary.hubspot.calls = (math.ceil(summary.hubspot.create / HUBSPOT_WRITE_BATCH)
                             + math.ceil(summary.hubspot.update / HUBSPOT_WRITE_BATCH))
    summary.salesforce.calls = (math.ceil(summary.salesforce.create / SALESFORCE_WRITE_BATCH)
                                + math.ceil(summary.salesforce.update / SALESFORCE_WRITE_BATCH))
    summary.unmapped = _unmapped_values(plan, mapping)
    return summary


def _unmapped_values(plan: BatchPlan, mapping: MappingConfig) -> Counter[str]:
    """Values found in a CRM that a field's `values` map does not cover (they would not carry across)."""
    found: Counter[str] = Counter()
    for f in mapping.fields:
        if not f.values:
            continue
        reverse = set(f.values.values())
        # Only a side the field is carried from matters: a one-way field's target may hold anything.
        from_hubspot, from_salesforce = "salesforce" in WRITES[f.sync], "hubspot" in WRITES[f.sync]
        for person in plan.people:
            if person.hubspot and f.hubspot and from_hubspot:
                value = person.hubspot.properties.get(f.hubspot)
                if value not in (None, "") and str(value) not in f.values:
                    found[f"{f.name}: HubSpot {value}"] += 1
            if person.salesforce and from_salesforce:
                api_name = f.salesforce_name(person.salesforce.type)
                value = person.salesforce.fields.get(api_name) if api_name else None
                if value not in (None, "") and str(value) not in reverse:
                    found[f"{f.name}: Salesforce {value}"] += 1
    return found
