"""The three-way merge of one field: HubSpot's value, Salesforce's value, and the last value synced.

A value that differs from the base changed on that side. Changed on one side: that side wins.
Changed on both (or no base yet, and they differ): the field's sync rule settles it. One-way rules
make their source authoritative; `none` never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()


@dataclass(frozen=True, slots=True)
class Merged:
    value: Any  # the canonical value both sides should hold
    write_hubspot: bool
    write_salesforce: bool
    reason: str  # for the audit and --dry-run: which rule decided, and why


def merge_field(
    rule: str,
    hubspot: Any,
    salesforce: Any,
    base: Any = MISSING,
    hubspot_modified: datetime | None = None,
    salesforce_modified: datetime | None = None,
) -> Merged:
    """hubspot / salesforce are canonical values, or MISSING when that side has no record or no such field."""
    if hubspot is MISSING and salesforce is MISSING:
        return Merged(None if base is MISSING else base, False, False, "no value on either side")
    if rule == "none":
        return Merged(hubspot if hubspot is not MISSING else salesforce, False, False, "none: not synced")
    if hubspot is MISSING:
        return _take("salesforce", salesforce, rule, "only Salesforce has it")
    if salesforce is MISSING:
        return _take("hubspot", hubspot, rule, "only HubSpot has it")
    if hubspot == salesforce:
        return Merged(hubspot, False, False, "in sync")
    if rule == "hubspot_to_salesforce":
        return _take("hubspot", hubspot, rule, "one-way from HubSpot")
    if rule == "salesforce_to_hubspot":
        return _take("salesforce", salesforce, rule, "one-way from Salesforce")
    hub_changed = base is MISSING or hubspot != base
    sf_changed = base is MISSING or salesforce != base
    if hub_changed and not sf_changed:
        return _take("hubspot", hubspot, rule, "changed in HubSpot")
    if sf_changed and not hub_changed:
        return _take("salesforce", salesforce, rule, "changed in Salesforce")
    return _conflict(rule, hubspot, salesforce, hubspot_modified, salesforce_modified, base is MISSING)


def _take(side: str, value: Any, rule: str, why: str) -> Merged:
    # One-way rules never write back to their own source.
    if rule == "hubspot_to_salesforce" and side == "salesforce":
        return Merged(value, False, False, f"{rule}: {why}; not copied to HubSpot")
    if rule == "salesforce_to_hubspot" and side == "hubspot":
        return Merged(value, False, False, f"{rule}: {why}; not copied to Salesforce")
    return Merged(value, side == "salesforce", side == "hubspot", f"{rule}: {why}")


def _conflict(rule: str, hubspot: Any, salesforce: Any, hub_at: datetime | None, sf_at: datetime | None,
              first_link: bool) -> Merged:
    what = "differ at first link" if first_link else "changed on both sides"
    blank_hub, blank_sf = hubspot is None, salesforce is None
    if rule == "prefer_hubspot":
        return _take("hubspot", hubspot, rule, f"{what}; HubSpot preferred")
    if rule == "prefer_salesforce":
        return _take("salesforce", salesforce, rule, f"{what}; Salesforce preferred")
    if rule == "prefer_hubspot_unless_blank":
        if blank_hub:
            return _take("salesforce", salesforce, rule, f"{what}; HubSpot blank")
        return _take("hubspot", hubspot, rule, f"{what}; HubSpot preferred")
    if rule == "prefer_salesforce_unless_blank":
        if blank_sf:
            return _take("hubspot", hubspot, rule, f"{what}; Salesforce blank")
        return _take("salesforce", salesforce, rule, f"{what}; Salesforce preferred")
    # two_way: the most recent change wins; on a tie (or no timestamps) a non-blank value beats a blank
    # one and HubSpot breaks the rest, so the outcome never flip-flops between runs.
    if hub_at and sf_at and hub_at != sf_at:
        newer = "hubspot" if hub_at > sf_at else "salesforce"
        return _take(newer, hubspot if newer == "hubspot" else salesforce, rule, f"{what}; {newer} changed last")
    if blank_hub and not blank_sf:
        return _take("salesforce", salesforce, rule, f"{what}; HubSpot blank")
    return _take("hubspot", hubspot, rule, f"{what}; same time, HubSpot breaks the tie")
