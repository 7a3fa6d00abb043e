"""Property-value validation and normalization, with HubSpot's error codes.

Values are stored as HubSpot returns them: strings, emails lowercased and trimmed, datetimes as ISO
8601 UTC with milliseconds, booleans "true"/"false".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.hubspot.errors import PropertyProblem
from connector.sandbox.hubspot.schema import LIFECYCLE_STAGES
from connector.sandbox.hubspot.state import State, iso

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def as_string(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def parse_datetime_ms(value: str) -> int | None:
    """Epoch milliseconds or ISO 8601 (date or datetime) -> epoch ms; None if neither."""
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def lifecycle_rank(value: str | None) -> int:
    return LIFECYCLE_STAGES.index(value) if value in LIFECYCLE_STAGES else -1


def validate(
    state: State,
    object_type: str,
    raw: dict[str, Any],
    *,
    internal: bool = False,
) -> tuple[dict[str, str], list[PropertyProblem]]:
    """Normalize ``raw`` property values; list every problem (HubSpot reports them all at once).

    ``internal`` writes (seeding, simulated engagement) may set read-only properties.
    """
    schema = state.properties[object_type]
    clean: dict[str, str] = {}
    problems: list[PropertyProblem] = []
    owner_ids = {owner["id"] for owner in state.owners}
    for name, raw_value in raw.items():
        definition = schema.get(name)
        if definition is None:
            problems.append(PropertyProblem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            continue
        value = as_string(raw_value)
        if definition["modificationMetadata"].get("readOnlyValue") and not internal:
            problems.append(PropertyProblem(
                name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'))
            continue
        if value == "":
            clean[name] = ""
            continue
        problem, normalized = _check_type(name, definition, value, owner_ids, internal)
        if problem:
            problems.append(problem)
        else:
            clean[name] = normalized
    return clean, problems


def _check_type(name: str, definition: dict[str, Any], value: str, owner_ids: set[str],
                internal: bool) -> tuple[PropertyProblem | None, str]:
    kind = definition["type"]
    if name == "email":
        normalized = value.strip().lower()
        if not EMAIL_RE.match(normalized) and not internal:
            return PropertyProblem(name, "INVALID_EMAIL", f"Email address {value} is invalid"), value
        return None, normalized
    if kind == "enumeration":
        allowed = [opt["value"] for opt in definition["options"]]
        if name == "hubspot_owner_id":
            allowed = sorted(owner_ids)
        chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
        bad = [v for v in chosen if v not in allowed]
        if bad:
            message = f"{bad[0]} was not one of the allowed options: {', '.join(allowed)}"
            return PropertyProblem(name, "INVALID_OPTION", message), value
        return None, value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return PropertyProblem(name, "INVALID_DECIMAL", f"{value} is not a valid number"), value
        return None, as_string(number)
    if kind in ("datetime", "date"):
        ms = parse_datetime_ms(value)
        if ms is None:
            return PropertyProblem(name, "INVALID_DATE", f"{value} is not a valid date or datetime"), value
        return None, iso(ms) if kind == "datetime" else iso(ms)[:10]
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            return PropertyProblem(name, "INVALID_BOOLEAN", f"{value} is not a valid boolean"), value
        return None, value.lower()
    return None, value
