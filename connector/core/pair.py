"""Plan one person's sync: from their HubSpot record, Salesforce record and merge base to the writes.

Each side's value is compared in that side's own form (a value truncated to a Salesforce field's
length is "the same" as the long value HubSpot holds), so a transform never causes ping-pong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.core.merge import MISSING, Unmapped, merge_field
from connector.core.values import BadValue, UnmappedValue, from_hubspot, from_salesforce, to_hubspot, to_salesforce
from connector.settings.mapping_config import FieldMapping, MappingConfig

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class HubSpotRecord:
    id: str
    properties: Mapping[str, Any]
    updated_at: datetime | None = None
    # property -> when its current value was set (HubSpot's propertiesWithHistory), for two-way conflicts
    changed_at: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class SalesforceRecord:
    type: str  # Lead | Contact
    id: str
    fields: Mapping[str, Any]
    updated_at: datetime | None = None


@dataclass(frozen=True)
class FieldChange:
    field: str  # canonical name
    crm_field: str
    before: Any
    after: Any
    reason: str


@dataclass(frozen=True)
class FieldProblem:
    """A value that could not be synced: listed under `nurture problems` until it is gone or fixed."""

    field: str  # canonical name
    kind: str  # unmapped | bad_value
    message: str
    value: Any = None


# In the merge base: canonical field -> [when Salesforce was first seen to differ from the base, with what value]
OBSERVED = "_observed"


@dataclass
class PairPlan:
    canonical: dict[str, Any] = field(default_factory=dict)
    hubspot: list[FieldChange] = field(default_factory=list)
    salesforce: list[FieldChange] = field(default_factory=list)
    base: dict[str, Any] = field(default_factory=dict)  # what to remember as synced once writes succeed
    prior: dict[str, Any] = field(default_factory=dict)  # the base this plan started from
    problems: list[FieldProblem] = field(default_factory=list)
    held: bool = False  # a field with `unmapped: error` has a problem: nothing of this contact is written

    def hubspot_properties(self) -> dict[str, Any]:
        return {c.crm_field: c.after for c in self.hubspot}

    def salesforce_fields(self) -> dict[str, Any]:
        return {c.crm_field: c.after for c in self.salesforce}

    def keep_prior(self, name: str) -> None:
        """This field was not synced after all: remember the old base, so the change is seen again next run."""
        if name in self.prior:
            self.base[name] = self.prior[name]
        else:
            self.base.pop(name, None)


def email_valid(email: Any) -> bool:
    return isinstance(email, str) and bool(_EMAIL.match(email.strip()))


def plan_pair(
    mapping: MappingConfig,
    hubspot: HubSpotRecord | None,
    salesforce: SalesforceRecord | None,
    base: Mapping[str, Any] | None = None,
    sf_lengths: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> PairPlan:
    """Merge every mapped field. Writes are listed only where the other side's value really differs."""
    plan = PairPlan()
    base = base or {}
    plan.prior = {k: v for k, v in base.items() if not k.startswith("_")}
    seen_before: Mapping[str, Any] = base.get(OBSERVED) or {}
    observed: dict[str, list[str]] = {}
    sf_type = salesforce.type if salesforce else mapping.salesforce.create_as
    for fm in mapping.fields:
        hub_name, sf_name = fm.hubspot, fm.salesforce_name(sf_type)
        limit = (sf_lengths or {}).get(sf_name or "")
        hub_value = _read(plan, fm, hubspot, hub_name, from_hubspot, lambda r: r.properties, f"hubspot.{hub_name}")
        sf_value = _read(plan, fm, salesforce, sf_name, from_salesforce, lambda r: r.fields, f"salesforce.{sf_name}")
        known = fm.name in base
        prior = base.get(fm.name, MISSING)
        if known:  # a side that still holds the base in its own form has not changed
            if hub_value is not MISSING and _same_hubspot(fm, hub_value, prior):
                hub_value = prior
            if sf_value is not MISSING and _same_salesforce(fm, sf_value, prior, limit):
                sf_value = prior
        hub_at = _hubspot_time(hubspot, hub_name)
        sf_at = salesforce.updated_at if salesforce else None
        if salesforce is not None and sf_name and sf_value is not MISSING and sf_value != prior and now is not None:
            # Salesforce keeps no per-field time without field history: the change happened no later than the
            # record's last modification, and no later than when we first saw this value differ from the base.
            raw = str(salesforce.fields.get(sf_name))
            entry = seen_before.get(fm.name)
            same = isinstance(entry, list) and len(entry) == 2 and entry[1] == raw
            first_seen = entry[0] if same else now.isoformat()
            observed[fm.name] = [first_seen, raw]  # the value it was seen with: a later edit is seen afresh
            seen = datetime.fromisoformat(first_seen)
            sf_at = min(sf_at, seen) if sf_at is not None else seen
        merged = merge_field(fm.sync, hub_value, sf_value, prior, hub_at, sf_at)
        plan.canonical[fm.name] = _canonical(merged.value, hub_value)
        # The base is what both sides hold after this run. A merge that writes nothing while the sides differ
        # (a one-way rule keeping its target's value) synced nothing: the old base stands.
        agreed = merged.write_hubspot or merged.write_salesforce or hub_value == sf_value or MISSING in (
            hub_value, sf_value)
        if fm.sync != "none" and agreed and not isinstance(merged.value, Unmapped):
            plan.base[fm.name] = merged.value
        elif fm.sync != "none":
            plan.keep_prior(fm.name)
        if hubspot is not None and hub_name and merged.write_hubspot:
            _plan_hubspot(plan, fm, hubspot, hub_name, hub_value, merged, sf_name)
        if salesforce is not None and sf_name and merged.write_salesforce:
            _plan_salesforce(plan, fm, salesforce, sf_name, sf_value, merged.value, limit, merged.reason, hub_name)
    if observed:
        plan.base[OBSERVED] = observed
    if plan.held:  # `unmapped: error`: the admin would rather hold the contact than sync part of it
        plan.hubspot, plan.salesforce = [], []
        plan.base = {**plan.prior, **({OBSERVED: observed} if observed else {})}
    plan.canonical["email_valid"] = email_valid(plan.canonical.get("email"))
    return plan


def _hubspot_time(record: HubSpotRecord | None, name: str | None) -> datetime | None:
    if record is None:
        return None
    return record.changed_at.get(name or "") or record.updated_at


def _canonical(value: Any, hub_value: Any) -> Any:
    """The brain's view: an unmapped Salesforce value is unknown to it; HubSpot's value (if any) stands."""
    if isinstance(value, Unmapped):
        return None if hub_value is MISSING or isinstance(hub_value, Unmapped) else hub_value
    return None if value is MISSING else value


def _read(plan: PairPlan, fm: FieldMapping, record: Any, name: str | None, convert: Any, values: Any,
          where: str) -> Any:
    if record is None or not name:
        return MISSING
    raw = values(record).get(name)
    try:
        return convert(fm, raw)
    except UnmappedValue:
        return Unmapped(raw)  # a value, not a blank: the planner refuses to copy it (below), never erases it
    except BadValue as exc:
        plan.problems.append(FieldProblem(fm.name, "bad_value", f"{where} holds {exc}; fix it in the CRM", raw))
        return Unmapped(raw)


def _unmapped(plan: PairPlan, fm: FieldMapping, value: Any, source: str, target: str) -> None:
    """A value with no mapping meets the side it cannot be written to: the target is left as it is."""
    if fm.unmapped == "skip":
        return
    message = (f"value {value!r} of {source} has no mapping to {target}; add it to {fm.values_at}"
               + (" (contact held: unmapped: error)" if fm.unmapped == "error" else ""))
    plan.problems.append(FieldProblem(fm.name, "unmapped", message, value))
    if fm.unmapped == "error":
        plan.held = True


def _plan_hubspot(plan: PairPlan, fm: FieldMapping, record: HubSpotRecord, hub_name: str, current: Any,
                  merged: Any, sf_name: str | None) -> None:
    if isinstance(merged.value, Unmapped):
        _unmapped(plan, fm, merged.value.raw, f"salesforce.{sf_name}", f"HubSpot {hub_name}")
        return
    if _same_hubspot(fm, current, merged.value):
        return
    plan.hubspot.append(FieldChange(fm.name, hub_name, record.properties.get(hub_name),
                                    to_hubspot(fm, merged.value), merged.reason))


def _same_hubspot(fm: FieldMapping, current: Any, desired: Any) -> bool:
    if current is MISSING or desired is MISSING or isinstance(current, Unmapped) or isinstance(desired, Unmapped):
        return current == desired
    return to_hubspot(fm, current) == to_hubspot(fm, desired)


def _same_salesforce(fm: FieldMapping, current: Any, desired: Any, limit: int | None) -> bool:
    if current is MISSING or desired is MISSING or isinstance(current, Unmapped) or isinstance(desired, Unmapped):
        return current == desired
    try:
        # Round-trip both through Salesforce's form, so truncation and trimming compare alike.
        return _salesforce_form(fm, current, limit) == _salesforce_form(fm, desired, limit)
    except UnmappedValue:
        return current == desired


def _salesforce_form(fm: FieldMapping, value: Any, limit: int | None) -> Any:
    return from_salesforce(fm, to_salesforce(fm, value, limit))


def _plan_salesforce(plan: PairPlan, fm: FieldMapping, record: SalesforceRecord, sf_name: str, current: Any,
                     desired: Any, limit: int | None, reason: str, hub_name: str | None) -> None:
    if isinstance(desired, Unmapped) or _same_salesforce(fm, current, desired, limit):
        return
    try:
        value = to_salesforce(fm, desired, limit)
    except UnmappedValue:
        _unmapped(plan, fm, desired, f"hubspot.{hub_name}", f"Salesforce {sf_name}")
        plan.keep_prior(fm.name)  # not synced: keep noticing it until the map is fixed; Salesforce keeps its value
        return
    plan.salesforce.append(FieldChange(fm.name, sf_name, record.fields.get(sf_name), value, reason))


def hubspot_create_properties(mapping: MappingConfig, canonical: Mapping[str, Any]) -> dict[str, str]:
    """Properties for a new HubSpot contact made from a Salesforce record."""
    props = {}
    for fm in mapping.fields:
        if fm.hubspot and fm.sync not in ("none", "hubspot_to_salesforce") and canonical.get(fm.name) is not None:
            props[fm.hubspot] = to_hubspot(fm, canonical[fm.name])
    return props


def salesforce_create_fields(mapping: MappingConfig, canonical: Mapping[str, Any], hubspot_id: str,
                             sf_lengths: Mapping[str, int] | None = None) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Fields for a new Salesforce record made from a HubSpot contact, required fields defaulted."""
    sobject = mapping.salesforce.create_as
    fields: dict[str, Any] = {}
    scratch = PairPlan()
    for fm in mapping.fields:
        name = fm.salesforce_name(sobject)
        value = canonical.get(fm.name)
        if not name or value is None or fm.sync in ("none", "salesforce_to_hubspot"):
            continue
        try:
            fields[name] = to_salesforce(fm, value, (sf_lengths or {}).get(name))
        except UnmappedValue:
            _unmapped(scratch, fm, value, f"hubspot.{fm.hubspot}", f"Salesforce {name}")
    for name, default in mapping.salesforce.required_defaults.items():
        if fields.get(name) in (None, ""):
            fields[name] = default
    fields[mapping.salesforce.external_id_field] = hubspot_id
    return fields, scratch.problems


def created_fields(mapping: MappingConfig, system: str, sobject: str, written: Mapping[str, Any]) -> set[str]:
    """The canonical fields a create actually carried: only those may be remembered as synced."""
    names = set()
    for fm in mapping.fields:
        crm = fm.hubspot if system == "hubspot" else fm.salesforce_name(sobject)
        if crm and crm in written:
            names.add(fm.name)
    return names
