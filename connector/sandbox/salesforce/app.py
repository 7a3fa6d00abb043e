"""The Flask app: OAuth token endpoint, the REST API behind one gate, and the /__sandbox/ control API.

The gate does for every API call what the platform does before running it: count it, apply injected
faults, check the bearer session, meter the daily limit, and stamp ``Sforce-Limit-Info`` on the answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, request

from connector.sandbox.runtime import FaultSpecError, dropped_response
from connector.sandbox.salesforce.auth import OAuthError
from connector.sandbox.salesforce.http import error_response, failed_response, json_response
from connector.sandbox.salesforce.validate import RecordFailed

if TYPE_CHECKING:
    from connector.sandbox.salesforce.sandbox import SalesforceSandbox

log = logging.getLogger(__name__)
VERSIONS = ("55.0", "56.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]


def create_app(sb: SalesforceSandbox) -> Flask:
    app = Flask("salesforce_sandbox")
    app.register_blueprint(_control(sb))

    @app.post("/services/oauth2/token")
    def token() -> Response:
        sb.calls.add("POST /services/oauth2/token")
        try:
            body = sb.sessions.grant(request.form.to_dict(), sb.instance_url, sb.store.api_user_id)
        except OAuthError as exc:
            return json_response(exc.body(), exc.status)
        return json_response(body)

    @app.get("/services/data")
    @app.get("/services/data/")
    def versions() -> Response:
        # The versions resource needs no session and does not count against the daily limit.
        return json_response([{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v} for v in VERSIONS])

    @app.route("/services/data/v<version>/", defaults={"path": ""}, methods=METHODS)
    @app.route("/services/data/v<version>/<path:path>", methods=METHODS)
    def api(version: str, path: str) -> Response:
        response = _gate(sb, version, path)
        response.headers["Sforce-Limit-Info"] = f"api-usage={sb.state.api_usage}/{sb.daily_api_limit}"
        return response

    return app


def _gate(sb: SalesforceSandbox, version: str, path: str) -> Response:
    parts = [p for p in path.split("/") if p]
    routed = sb.rest.route(request.method, parts) if version == sb.store.version else None
    sb.calls.add(routed[0] if routed else f"{request.method} /{path}")
    if sb.faults.expire_sessions > 0:
        sb.sessions.expire_all()
        sb.faults.expire_sessions = 0
    fault = sb.faults.before_call()
    if fault == "hang":
        return dropped_response()
    if fault in ("outage", "error"):
        message = "Server unavailable (sandbox outage)" if fault == "outage" else "Service temporarily unavailable"
        return error_response("SERVER_UNAVAILABLE", message, 503)
    if not sb.sessions.valid(request.headers.get("Authorization")):
        return error_response("INVALID_SESSION_ID", "Session expired or invalid", 401)
    with sb.state.lock:
        refused = fault == "rate_limited" or sb.state.api_usage >= sb.daily_api_limit
        if not refused:
            sb.state.api_usage += 1
    if refused:
        return error_response("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403)
    if routed is None:
        return error_response("NOT_FOUND", "The requested resource does not exist", 404)
    try:
        answer = routed[1]()
        if answer.status_code < 500 and sb.faults.after_call():
            # Processed and committed, but the caller hears only a 503: a blind retry would do it twice.
            return error_response("SERVER_UNAVAILABLE", "Service temporarily unavailable", 503)
        return answer
    except RecordFailed as exc:
        return failed_response(exc)
    except Exception:
        log.exception("salesforce sandbox failed on %s %s", request.method, request.path)
        return error_response("UNKNOWN_EXCEPTION", "An unexpected error occurred in the sandbox.", 500)


def _control(sb: SalesforceSandbox) -> Blueprint:
    bp = Blueprint("salesforce_control", __name__, url_prefix="/__sandbox")

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}

    @bp.get("/calls")
    def calls() -> Response:
        return json_response({"total": sb.calls.total(), "by_endpoint": sb.calls.snapshot(),
                              "api_usage": sb.state.api_usage, "daily_api_limit": sb.daily_api_limit})

    @bp.post("/calls/reset")
    def calls_reset() -> Response:
        sb.calls.reset()
        if body().get("api_usage"):
            sb.state.api_usage = 0
        return json_response({"ok": True})

    @bp.route("/faults", methods=["GET", "POST"])
    def faults() -> Response:
        if request.method == "POST":
            try:
                sb.faults.update(body())
            except FaultSpecError as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(sb.faults.as_dict())

    @bp.post("/expire-sessions")
    def expire_sessions() -> Response:
        return json_response({"expired": sb.sessions.expire_all()})

    @bp.post("/convert-lead")
    def convert_lead() -> Response:
        data = body()
        if not data.get("lead_id"):
            return json_response({"error": "lead_id is required"}, 400)
        try:
            result = sb.convert(str(data["lead_id"]), contact_id=data.get("contact_id"),
                                create_opportunity=bool(data.get("create_opportunity")))
        except RecordFailed as exc:
            return failed_response(exc)
        return json_response({"lead_id": result.lead_id, "contact_id": result.contact_id,
                              "account_id": result.account_id, "opportunity_id": result.opportunity_id})

    @bp.post("/ui-edit")
    def ui_edit() -> Response:
        data = body()
        sobject, record_id, fields = data.get("sobject") or data.get("type"), data.get("id"), data.get("fields")
        if not sobject or not record_id or not isinstance(fields, dict):
            return json_response({"error": "send {\"sobject\": \"Lead\", \"id\": \"00Q...\", \"fields\": {...}}"}, 400)
        try:
            sb.ui_edit(str(sobject), str(record_id), fields)
        except RecordFailed as exc:
            return failed_response(exc)
        return json_response({"id": record_id, "success": True})

    @bp.post("/seed")
    def seed() -> Response:
        from connector.sandbox.fake_people import generate_people

        data = body()
        ids = sb.seed(generate_people(int(data.get("n", 10)), seed=int(data.get("seed", 0))))
        return json_response({"ids": ids})

    @bp.post("/fields")
    def add_field() -> Response:
        data = body()
        try:
            sb.add_custom_field(str(data.pop("sobject", "")), str(data.pop("name", "")),
                                str(data.pop("type", "string")), **data)
        except (KeyError, ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"ok": True})

    @bp.post("/duplicate-rule")
    def duplicate_rule() -> Response:
        sb.store.duplicate_rule = bool(body().get("enabled", True))
        return json_response({"enabled": sb.store.duplicate_rule})

    @bp.post("/api-usage")
    def api_usage() -> Response:
        sb.state.api_usage = int(body().get("used", 0))
        return json_response({"api_usage": sb.state.api_usage, "daily_api_limit": sb.daily_api_limit})

    @bp.get("/outbound")
    def outbound() -> Response:
        entries = list(sb.deliverer.log)[-100:]
        return json_response({"messages": sb.outbound.messages_sent, "pending": sb.deliverer.pending(),
                              "log": [vars(e) for e in entries]})

    @bp.post("/outbound/flush")
    def outbound_flush() -> Response:
        return json_response({"messages": sb.flush_outbound()})

    @bp.get("/state")
    def state() -> Response:
        with sb.state.lock:
            counts = {name: sum(1 for r in table.values() if not r.get("IsDeleted"))
                      for name, table in sb.state.records.items()}
        return json_response({"records": counts, "api_usage": sb.state.api_usage})

    return bp

