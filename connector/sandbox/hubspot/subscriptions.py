"""Communication preferences v4, "unsubscribe from all" on the EMAIL channel, and the workflow-id mappings
of automation v4 (legacy workflow id <-> v4 flow id).

Opting out sets the contact's read-only hs_email_optout, as HubSpot does; the API cannot set it
directly. Flow mappings live in the context's `extra["workflow_ids"]` ({flowId: workflowId}); a test or
demo registers them through POST /__sandbox/workflow-id-mappings.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.sandbox.hubspot.app import ctx
from connector.sandbox.hubspot.errors import bad_request, not_found
from connector.sandbox.hubspot.records import Source
from connector.sandbox.hubspot.state import now_ms

bp = Blueprint("subscriptions", __name__)
WIDE = "/communication-preferences/v4/statuses/<path:subscriber>/unsubscribe-all"


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _opted_out() -> dict[str, int]:
    return ctx().extra.setdefault("opted_out", {})  # email -> when


def _answer(email: str) -> dict[str, Any]:
    at = _opted_out().get(email)
    results = [] if at is None else [{"channel": "EMAIL", "status": "UNSUBSCRIBED", "subscriberIdString": email,
                                      "wideStatusType": "PORTAL_WIDE", "timestamp": _iso(at)}]
    stamp = _iso(now_ms())
    return {"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}


def _channel() -> None:
    if request.args.get("channel") != "EMAIL":
        raise bad_request("channel is required and must be EMAIL")


@bp.get(WIDE)
def wide_status(subscriber: str) -> Response:
    _channel()
    return jsonify(_answer(subscriber.strip().lower()))


@bp.post(WIDE)
def unsubscribe_all(subscriber: str) -> Response:
    _channel()
    email = subscriber.strip().lower()
    portal = ctx().portal
    with portal.state.lock:
        contact = portal.state.contact_by_email(email)
        _opted_out().setdefault(email, now_ms())
        if contact is not None and contact.properties.get("hs_email_optout") != "true":
            portal.apply(contact, {"hs_email_optout": "true"}, Source("INTEGRATION", str(ctx().app_id)))
    return jsonify(_answer(email))


@bp.post("/automation/v4/workflow-id-mappings/batch/read")
def workflow_id_mappings() -> Response:
    body = request.get_json(silent=True) or {}
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise bad_request("inputs is required")
    flows: dict[str, str] = ctx().extra.setdefault("workflow_ids", {})
    results = []
    for item in inputs:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "FLOW_ID" and str(item.get("flowId")) in flows:
            results.append({"flowId": int(item["flowId"]), "workflowId": int(flows[str(item["flowId"])])})
        elif kind == "WORKFLOW_ID":
            flow = next((f for f, w in flows.items() if w == str(item.get("workflowId"))), None)
            if flow is not None:
                results.append({"flowId": int(flow), "workflowId": int(item["workflowId"])})
        elif kind not in ("FLOW_ID", "WORKFLOW_ID"):
            raise bad_request(f"Unknown input type {kind!r}: use FLOW_ID or WORKFLOW_ID")
    stamp = _iso(now_ms())
    return jsonify({"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp})


@bp.post("/__sandbox/workflow-id-mappings")
def register_mapping() -> Response:
    body = request.get_json(silent=True) or {}
    if "flowId" not in body or "workflowId" not in body:
        raise not_found("send {\"flowId\": ..., \"workflowId\": ...}")
    ctx().extra.setdefault("workflow_ids", {})[str(body["flowId"])] = str(body["workflowId"])
    return jsonify({"ok": True})
