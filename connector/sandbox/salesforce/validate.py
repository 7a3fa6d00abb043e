"""Turn a JSON body into field values the way the org checks them, collecting every error.

Error codes and messages follow what Salesforce answers for the same mistakes, so the connector's
error handling is exercised against realistic shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from connector.sandbox.salesforce.schema import TEXT_TYPES, Field, SObjectType
from connector.sandbox.salesforce.state import to18

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})


@dataclass
class RecordError:
    code: str
    message: str
    fields: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def rest(self) -> dict[str, Any]:
        """The shape single-record calls answer: [{"message","errorCode","fields"}]."""
        return {**self.extra, "errorCode": self.code, "message": self.message, "fields": self.fields}

    def collection(self) -> dict[str, Any]:
        """The shape inside sObject Collections results: {"statusCode","message","fields"}."""
        # Duplicate-rule errors carry their DuplicateResult here too, so a client can see the matches.
        return {"statusCode": self.code, "message": self.message, "fields": self.fields, **self.extra}


class RecordFailed(Exception):
    def __init__(self, errors: list[RecordError], status: int = 400) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.errors = errors
        self.status = status


def format_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    cleaned = text.strip().replace("Z", "+00:00")
    # Salesforce writes +0000; fromisoformat wants +00:00
    cleaned = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", cleaned)
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _deserialize_error(f: Field, value: Any) -> RecordError:
    kind = type(value).__name__.upper()
    return RecordError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {f.type} from VALUE_{kind} value {value} "
        "or request may be missing a required field",
    )


def coerce_value(f: Field, value: Any) -> tuple[Any, RecordError | None]:
    """Normalise one value for field ``f`` (None clears it)."""
    if value is None:
        return (f.default if f.type == "boolean" else None), None
    if f.type in TEXT_TYPES:
        if isinstance(value, bool | dict | list):
            return None, _deserialize_error(f, value)
        text = str(value)
        if f.length and len(text) > f.length:
            return None, RecordError(
                "STRING_TOO_LONG", f"{f.label or f.name}: data value too large: {text} (max length={f.length})",
                [f.name],
            )
        if f.type == "email" and text and not _EMAIL.match(text):
            return None, RecordError("INVALID_EMAIL_ADDRESS", f"{f.name}: invalid email address: {text}",
                                     [f.name])
        if f.restricted and f.picklist and text not in f.picklist:
            return None, RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{f.label or f.name}: bad value for restricted picklist field: {text}", [f.name],
            )
        return (text or None), None
    if f.type == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true", None
        return None, _deserialize_error(f, value)
    if f.type in NUMBER_TYPES:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            return None, _deserialize_error(f, value)
        return (int(number) if f.type == "int" else number), None
    if f.type == "date":
        try:
            return date.fromisoformat(str(value)[:10]).isoformat(), None
        except ValueError:
            return None, _deserialize_error(f, value)
    if f.type == "datetime":
        try:
            return format_datetime(parse_datetime(str(value))), None
        except ValueError:
            return None, _deserialize_error(f, value)
    if f.type in ("reference", "id"):
        text = str(value)
        if not _ID.match(text):
            return None, RecordError("MALFORMED_ID", f"{f.name}: id value of incorrect type: {text}", [f.name])
        return to18(text), None
    return value, None


def coerce_body(
    sobject: SObjectType, body: dict[str, Any], *, creating: bool
) -> tuple[dict[str, Any], list[RecordError]]:
    """Map a request body onto canonical field names, checking access, types, lengths and picklists."""
    values: dict[str, Any] = {}
    errors: list[RecordError] = []
    read_only: list[str] = []
    for key, raw in body.items():
        if key == "attributes":
            continue
        f = sobject.field(key)
        if f is None:
            errors.append(RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {sobject.name}",
                                      [key]))
            continue
        if not (f.createable if creating else f.updateable):
            read_only.append(f.name)
            continue
        value, error = coerce_value(f, raw)
        if error:
            errors.append(error)
        else:
            values[f.name] = value
    if read_only:
        verb = "create" if creating else "update"
        errors.append(RecordError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to {verb} fields: {', '.join(read_only)}. Please check the security settings of this "
            "field and verify that it is read/write for your profile or permission set.",
            read_only,
        ))
    return values, errors


def missing_required(sobject: SObjectType, record: dict[str, Any]) -> RecordError | None:
    missing = [f.name for f in sobject.fields.values() if f.required and record.get(f.name) in (None, "")]
    if not missing:
        return None
    return RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
