"""The Flask app: one gate for every public API call (faults, auth, rate limits, call counting).

The gate runs in the order HubSpot's edge appears to apply them: an outage answers before anything
else; then the bearer token; then the budgets. The sandbox control API (/__sandbox/) skips the gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from connector.sandbox.hubspot.errors import ApiError, correlation_id
from connector.sandbox.hubspot.ratelimit import RateLimiter
from connector.sandbox.hubspot.records import Portal, Source
from connector.sandbox.runtime import CallCounter, Faults, dropped_response

CONTROL_PREFIX = "/__sandbox"


@dataclass
class Context:
    portal: Portal
    faults: Faults
    calls: CallCounter
    limiter: RateLimiter
    access_token: str
    app_id: int
    portal_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def api_source(self) -> Source:
        # Writes by the connector's private app are attributed to the integration, as HubSpot does.
        return Source("INTEGRATION", str(self.app_id))


def ctx() -> Context:
    return current_app.extensions["hubspot_sandbox"]


def create_app(context: Context) -> Flask:
    from connector.sandbox.hubspot import (
        account,
        associations,
        contacts,
        control,
        lists,
        objects,
        owners,
        properties,
        search,
        subscriptions,
    )

    app = Flask("hubspot_sandbox")
    app.extensions["hubspot_sandbox"] = context
    app.url_map.strict_slashes = False
    for module in (objects, contacts, search, properties, associations, lists, owners, control, subscriptions,
                   account):
        app.register_blueprint(module.bp)
    app.before_request(_gate)
    app.after_request(_rate_headers)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def endpoint_name() -> str:
    """"POST /crm/v3/objects/contacts/batch/update": object types kept, ids shown as {name}."""
    rule = request.url_rule
    if rule is None:
        return f"{request.method} {request.path}"
    args = request.view_args or {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return str(args.get(name)) if name == "object_type" else "{" + name + "}"

    return f"{request.method} {re.sub(r'<([^>]+)>', substitute, rule.rule)}"


def _gate() -> Response | None:
    if request.path.startswith(CONTROL_PREFIX):
        return None
    context = ctx()
    context.calls.add(endpoint_name())
    fault = context.faults.before_call()
    if fault == "hang":
        return dropped_response()
    if fault == "outage":
        return _error_response(ApiError(503, "SERVICE_UNAVAILABLE",
                                        "HubSpot is temporarily unavailable. Please retry shortly."))
    if fault == "error":
        return _error_response(ApiError(502, "BAD_GATEWAY", "internal error"))
    token = request.headers.get("Authorization", "")
    if token != f"Bearer {context.access_token}":
        message = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                   "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
        return _error_response(ApiError(401, "INVALID_AUTHENTICATION", message))
    if fault == "rate_limited":
        return _rate_limited("TEN_SECONDLY_ROLLING")
    verdict = context.limiter.take(is_search=request.path.endswith("/search"))
    if not verdict.allowed:
        return _rate_limited(verdict.policy)
    g.rate_remaining = verdict.remaining
    return None


def _rate_limited(policy: str) -> Response:
    label = {"TEN_SECONDLY_ROLLING": "ten_secondly_rolling", "SECONDLY": "secondly", "DAILY": "daily"}[policy]
    body = {"status": "error", "message": f"You have reached your {label} limit.", "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(), "policyName": policy, "groupName": "api"}
    response = jsonify(body)
    response.status_code = 429
    g.rate_remaining = 0
    return response


def _rate_headers(response: Response) -> Response:
    if not request.path.startswith(CONTROL_PREFIX) and response.status_code < 500 and ctx().faults.after_call():
        # Processed and stored, but the caller hears only a gateway error: a blind retry would do it twice.
        response = _error_response(ApiError(502, "BAD_GATEWAY", "upstream request timeout"))
    if not request.path.startswith(CONTROL_PREFIX):
        remaining = g.get("rate_remaining")
        for key, value in ctx().limiter.headers(remaining).items():
            response.headers[key] = value
    return response


def _error_response(error: ApiError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    return response


def _api_error(error: ApiError) -> Response:
    return _error_response(error)


def _http_error(error: HTTPException) -> Response:
    categories = {404: "OBJECT_NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "VALIDATION_ERROR"}
    return _error_response(ApiError(error.code or 500, categories.get(error.code or 500, "ERROR"),
                                    error.description or error.name))


def json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 1: request body is not JSON")
    return body


def multi_arg(name: str) -> list[str]:
    """Query lists arrive repeated (?p=a&p=b, as the SDK sends) or comma-separated (as the docs show)."""
    values: list[str] = []
    for raw in request.args.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def flag(name: str) -> bool:
    return request.args.get(name, "false").lower() == "true"
