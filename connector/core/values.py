"""Field values between HubSpot's form, the canonical form, and Salesforce's form.

Canonical forms: string; number (float); integer (int); boolean; date ("YYYY-MM-DD"); datetime (ISO
UTC with milliseconds); enum (HubSpot's option value — the keys of the field's `values` map);
multiselect (a sorted tuple of HubSpot option values). Blank is None everywhere, so "" and null
never look like a change.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from connector.core.conditions import as_datetime
from connector.settings.mapping_config import FieldMapping


class UnmappedValue(ValueError):
    """A picklist value with no entry in the field's `values` map: reported in the audit, never a crash."""

    def __init__(self, field: str, value: Any, side: str) -> None:
        super().__init__(f"{side} value {value!r} of field {field!r} has no entry in its `values` map")
        self.field, self.value, self.side = field, value, side


class BadValue(ValueError):
    """A value that cannot be read as the field's type (e.g. 'lots' for an integer)."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _apply_transforms(field: FieldMapping, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for transform in field.transform:
        if transform == "trim":
            value = " ".join(value.split()) if field.type == "string" else value.strip()
        elif transform == "lowercase":
            value = value.lower()
        elif transform == "uppercase":
            value = value.upper()
        elif transform == "title":
            value = value.title()
        elif transform == "digits_only":
            value = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    return value or None


def _typed(field: FieldMapping, value: Any) -> Any:
    """Read a raw value from either CRM as the canonical type (enum/multiselect handled by callers)."""
    if _blank(value):
        return None
    kind = field.type
    try:
        if kind in ("string", "enum"):
            return _apply_transforms(field, str(value))
        if kind == "number":
            return float(value)
        if kind == "integer":
            return int(float(value))
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            raise BadValue(f"{value!r} is not true or false")
        if kind == "date":
            when = as_datetime(value)
            if when is None:
                raise BadValue(f"{value!r} is not a date")
            return when.date().isoformat()
        if kind == "datetime":
            when = as_datetime(value)
            if when is None:
                raise BadValue(f"{value!r} is not a date and time")
            return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, BadValue):
            raise
        raise BadValue(f"{value!r} is not a {kind}") from None
    return value


def from_hubspot(field: FieldMapping, raw: Any) -> Any:
    if field.type == "multiselect":
        if _blank(raw):
            return None
        return tuple(sorted({part.strip() for part in str(raw).split(";") if part.strip()})) or None
    return _typed(field, raw)


def to_hubspot(field: FieldMapping, value: Any) -> str:
    """HubSpot takes every property as text; dates as midnight-UTC dates, datetimes as ISO."""
    if value is None:
        return ""
    if field.type == "multiselect":
        return ";".join(value)
    if field.type == "boolean":
        return "true" if value else "false"
    if field.type == "integer":
        return str(int(value))
    if field.type == "number":
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def from_salesforce(field: FieldMapping, raw: Any) -> Any:
    if field.type == "multiselect":
        if _blank(raw):
            return None
        hub = [_reverse(field, part.strip()) for part in str(raw).split(";") if part.strip()]
        return tuple(sorted(set(hub))) or None
    if field.type == "enum" and field.values is not None:
        return None if _blank(raw) else _reverse(field, str(raw).strip())
    return _typed(field, raw)


def to_salesforce(field: FieldMapping, value: Any, max_length: int | None = None) -> Any:
    if value is None:
        # A Salesforce checkbox has no blank: null is stored as false, so a blank compares as false.
        return False if field.type == "boolean" else None
    if field.type == "multiselect":
        return ";".join(_forward(field, v) for v in value)
    if field.type == "enum" and field.values is not None:
        return _forward(field, value)
    if field.type == "date":
        return date.fromisoformat(value).isoformat()
    if field.type == "datetime":
        return value
    if isinstance(value, str):
        limit = field.max_length or max_length
        if limit and len(value) > limit:
            return value[:limit]
    return value


def _forward(field: FieldMapping, value: str) -> str:
    values = field.values or {}
    if value in values:
        return values[value]
    if field.default is not None:  # the admin's stand-in for values with no entry (validated: a key of values)
        return values[field.default]
    raise UnmappedValue(field.name, value, "HubSpot")


def _reverse(field: FieldMapping, value: str) -> str:
    # The first key that maps to a Salesforce value wins; matching ignores case as Salesforce does.
    for hub, sf in (field.values or {}).items():
        if sf.lower() == value.lower():
            return hub
    if field.default is not None:
        return field.default
    raise UnmappedValue(field.name, value, "Salesforce")
