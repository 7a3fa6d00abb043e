"""What preflight asks a portal about itself: the private app token's scopes, workflows, and daily API usage.

Shapes follow HubSpot's docs (plus DELETE /crm/v3/properties/{objectType}/{name}, which archives):
- POST /oauth/v2/private-apps/get/access-token-info {"tokenKey": token} -> {userId, hubId, appId, scopes}
  (https://developers.hubspot.com/docs/api/private-apps, "View private app access token information")
- GET /automation/v3/workflows/{workflowId}: the workflow, or 404
- GET /account-info/v3/api-usage/daily/private-apps -> {"results": [{name: "api-calls-daily", usageLimit,
  currentUsage, collectedAt, fetchStatus, resetsAt}]}

The sample portal holds the workflows and static lists the shipped config/nurture.yaml names, and its
token has every scope the connector needs. `/__sandbox/scopes` and `/__sandbox/workflows` change that, so
tests can make a broken portal.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify

from connector.sandbox.hubspot.app import Context, ctx, json_body
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.state import OBJECT_ALIASES, ManualList, iso, now_ms

bp = Blueprint("account", __name__)

FULL_SCOPES = ("oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read",
               "crm.schemas.contacts.write", "crm.lists.read", "crm.lists.write", "automation",
               "crm.objects.owners.read")
SAMPLE_WORKFLOWS = {9001: "Customer: referral reward", 9002: "Customer: NPS survey", 9003: "Customer: upgrade offer",
                    9101: "Exec: ROI calculator", 9102: "Exec: customer story", 9201: "Tech: architecture guide",
                    9202: "Tech: sandbox invitation", 9301: "Consideration: buyer's guide",
                    9302: "Consideration: comparison", 9401: "Awareness: welcome", 9402: "Awareness: industry report",
                    9403: "Awareness: checklist"}
SAMPLE_LISTS = {"301": "Retargeting: docs ad", "302": "Retargeting: report ad"}


def _scopes(context: Context) -> list[str]:
    return list(context.extra.get("scopes", FULL_SCOPES))


def _workflows(context: Context) -> dict[int, str]:
    return context.extra.setdefault("workflows", dict(SAMPLE_WORKFLOWS))


def add_sample_lists(context: Context) -> None:
    """The static lists the sample config names; kept if they already exist (a persisted state)."""
    state = context.portal.state
    with state.lock:
        for list_id, name in SAMPLE_LISTS.items():
            if list_id not in state.lists:
                stamp = now_ms()
                state.lists[list_id] = ManualList(list_id, name, "0-1", "MANUAL", stamp, stamp)


@bp.post("/oauth/v2/private-apps/get/access-token-info")
def token_info() -> Response:
    context = ctx()
    body = json_body()
    if body.get("tokenKey") != context.access_token:
        raise ApiError(401, "INVALID_AUTHENTICATION", "The access token provided is invalid or has expired.")
    return jsonify({"userId": 7000, "hubId": context.portal_id, "appId": context.app_id,
                    "scopes": sorted(_scopes(context))})


@bp.get("/automation/v3/workflows/<int:workflow_id>")
def workflow(workflow_id: int) -> Response:
    name = _workflows(ctx()).get(workflow_id)
    if name is None:
        raise not_found(f"Workflow {workflow_id} not found")
    return jsonify({"id": workflow_id, "name": name, "type": "DRIP_DELAY", "enabled": True,
                    "insertedAt": now_ms(), "updatedAt": now_ms()})


@bp.get("/account-info/v3/api-usage/daily/private-apps")
def api_usage() -> Response:
    limiter = ctx().limiter
    tomorrow = (int(time.time()) // 86400 + 1) * 86400 * 1000
    return jsonify({"results": [{"name": "api-calls-daily", "usageLimit": limiter.daily,
                                 "currentUsage": limiter.daily_used, "collectedAt": iso(now_ms()),
                                 "fetchStatus": "SUCCESS", "resetsAt": iso(tomorrow)}]})


@bp.delete("/crm/v3/properties/<object_type>/<name>")
def archive_property(object_type: str, name: str) -> Response:
    """Archive a custom property (HubSpot's own cannot be); `nurture uninstall --remove-properties` uses it."""
    state = ctx().portal.state
    kind = OBJECT_ALIASES.get(object_type)
    if kind is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}")
    with state.lock:
        prop = state.properties[kind].get(name)
        if prop is None or prop.get("archived"):
            raise not_found(f"Unable to find property {name}")
        if prop.get("hubspotDefined"):
            raise ApiError(400, "VALIDATION_ERROR", f"{name} is a HubSpot defined property and cannot be archived")
        prop["archived"] = True
        prop["archivedAt"] = iso(now_ms())
    return Response(status=204)


@bp.route("/__sandbox/scopes", methods=["GET", "POST"])
def set_scopes() -> Response:
    context = ctx()
    body: Any = json_body() if _has_body() else {}
    if "scopes" in body:
        context.extra["scopes"] = tuple(body["scopes"])
    return jsonify({"scopes": sorted(_scopes(context))})


@bp.route("/__sandbox/workflows", methods=["GET", "POST"])
def set_workflows() -> Response:
    workflows = _workflows(ctx())
    body: Any = json_body() if _has_body() else {}
    for item in body.get("add", []):
        workflows[int(item["id"])] = str(item.get("name", f"Workflow {item['id']}"))
    for workflow_id in body.get("remove", []):
        workflows.pop(int(workflow_id), None)
    return jsonify({"workflows": [{"id": k, "name": v} for k, v in sorted(workflows.items())]})


def _has_body() -> bool:
    from flask import request

    return request.method == "POST"
