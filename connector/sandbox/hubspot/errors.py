"""HubSpot's error bodies, so clients parse the emulator's failures exactly like the real ones."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any


def correlation_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """Raised anywhere in a handler; the app turns it into HubSpot's JSON error response."""

    def __init__(self, status: int, category: str, message: str, errors: list[dict[str, Any]] | None = None,
                 context: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "error", "message": self.message, "correlationId": correlation_id(),
                                "category": self.category}
        if self.errors is not None:
            body["errors"] = self.errors
        if self.context is not None:
            body["context"] = self.context
        body.update(self.extra)
        return body


@dataclass(frozen=True)
class PropertyProblem:
    """One invalid property value, as HubSpot lists them inside a VALIDATION_ERROR."""

    name: str
    code: str  # PROPERTY_DOESNT_EXIST, INVALID_OPTION, READ_ONLY_VALUE, INVALID_EMAIL, ...
    message: str


def validation_message(problems: list[PropertyProblem]) -> str:
    # HubSpot embeds a JSON list of the per-property verdicts in the human message.
    details = [{"isValid": False, "message": p.message, "error": p.code, "name": p.name,
                "localizedErrorMessage": p.message} for p in problems]
    return "Property values were not valid: " + json.dumps(details, separators=(",", ":"))


def validation_error(problems: list[PropertyProblem]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", validation_message(problems), errors=problem_details(problems))


def problem_details(problems: list[PropertyProblem]) -> list[dict[str, Any]]:
    return [{"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}} for p in problems]


def standard_error(category: str, message: str, context: dict[str, Any],
                   errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One entry of a 207 multi-status `errors` array (the SDK's StandardError model)."""
    return {"status": "error", "category": category, "message": message, "context": context,
            "errors": errors or [], "links": {}}


def bad_request(message: str, **extra: Any) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, extra=extra)


def not_found(message: str = "resource not found") -> ApiError:
    return ApiError(404, "OBJECT_NOT_FOUND", message)
