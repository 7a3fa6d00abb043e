"""The sandbox-only control API under /__sandbox/ (no auth; loopback only).

It lets tests, benchmarks and demos count calls, inject faults, tune budgets, act as a HubSpot user
(changes arrive as CRM_UI webhooks), simulate engagement, and inspect enrollments and deliveries.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.sandbox.fake_people import generate_people
from connector.sandbox.hubspot.app import ctx, json_body
from connector.sandbox.hubspot.contacts import gdpr_delete, merge
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.records import Source
from connector.sandbox.hubspot.seeding import seed_people
from connector.sandbox.runtime import FaultSpecError

bp = Blueprint("control", __name__, url_prefix="/__sandbox")
UI = Source("CRM_UI", "userId:7000")
# Engagement (opens, clicks, page views, form fills) is computed by HubSpot itself, so it may set
# read-only properties; its webhooks carry the analytics source, not a user or the integration.
ANALYTICS = Source("ANALYTICS", None)


def _extra(key: str) -> Any:
    return ctx().extra.get(key)


@bp.get("/calls")
def calls() -> Response:
    counter = ctx().calls
    return jsonify({"total": counter.total(), "calls": counter.snapshot()})


@bp.post("/calls/reset")
def reset_calls() -> Response:
    ctx().calls.reset()
    return jsonify({"total": 0, "calls": {}})


@bp.route("/faults", methods=["GET", "POST"])
def faults() -> Response:
    context = ctx()
    if request.method == "POST":
        try:
            context.faults.update(json_body())
        except FaultSpecError as exc:
            raise ApiError(400, "VALIDATION_ERROR", str(exc)) from None
    return jsonify(context.faults.as_dict())


@bp.route("/rate-limits", methods=["GET", "POST"])
def rate_limits() -> Response:
    limiter = ctx().limiter
    if request.method == "POST":
        body = json_body()
        limiter.configure(int(body.get("per_ten_seconds", limiter.per_ten_seconds)),
                          int(body.get("daily", limiter.daily)),
                          int(body.get("search_per_second", limiter.search.limit)))
    return jsonify({"per_ten_seconds": limiter.per_ten_seconds, "daily": limiter.daily,
                    "search_per_second": limiter.search.limit, "daily_used": limiter.daily_used})


@bp.post("/seed")
def seed() -> Response:
    body = request.get_json(silent=True) or {}
    ids = seed_people(ctx().portal, generate_people(int(body.get("n", 100)), int(body.get("seed", 0))))
    return jsonify({"ids": ids})


@bp.post("/ui/contacts")
def ui_create() -> Response:
    portal = ctx().portal
    record = portal.create("contacts", json_body().get("properties") or {}, UI)
    return jsonify(portal.render(record, list(record.properties)))


@bp.patch("/ui/contacts/<contact_id>")
def ui_update(contact_id: str) -> Response:
    portal = ctx().portal
    with portal.state.lock:
        record = portal.find("contacts", contact_id)
        if record is None:
            raise not_found()
        portal.update(record, json_body().get("properties") or {}, UI)
        return jsonify(portal.render(record, list(record.properties)))


@bp.delete("/ui/contacts/<contact_id>")
def ui_delete(contact_id: str) -> Response:
    portal = ctx().portal
    record = portal.find("contacts", contact_id)
    if record is None:
        raise not_found()
    portal.archive(record, UI)
    return Response(status=204)


@bp.post("/ui/contacts/<contact_id>/restore")
def ui_restore(contact_id: str) -> Response:
    portal = ctx().portal
    record = portal.find("contacts", contact_id, archived=True)
    if record is None:
        raise not_found()
    portal.restore(record, UI)
    return jsonify(portal.render(record, list(record.properties)))


@bp.post("/merge")
def ui_merge() -> Response:
    portal = ctx().portal
    body = json_body()
    record = merge(portal, str(body.get("primaryObjectId")), str(body.get("objectIdToMerge")), UI)
    return jsonify(portal.render(record, list(record.properties)))


@bp.post("/gdpr-delete")
def ui_gdpr_delete() -> Response:
    body = json_body()
    gdpr_delete(ctx().portal, str(body.get("objectId")), body.get("idProperty"), UI)
    return Response(status=204)


@bp.post("/engagement/contacts/<contact_id>")
def engagement(contact_id: str) -> Response:
    """Set engagement properties (hs_email_open, recent_conversion_event_name, ...) as HubSpot would."""
    portal = ctx().portal
    with portal.state.lock:
        record = portal.find("contacts", contact_id)
        if record is None:
            raise not_found()
        clean, problems = portal.check("contacts", json_body().get("properties") or {},
                                       Source("IMPORT", None, webhooks=False))
        if problems:
            raise ApiError(400, "VALIDATION_ERROR", "; ".join(p.message for p in problems))
        portal.apply(record, clean, ANALYTICS)
        return jsonify(portal.render(record, list(record.properties)))


@bp.get("/enrollments")
def enrollments() -> Response:
    return jsonify({"results": list(ctx().portal.state.enrollments)})


@bp.get("/lists")
def lists() -> Response:
    state = ctx().portal.state
    return jsonify({"results": [{**asdict(lst), "members": sorted(lst.members)} for lst in state.lists.values()]})


@bp.get("/webhooks/events")
def webhook_events() -> Response:
    emitter = _extra("webhooks")
    return jsonify({"results": list(emitter.log) if emitter else []})


@bp.post("/webhooks/flush")
def webhook_flush() -> Response:
    emitter = _extra("webhooks")
    return jsonify({"batches": emitter.flush() if emitter else 0})


@bp.route("/webhooks/subscriptions", methods=["GET", "POST"])
def subscriptions() -> Response:
    emitter = _extra("webhooks")
    if emitter is None:
        raise ApiError(400, "VALIDATION_ERROR", "webhooks are not configured")
    if request.method == "POST":
        body = json_body()
        if "types" in body:
            emitter.subscriptions = set(body["types"])
        if "properties" in body:
            emitter.subscribed_properties = None if body["properties"] is None else set(body["properties"])
    props = emitter.subscribed_properties
    return jsonify({"types": sorted(emitter.subscriptions), "properties": None if props is None else sorted(props)})


@bp.get("/deliveries")
def deliveries() -> Response:
    deliverer = _extra("deliverer")
    entries = [asdict(entry) for entry in deliverer.log] if deliverer else []
    return jsonify({"results": entries, "pending": deliverer.pending() if deliverer else 0})


@bp.get("/summary")
def summary() -> Response:
    state = ctx().portal.state
    with state.lock:
        counts = {t: sum(1 for r in recs.values() if not r.archived) for t, recs in state.objects.items()}
        return jsonify({"objects": counts, "lists": len(state.lists), "enrollments": len(state.enrollments)})
