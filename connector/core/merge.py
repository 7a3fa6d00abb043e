"""The three-way merge of one field: HubSpot's value, Salesforce's value, and the last value synced.

A value that differs from the base changed on that side. Changed on one side: that side wins.
Changed on both (or no base yet, and they differ): the field's sync rule settles it. One-way rules
make their source authoritative; `none` never writes.

Data first: a blank overwrites a value only when a person blanked it (the side held a value at the
last sync) on a side the rule lets win. So a blank never wins at first link, never under the
`*_unless_blank` rules, and a one-way source that was always blank never clears its target. A value
with no mapping (`Unmapped`) is a value like any other here: it is never taken for a blank, and the
planner refuses to write it where it cannot be represented (connector.core.pair).
The table of outcomes is in docs/ARCHITECTURE.md ("Merge rules").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()

ONE_WAY = {"hubspot_to_salesforce": ("hubspot", "salesforce"), "salesforce_to_hubspot": ("salesforce", "hubspot")}
UNLESS_BLANK = {"prefer_hubspot_unless_blank": "hubspot", "prefer_salesforce_unless_blank": "salesforce"}


@dataclass(frozen=True, slots=True)
class Unmapped:
    """A picklist value one side holds that has no canonical form (no entry in the field's `values`)."""

    raw: Any


@dataclass(frozen=True, slots=True)
class Merged:
    value: Any  # the canonical value both sides should hold (an Unmapped when that side's value won)
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
    """hubspot / salesforce are canonical values (None is blank), an `Unmapped`, or MISSING when that side has
    no record or no such field. *_modified are the times each side's value of this field changed."""
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
    first = base is MISSING
    changed = {"hubspot": first or hubspot != base, "salesforce": first or salesforce != base}
    values = {"hubspot": hubspot, "salesforce": salesforce}
    if rule in ONE_WAY:
        source, target = ONE_WAY[rule]
        if values[source] is None and (first or not changed[source]):
            # A source that is blank and that nobody blanked has nothing to say: the target keeps its value.
            return Merged(values[target], False, False, f"{rule}: {source} blank (never set); {target} value kept")
        return _take(source, values[source], rule, f"one-way from {_label(source)}")
    one_sided = None if first or changed["hubspot"] == changed["salesforce"] else (
        "hubspot" if changed["hubspot"] else "salesforce")
    if one_sided is not None:
        other = _other(one_sided)
        if values[one_sided] is None and rule in UNLESS_BLANK:
            # Under "unless blank" a blank never overwrites a value, from either side.
            return _take(other, values[other], rule, f"blanked in {_label(one_sided)}; {rule} keeps the value")
        return _take(one_sided, values[one_sided], rule, f"changed in {_label(one_sided)}")
    return _conflict(rule, hubspot, salesforce, hubspot_modified, salesforce_modified, first)


def _label(side: str) -> str:
    return "HubSpot" if side == "hubspot" else "Salesforce"


def _other(side: str) -> str:
    return "salesforce" if side == "hubspot" else "hubspot"


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
    if first_link and (blank_hub or blank_sf):
        # Nobody blanked anything before the link: the side that has a value keeps it, and the other gets it.
        side = "salesforce" if blank_hub else "hubspot"
        return _take(side, salesforce if blank_hub else hubspot, rule, f"{what}; the other side is blank")
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
    # two_way: the field changed last wins; on a tie (or no times) a value beats a blank and HubSpot breaks
    # the rest, so the outcome never flip-flops between runs.
    if hub_at and sf_at and hub_at != sf_at:
        newer = "hubspot" if hub_at > sf_at else "salesforce"
        return _take(newer, hubspot if newer == "hubspot" else salesforce, rule,
                     f"{what}; {_label(newer)} changed the field last")
    if blank_hub and not blank_sf:
        return _take("salesforce", salesforce, rule, f"{what}; HubSpot blank")
    return _take("hubspot", hubspot, rule, f"{what}; same time, HubSpot breaks the tie")
