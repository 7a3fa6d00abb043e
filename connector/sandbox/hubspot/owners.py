"""Owners (GET /crm/v3/owners) and legacy workflow enrollment by email (automation v2)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from connector.sandbox.hubspot.app import ctx, flag
from connector.sandbox.hubspot.errors import not_found
from connector.sandbox.hubspot.state import now_ms

bp = Blueprint("owners", __name__)


@bp.get("/crm/v3/owners/")
def list_owners() -> Response:
    state = ctx().portal.state
    email = request.args.get("email")
    owners = [o for o in state.owners if o["archived"] == flag("archived") and (not email or o["email"] == email)]
    limit = int(request.args.get("limit", 100))
    after = int(request.args.get("after", 0) or 0)
    body: dict[str, object] = {"results": owners[after: after + limit]}
    if after + limit < len(owners):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return jsonify(body)


@bp.get("/crm/v3/owners/<owner_id>")
def get_owner(owner_id: str) -> Response:
    for owner in ctx().portal.state.owners:
        if owner["id"] == owner_id:
            return jsonify(owner)
    raise not_found(f"Owner {owner_id} not found")


WORKFLOW = "/automation/v2/workflows/<int:workflow_id>/enrollments/contacts/<path:email>"


@bp.post(WORKFLOW)
def enroll(workflow_id: int, email: str) -> Response:
    state = ctx().portal.state
    with state.lock:
        contact = state.contact_by_email(email)
        if contact is None:
            raise not_found(f"Contact with email {email} does not exist")
        state.enrollments.append({"workflowId": workflow_id, "email": email.strip().lower(),
                                  "contactId": contact.id, "enrolledAt": now_ms(), "active": True})
    return Response(status=204)


@bp.delete(WORKFLOW)
def unenroll(workflow_id: int, email: str) -> Response:
    state = ctx().portal.state
    with state.lock:
        for enrollment in state.enrollments:
            if enrollment["workflowId"] == workflow_id and enrollment["email"] == email.strip().lower():
                enrollment["active"] = False
    return Response(status=204)


@bp.get("/automation/v2/workflows/enrollments/contacts/<contact_id>")
def enrollments_of(contact_id: str) -> Response:
    state = ctx().portal.state
    with state.lock:
        active = sorted({e["workflowId"] for e in state.enrollments if e["contactId"] == contact_id and e["active"]})
    return jsonify([{"id": wid, "name": f"Workflow {wid}", "type": "DRIP_DELAY", "enabled": True} for wid in active])
