"""Re-read what a batch is about to overwrite, just before writing: a person's edit between our read and
our write must win, not be overwritten.

Only the records with planned updates are read again (one batch read per CRM and object), and only the
fields the plan changes are compared with what `gather` saw. A person whose field moved is left out of
this batch's writes; its record's webhook has already re-marked it (or the poller will), so the next pass
merges the newer value with the three-way merge as usual. This narrows the window from the whole batch
(reads, brain, other writes) to one batch read; docs/ARCHITECTURE.md says what remains.
"""

from __future__ import annotations

from typing import Any

from connector.engine.lookup import Lookup
from connector.engine.plan import BatchPlan


def moved_people(plan: BatchPlan, lookup: Lookup) -> dict[int, str]:
    """Person index -> which field changed under us, for people whose planned update would overwrite it."""
    hubspot: dict[str, tuple[int, list[str]]] = {}
    salesforce: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for step in plan.steps:
        if step.action != "update" or not step.object_id or not step.fields:
            continue
        if step.system == "hubspot":
            hubspot[step.object_id] = (step.person, list(step.fields))
        elif step.system == "salesforce":
            salesforce.setdefault(step.object_type, {})[step.object_id] = (step.person, list(step.fields))
    moved: dict[int, str] = {}
    if hubspot:
        fresh = lookup.hubspot_by_id(hubspot)
        for object_id, (index, names) in hubspot.items():
            seen = plan.people[index].hubspot
            now = fresh.get(object_id)
            field = _first_moved(seen.properties if seen else {}, now.properties if now else None, names)
            if field:
                moved[index] = f"HubSpot {object_id}.{field}"
    for sobject, wanted in salesforce.items():
        fresh_sf = lookup.salesforce_by_id(sobject, list(wanted))
        for object_id, (index, names) in wanted.items():
            seen_sf = plan.people[index].salesforce
            now_sf = fresh_sf.get(object_id)
            field = _first_moved(seen_sf.fields if seen_sf else {}, now_sf.fields if now_sf else None, names)
            if field:
                moved[index] = f"Salesforce {object_id}.{field}"
    return moved


def _first_moved(seen: Any, now: Any, names: list[str]) -> str | None:
    if now is None:
        return "(record gone)"
    for name in names:
        if _norm(seen.get(name)) != _norm(now.get(name)):
            return name
    return None


def _norm(value: Any) -> Any:
    # HubSpot answers "" for a property it once held; None and "" are the same blank to a person.
    return None if value == "" else value


def without(plan: BatchPlan, people: set[int]) -> BatchPlan:
    """The plan minus these people's steps; indexes (people, pairs) stay as they are."""
    return BatchPlan(plan.people, plan.pairs, [s for s in plan.steps if s.person not in people],
                     plan.duplicates, plan.skipped)
