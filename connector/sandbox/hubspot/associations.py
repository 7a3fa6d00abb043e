"""CRM v4 associations between contacts and tasks (create, default-create, list, remove, batch read)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from connector.sandbox.hubspot.app import ctx, json_body
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.objects import link
from connector.sandbox.hubspot.state import (
    ASSOCIATION_LABELS,
    ASSOCIATION_TYPE_IDS,
    OBJECT_ALIASES,
    OBJECT_TYPE_IDS,
    iso,
    now_ms,
)

bp = Blueprint("associations", __name__)
OBJ = "/crm/v4/objects/<object_type>/<object_id>/associations"


def _pair(object_type: str, object_id: str, to_type: str, to_id: str) -> tuple[str, str]:
    portal = ctx().portal
    frm, to = OBJECT_ALIASES.get(object_type), OBJECT_ALIASES.get(to_type)
    if frm is None or to is None or (frm, to) not in ASSOCIATION_TYPE_IDS:
        raise ApiError(400, "VALIDATION_ERROR", f"Associations from {object_type} to {to_type} are not supported")
    if portal.find(frm, object_id) is None or portal.find(to, to_id) is None:
        raise not_found(f"No {frm} with id {object_id} or no {to} with id {to_id}")
    return frm, to


def _types(frm: str, to: str) -> list[dict[str, Any]]:
    type_id = ASSOCIATION_TYPE_IDS[(frm, to)]
    return [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]


@bp.put(f"{OBJ}/<to_object_type>/<to_object_id>")
def create(object_type: str, object_id: str, to_object_type: str, to_object_id: str) -> Response:
    context = ctx()
    frm, to = _pair(object_type, object_id, to_object_type, to_object_id)
    for spec in json_body() or []:
        if int(spec.get("associationTypeId", 0)) != ASSOCIATION_TYPE_IDS[(frm, to)]:
            raise ApiError(400, "VALIDATION_ERROR",
                           f"association type id {spec.get('associationTypeId')} is not valid from {frm} to {to}")
    link(context.portal, (frm, object_id), (to, to_object_id), context.api_source)
    response = jsonify({"fromObjectTypeId": OBJECT_TYPE_IDS[frm], "fromObjectId": int(object_id),
                        "toObjectTypeId": OBJECT_TYPE_IDS[to], "toObjectId": int(to_object_id), "labels": []})
    response.status_code = 201
    return response


@bp.put(f"{OBJ}/default/<to_object_type>/<to_object_id>")
def create_default(object_type: str, object_id: str, to_object_type: str, to_object_id: str) -> Response:
    context = ctx()
    started = now_ms()
    frm, to = _pair(object_type, object_id, to_object_type, to_object_id)
    link(context.portal, (frm, object_id), (to, to_object_id), context.api_source)
    result = {"from": {"id": object_id}, "to": {"id": to_object_id},
              "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                                  "associationTypeId": ASSOCIATION_TYPE_IDS[(frm, to)]}}
    return jsonify({"status": "COMPLETE", "results": [result], "startedAt": iso(started), "completedAt": iso(now_ms())})


@bp.delete(f"{OBJ}/<to_object_type>/<to_object_id>")
def remove(object_type: str, object_id: str, to_object_type: str, to_object_id: str) -> Response:
    context = ctx()
    frm, to = _pair(object_type, object_id, to_object_type, to_object_id)
    link(context.portal, (frm, object_id), (to, to_object_id), context.api_source, removed=True)
    return Response(status=204)


@bp.get(f"{OBJ}/<to_object_type>")
def get_page(object_type: str, object_id: str, to_object_type: str) -> Response:
    frm, to = OBJECT_ALIASES.get(object_type), OBJECT_ALIASES.get(to_object_type)
    if frm is None or to is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unknown object type {object_type} or {to_object_type}")
    pairs = ctx().portal.state.associated((frm, object_id), to)
    results = [{"toObjectId": int(oid), "associationTypes": _labelled(types)} for oid, types in pairs]
    return jsonify({"results": results})


@bp.post("/crm/v4/associations/<from_type>/<to_type>/batch/read")
def batch_read(from_type: str, to_type: str) -> Response:
    state = ctx().portal.state
    frm, to = OBJECT_ALIASES.get(from_type), OBJECT_ALIASES.get(to_type)
    if frm is None or to is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unknown object type {from_type} or {to_type}")
    started, results = now_ms(), []
    for item in (json_body().get("inputs") or [])[:1000]:
        pairs = state.associated((frm, str(item.get("id"))), to)
        if pairs:
            results.append({"from": {"id": str(item.get("id"))},
                            "to": [{"toObjectId": int(oid), "associationTypes": _labelled(types)}
                                   for oid, types in pairs]})
    return jsonify({"status": "COMPLETE", "results": results, "startedAt": iso(started), "completedAt": iso(now_ms())})


def _labelled(types: set[int]) -> list[dict[str, Any]]:
    return [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": ASSOCIATION_LABELS.get(t)} for t in sorted(types)]
