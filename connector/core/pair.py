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

from connector.core.merge import MISSING, merge_field
from connector.core.values import BadValue, UnmappedValue, from_hubspot, from_salesforce, to_hubspot, to_salesforce
from connector.settings.mapping_config import FieldMapping, MappingConfig

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class HubSpotRecord:
    id: str
    properties: Mapping[str, Any]
    updated_at: datetime | None = None


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


@dataclass
class PairPlan:
    canonical: dict[str, Any] = field(default_factory=dict)
    hubspot: list[FieldChange] = field(default_factory=list)
    salesforce: list[FieldChange] = field(default_factory=list)
    base: dict[str, Any] = field(default_factory=dict)  # what to remember as synced once writes succeed
    problems: list[tuple[str, str]] = field(default_factory=list)  # (canonical field, message)

    def hubspot_properties(self) -> dict[str, Any]:
        return {c.crm_field: c.after for c in self.hubspot}

    def salesforce_fields(self) -> dict[str, Any]:
        return {c.crm_field: c.after for c in self.salesforce}


def email_valid(email: Any) -> bool:
    return isinstance(email, str) and bool(_EMAIL.match(email.strip()))


def plan_pair(
    mapping: MappingConfig,
    hubspot: HubSpotRecord | None,
    salesforce: SalesforceRecord | None,
    base: Mapping[str, Any] | None = None,
    sf_lengths: Mapping[str, int] | None = None,
) -> PairPlan:
    """Merge every mapped field. Writes are listed only where the other side's value really differs."""
    plan = PairPlan()
    base = base or {}
    sf_type = salesforce.type if salesforce else mapping.salesforce.create_as
    for fm in mapping.fields:
        hub_name, sf_name = fm.hubspot, fm.salesforce_name(sf_type)
        limit = (sf_lengths or {}).get(sf_name or "")
        hub_value = _read(plan, fm, hubspot, hub_name, from_hubspot, lambda r: r.properties)
        sf_value = _read(plan, fm, salesforce, sf_name, from_salesforce, lambda r: r.fields)
        known = fm.name in base
        prior = base.get(fm.name, MISSING)
        if known:  # a side that still holds the base in its own form has not changed
            if hub_value is not MISSING and _same_hubspot(fm, hub_value, prior):
                hub_value = prior
            if sf_value is not MISSING and _same_salesforce(fm, sf_value, prior, limit):
                sf_value = prior
        merged = merge_field(fm.sync, hub_value, sf_value, prior,
                             hubspot.updated_at if hubspot else None, salesforce.updated_at if salesforce else None)
        plan.canonical[fm.name] = merged.value
        if fm.sync != "none":
            plan.base[fm.name] = merged.value
        if hubspot is not None and hub_name and merged.write_hubspot and not _same_hubspot(fm, hub_value, merged.value):
            plan.hubspot.append(FieldChange(fm.name, hub_name, hubspot.properties.get(hub_name),
                                            to_hubspot(fm, merged.value), merged.reason))
        if salesforce is not None and sf_name and merged.write_salesforce:
            _plan_salesforce(plan, fm, salesforce, sf_name, sf_value, merged.value, limit, merged.reason)
    plan.canonical["email_valid"] = email_valid(plan.canonical.get("email"))
    return plan


def _read(plan: PairPlan, fm: FieldMapping, record: Any, name: str | None, convert: Any, values: Any) -> Any:
    if record is None or not name:
        return MISSING
    try:
        return convert(fm, values(record).get(name))
    except (UnmappedValue, BadValue) as exc:
        plan.problems.append((fm.name, str(exc)))
        return MISSING


def _same_hubspot(fm: FieldMapping, current: Any, desired: Any) -> bool:
    if current is MISSING or desired is MISSING:
        return current is desired
    return to_hubspot(fm, current) == to_hubspot(fm, desired)


def _same_salesforce(fm: FieldMapping, current: Any, desired: Any, limit: int | None) -> bool:
    if current is MISSING or desired is MISSING:
        return current is desired
    try:
        # Round-trip both through Salesforce's form, so truncation and trimming compare alike.
        return _salesforce_form(fm, current, limit) == _salesforce_form(fm, desired, limit)
    except UnmappedValue:
        return current == desired


def _salesforce_form(fm: FieldMapping, value: Any, limit: int | None) -> Any:
    return from_salesforce(fm, to_salesforce(fm, value, limit))


def _plan_salesforce(plan: PairPlan, fm: FieldMapping, record: SalesforceRecord, sf_name: str, current: Any,
                     desired: Any, limit: int | None, reason: str) -> None:
    if _same_salesforce(fm, current, desired, limit):
        return
    try:
        value = to_salesforce(fm, desired, limit)
    except UnmappedValue as exc:
        plan.problems.append((fm.name, str(exc)))
        plan.base.pop(fm.name, None)  # not synced: keep noticing it until the map is fixed
        return
    plan.salesforce.append(FieldChange(fm.name, sf_name, record.fields.get(sf_name), value, reason))


def hubspot_create_properties(mapping: MappingConfig, canonical: Mapping[str, Any]) -> dict[str, str]:
    """Properties for a new HubSpot contact made from a Salesforce record."""
    props = {}
    for fm in mapping.fields:
        if fm.hubspot and fm.sync not in ("none", "hubspot_to_salesforce") and canonical.get(fm.name) is not None:
            props[fm.hubspot] = to_hubspot(fm, canonical[fm.name])
    return props


Problems = list[tuple[str, str]]


def salesforce_create_fields(mapping: MappingConfig, canonical: Mapping[str, Any], hubspot_id: str,
                             sf_lengths: Mapping[str, int] | None = None) -> tuple[dict[str, Any], Problems]:
    """Fields for a new Salesforce record made from a HubSpot contact, required fields defaulted."""
    sobject = mapping.salesforce.create_as
    fields: dict[str, Any] = {}
    problems: Problems = []
    for fm in mapping.fields:
        name = fm.salesforce_name(sobject)
        value = canonical.get(fm.name)
        if not name or value is None or fm.sync in ("none", "salesforce_to_hubspot"):
            continue
        try:
            fields[name] = to_salesforce(fm, value, (sf_lengths or {}).get(name))
        except UnmappedValue as exc:
            problems.append((fm.name, str(exc)))
    for name, default in mapping.salesforce.required_defaults.items():
        if fields.get(name) in (None, ""):
            fields[name] = default
    fields[mapping.salesforce.external_id_field] = hubspot_id
    return fields, problems
