"""Turn gathered people into one batch plan: updates, creates and deletions per CRM, with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.core.conditions import evaluate
from connector.core.pair import (
    FieldChange,
    PairPlan,
    created_fields,
    email_valid,
    hubspot_create_properties,
    plan_pair,
    salesforce_create_fields,
)
from connector.engine.gather import Gathered, Person
from connector.settings.mapping_config import MappingConfig


@dataclass
class Step:
    """One planned write, as --dry-run prints it and the audit records it."""

    person: int  # index into BatchPlan.people
    system: str
    object_type: str
    object_id: str | None  # None for a create
    action: str  # create | update | delete | unlink
    fields: dict[str, Any]
    before: dict[str, Any]
    reasons: dict[str, str]


@dataclass
class BatchPlan:
    people: list[Person]
    pairs: list[PairPlan]
    steps: list[Step] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (person, why no counterpart was made)

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows: record, CRM, field, before -> after, rule (for --dry-run and the audit)."""
        out = []
        for step in self.steps:
            for name, after in step.fields.items():
                out.append({"crm": step.system, "object": step.object_type, "id": step.object_id or "(new)",
                            "action": step.action, "field": name, "before": step.before.get(name),
                            "after": after, "rule": step.reasons.get(name, step.action)})
        return out


def build_plan(mapping: MappingConfig, gathered: Gathered, sf_lengths: dict[str, dict[str, int]],
               now: datetime | None = None) -> BatchPlan:
    plan = BatchPlan(gathered.people, [], duplicates=list(gathered.duplicates))
    now = now or datetime.now(UTC)
    for index, person in enumerate(gathered.people):
        sobject = person.salesforce.type if person.salesforce else mapping.salesforce.create_as
        pair = plan_pair(mapping, person.hubspot, person.salesforce, person.link.synced, sf_lengths.get(sobject), now)
        plan.pairs.append(pair)
        if pair.held:
            plan.skipped.append((index, "held: a field with `unmapped: error` has a value with no mapping"))
            continue
        if person.hubspot_gone or person.salesforce_gone:
            _plan_deletion(plan, mapping, index, person)
            continue
        if person.salesforce and person.link.synced.get("_privacy_deleted"):
            _plan_privacy_deletion(plan, mapping, index, person)
            continue
        if person.hubspot and person.salesforce:
            _plan_updates(plan, index, person, pair, mapping.salesforce.external_id_field)
        elif person.hubspot and not person.link.synced.get("_salesforce_deleted"):
            _plan_salesforce_create(plan, mapping, index, person, pair, sf_lengths)
        elif person.salesforce and not person.link.synced.get("_hubspot_deleted"):
            _plan_hubspot_create(plan, mapping, index, person, pair)
    return plan


def _plan_updates(plan: BatchPlan, index: int, person: Person, pair: PairPlan, external: str) -> None:
    assert person.hubspot and person.salesforce
    stamped = person.salesforce.fields.get(external)
    if stamped and stamped != person.hubspot.id:  # HubSpot merged the contact: name the surviving id
        pair.salesforce.append(FieldChange("_external_id", external, stamped, person.hubspot.id,
                                           f"HubSpot contact {stamped} is now {person.hubspot.id} (merged)"))
    if pair.hubspot:
        plan.steps.append(Step(index, "hubspot", "contact", person.hubspot.id, "update",
                               pair.hubspot_properties(), {c.crm_field: c.before for c in pair.hubspot},
                               {c.crm_field: c.reason for c in pair.hubspot}))
    if pair.salesforce:
        plan.steps.append(Step(index, "salesforce", person.salesforce.type, person.salesforce.id, "update",
                               pair.salesforce_fields(), {c.crm_field: c.before for c in pair.salesforce},
                               {c.crm_field: c.reason for c in pair.salesforce}))


def _plan_salesforce_create(plan: BatchPlan, mapping: MappingConfig, index: int, person: Person,
                            pair: PairPlan, sf_lengths: dict[str, dict[str, int]]) -> None:
    assert person.hubspot
    side = mapping.salesforce
    if not side.create:
        return
    if side.create_when is not None and not evaluate(side.create_when, pair.canonical):
        plan.skipped.append((index, "salesforce.create_when is false"))
        return
    fields, problems = salesforce_create_fields(mapping, pair.canonical, person.hubspot.id,
                                                sf_lengths.get(side.create_as))
    pair.problems.extend(problems)
    held = {fm.name for fm in mapping.fields if fm.unmapped == "error"}
    if any(p.field in held for p in problems):
        plan.skipped.append((index, "held: a field with `unmapped: error` has a value with no mapping"))
        return
    _forget_uncreated(mapping, pair, "salesforce", side.create_as, fields)
    plan.steps.append(Step(index, "salesforce", side.create_as, None, "create", fields, {},
                           {k: "create: HubSpot contact has no Salesforce record" for k in fields}))


def _plan_hubspot_create(plan: BatchPlan, mapping: MappingConfig, index: int, person: Person,
                         pair: PairPlan) -> None:
    side = mapping.hubspot
    email = pair.canonical.get("email")
    if not side.create:
        return
    if not email_valid(email):
        plan.skipped.append((index, "no valid email to create a HubSpot contact with"))
        return
    if side.create_when is not None and not evaluate(side.create_when, pair.canonical):
        plan.skipped.append((index, "hubspot.create_when is false"))
        return
    props = hubspot_create_properties(mapping, pair.canonical)
    _forget_uncreated(mapping, pair, "hubspot", "contact", props)
    plan.steps.append(Step(index, "hubspot", "contact", None, "create", props, {},
                           {k: "create: Salesforce record has no HubSpot contact" for k in props}))


def _forget_uncreated(mapping: MappingConfig, pair: PairPlan, system: str, sobject: str,
                      written: dict[str, Any]) -> None:
    """A field the new record does not carry was not synced: remembering it as synced would make the new
    record's blank look like a person's deletion next run (and send that blank back)."""
    carried = created_fields(mapping, system, sobject, written)
    for fm in mapping.fields:
        if fm.name in pair.base and fm.name not in carried:
            pair.keep_prior(fm.name)


def _plan_privacy_deletion(plan: BatchPlan, mapping: MappingConfig, index: int, person: Person) -> None:
    """HubSpot erased the person (a privacy deletion). Under `hubspot.deletions: propagate` the linked
    Salesforce record is deleted too; otherwise it is kept, unlinked from any HubSpot contact, and never
    copied back to HubSpot (the store's tombstone says so)."""
    assert person.salesforce is not None
    if mapping.hubspot.deletions == "propagate":
        plan.steps.append(Step(index, "salesforce", person.salesforce.type, person.salesforce.id, "delete", {}, {},
                               {"": "HubSpot privacy deletion; hubspot.deletions: propagate"}))


def _plan_deletion(plan: BatchPlan, mapping: MappingConfig, index: int, person: Person) -> None:
    """One side is gone. The policy of the side it was deleted on decides what happens to the other.
    A HubSpot merge is no deletion: the person lives on in the surviving contact, so whatever the
    policy, the link of the merged-away contact is retired and nothing is deleted."""
    if person.hubspot_gone and person.hubspot_merged_into and person.salesforce is not None:
        plan.steps.append(Step(index, "hubspot", "contact", person.link.hubspot_id, "unlink", {}, {},
                               {"": f"HubSpot contact {person.link.hubspot_id} was merged into "
                                    f"{person.hubspot_merged_into}, which is linked to another record; "
                                    "this link is retired and nothing is deleted"}))
        return
    if person.hubspot_gone and person.salesforce is not None:
        policy, survivor = mapping.hubspot.deletions, person.salesforce
        if policy == "propagate":
            plan.steps.append(Step(index, "salesforce", survivor.type, survivor.id, "delete", {}, {},
                                   {"": "hubspot.deletions: propagate"}))
        else:
            plan.steps.append(Step(index, "hubspot", "contact", person.link.hubspot_id, "unlink", {}, {},
                                   {"": f"hubspot.deletions: {policy}; Salesforce record kept"}))
    elif person.salesforce_gone and person.hubspot is not None:
        policy = mapping.salesforce.deletions
        if policy == "propagate":
            plan.steps.append(Step(index, "hubspot", "contact", person.hubspot.id, "delete", {}, {},
                                   {"": "salesforce.deletions: propagate"}))
        else:
            plan.steps.append(Step(index, "salesforce", person.link.salesforce_type or "Lead",
                                   person.link.salesforce_id, "unlink", {}, {},
                                   {"": f"salesforce.deletions: {policy}; HubSpot contact kept"}))
    else:
        plan.steps.append(Step(index, "store", "contact", str(person.link.id), "unlink", {}, {},
                               {"": "gone from both CRMs"}))
