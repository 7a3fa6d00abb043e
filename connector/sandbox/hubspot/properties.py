"""CRM v3 properties API: list, read, create custom properties, and property groups."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from connector.sandbox.hubspot.app import ctx, flag, json_body
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.state import OBJECT_ALIASES, iso, now_ms

bp = Blueprint("properties", __name__)
BASE = "/crm/v3/properties/<object_type>"
TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}


def _object(object_type: str) -> str:
    resolved = OBJECT_ALIASES.get(object_type)
    if resolved is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}")
    return resolved


@bp.get(BASE)
def list_properties(object_type: str) -> Response:
    state = ctx().portal.state
    archived = flag("archived")
    with state.lock:
        results = [p for p in state.properties[_object(object_type)].values() if p.get("archived", False) == archived]
    return jsonify({"results": results})


@bp.get(f"{BASE}/<name>")
def get_property(object_type: str, name: str) -> Response:
    prop = ctx().portal.state.properties[_object(object_type)].get(name)
    if prop is None:
        raise not_found(f"Unable to find property {name}")
    return jsonify(prop)


@bp.post(BASE)
def create_property(object_type: str) -> Response:
    state = ctx().portal.state
    body = json_body()
    kind = _object(object_type)
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", f"Missing required fields: {', '.join(missing)}")
    if body["type"] not in TYPES:
        raise ApiError(400, "VALIDATION_ERROR", f"Unknown property type {body['type']}")
    with state.lock:
        if body["name"] in state.properties[kind]:
            raise ApiError(409, "OBJECT_ALREADY_EXISTS", f"A property named '{body['name']}' already exists.")
        if body["groupName"] not in state.groups[kind]:
            raise ApiError(400, "VALIDATION_ERROR", f"Property group {body['groupName']} does not exist")
        stamp = iso(now_ms())
        prop: dict[str, Any] = {
            "name": body["name"], "label": body["label"], "type": body["type"], "fieldType": body["fieldType"],
            "groupName": body["groupName"], "description": body.get("description", ""),
            "displayOrder": body.get("displayOrder", -1), "hidden": bool(body.get("hidden", False)),
            "hasUniqueValue": bool(body.get("hasUniqueValue", False)), "formField": bool(body.get("formField", True)),
            "calculated": False, "externalOptions": False, "hubspotDefined": False, "archived": False,
            "createdAt": stamp, "updatedAt": stamp,
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": False, "readOnlyValue": False},
            "options": [{"hidden": False, "displayOrder": i, "description": "", **o}
                        for i, o in enumerate(body.get("options") or [])],
        }
        state.properties[kind][prop["name"]] = prop
    response = jsonify(prop)
    response.status_code = 201
    return response


@bp.get(f"{BASE}/groups")
def list_groups(object_type: str) -> Response:
    state = ctx().portal.state
    return jsonify({"results": list(state.groups[_object(object_type)].values())})


@bp.post(f"{BASE}/groups")
def create_group(object_type: str) -> Response:
    state = ctx().portal.state
    body = json_body()
    kind = _object(object_type)
    if not body.get("name") or not body.get("label"):
        raise ApiError(400, "VALIDATION_ERROR", "A property group needs a name and a label")
    with state.lock:
        if body["name"] in state.groups[kind]:
            raise ApiError(409, "OBJECT_ALREADY_EXISTS", f"A property group named '{body['name']}' already exists.")
        group = {"name": body["name"], "label": body["label"], "displayOrder": body.get("displayOrder", -1),
                 "archived": False}
        state.groups[kind][group["name"]] = group
    response = jsonify(group)
    response.status_code = 201
    return response
