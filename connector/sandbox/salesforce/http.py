"""Small helpers shared by the REST handlers: JSON answers and error bodies in Salesforce's shapes."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from connector.sandbox.salesforce.validate import RecordError, RecordFailed


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")


def error_response(code: str, message: str, status: int = 400, fields: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return json_response([body], status)


def failed_response(exc: RecordFailed) -> Response:
    return json_response([e.rest() for e in exc.errors], exc.status)


def request_json() -> Any:
    """The request body as JSON, or a JSON_PARSER_ERROR the way the API reports unreadable bodies."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise RecordFailed([RecordError("JSON_PARSER_ERROR", "The request body is empty.")])
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RecordFailed([RecordError("JSON_PARSER_ERROR", f"Unexpected character: {exc}")]) from None


def allow_duplicates() -> bool:
    header = request.headers.get("Sforce-Duplicate-Rule-Header", "")
    options = dict(part.strip().partition("=")[::2] for part in header.split(";") if "=" in part)
    return options.get("allowSave", "").strip().lower() == "true"
