"""CRM v3 lists: MANUAL (static) contact lists and their memberships."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.sandbox.hubspot.app import ctx, json_body
from connector.sandbox.hubspot.errors import ApiError, not_found
from connector.sandbox.hubspot.state import ManualList, iso, now_ms

bp = Blueprint("lists", __name__)
PROCESSING_TYPES = {"MANUAL", "SNAPSHOT", "DYNAMIC"}


def render(lst: ManualList) -> dict[str, Any]:
    return {"listId": lst.list_id, "name": lst.name, "objectTypeId": lst.object_type_id,
            "processingType": lst.processing_type, "processingStatus": "COMPLETE", "listVersion": lst.version,
            "size": len(lst.members), "createdAt": iso(lst.created_at), "updatedAt": iso(lst.updated_at),
            "filtersUpdatedAt": iso(lst.created_at)}


def _list(list_id: str) -> ManualList:
    lst = ctx().portal.state.lists.get(list_id)
    if lst is None:
        raise not_found(f"List {list_id} does not exist.")
    return lst


@bp.post("/crm/v3/lists/")
def create() -> Response:
    state = ctx().portal.state
    body = json_body()
    if not body.get("name") or body.get("processingType") not in PROCESSING_TYPES:
        raise ApiError(400, "VALIDATION_ERROR",
                       "A list needs a name and a processingType of MANUAL, SNAPSHOT or DYNAMIC")
    if body.get("objectTypeId") != "0-1":
        raise ApiError(400, "VALIDATION_ERROR", "The sandbox supports contact lists only (objectTypeId 0-1)")
    with state.lock:
        if any(lst.name.lower() == body["name"].lower() for lst in state.lists.values()):
            raise ApiError(400, "VALIDATION_ERROR", f"A list named '{body['name']}' already exists.",
                           extra={"subCategory": "ILS.DUPLICATE_LIST_NAMES"})
        ms = now_ms()
        lst = ManualList(str(state.next_list_id), body["name"], "0-1", body["processingType"], ms, ms)
        state.next_list_id += 1
        state.lists[lst.list_id] = lst
    return jsonify({"list": render(lst)})


@bp.get("/crm/v3/lists/<list_id>")
def get(list_id: str) -> Response:
    return jsonify({"list": render(_list(list_id))})


@bp.get("/crm/v3/lists/object-type-id/<object_type_id>/name/<path:name>")
def get_by_name(object_type_id: str, name: str) -> Response:
    for lst in ctx().portal.state.lists.values():
        if lst.object_type_id == object_type_id and lst.name.lower() == name.lower():
            return jsonify({"list": render(lst)})
    raise not_found(f"List with name {name} does not exist.")


@bp.delete("/crm/v3/lists/<list_id>")
def delete(list_id: str) -> Response:
    state = ctx().portal.state
    with state.lock:
        state.lists.pop(_list(list_id).list_id)
    return Response(status=204)


def _change(lst: ManualList, add: list[str], remove: list[str]) -> dict[str, Any]:
    state = ctx().portal.state
    if lst.processing_type == "DYNAMIC":
        raise ApiError(400, "VALIDATION_ERROR", "Memberships of a DYNAMIC list are managed by its filters.")
    added, removed, missing = [], [], []
    with state.lock:
        for record_id in map(str, add):
            contact = state.resolve("contacts", record_id)
            if contact is None or contact.archived:
                missing.append(record_id)
            elif contact.id not in lst.members:
                lst.members[contact.id] = now_ms()
                added.append(contact.id)
        for record_id in map(str, remove):
            if lst.members.pop(record_id, None) is not None:
                removed.append(record_id)
        if added or removed:
            lst.updated_at, lst.version = now_ms(), lst.version + 1
    return {"recordsIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing}


@bp.put("/crm/v3/lists/<list_id>/memberships/add")
def add(list_id: str) -> Response:
    return jsonify(_change(_list(list_id), json_body(), []))


@bp.put("/crm/v3/lists/<list_id>/memberships/remove")
def remove(list_id: str) -> Response:
    return jsonify(_change(_list(list_id), [], json_body()))


@bp.put("/crm/v3/lists/<list_id>/memberships/add-and-remove")
def add_and_remove(list_id: str) -> Response:
    body = json_body()
    return jsonify(_change(_list(list_id), body.get("recordIdsToAdd") or [], body.get("recordIdsToRemove") or []))


@bp.get("/crm/v3/lists/<list_id>/memberships")
def memberships(list_id: str) -> Response:
    lst = _list(list_id)
    limit = min(int(request.args.get("limit", 100)), 250)
    after = int(request.args.get("after", 0) or 0)
    members = sorted(lst.members.items(), key=lambda item: int(item[0]))
    page = members[after: after + limit]
    body: dict[str, Any] = {"results": [{"recordId": rid, "membershipTimestamp": iso(ms)} for rid, ms in page],
                            "total": len(members)}
    if after + limit < len(members):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return jsonify(body)


@bp.get("/crm/v3/lists/records/<object_type_id>/<record_id>/memberships")
def lists_of_record(object_type_id: str, record_id: str) -> Response:
    state = ctx().portal.state
    results = [{"listId": lst.list_id, "listVersion": lst.version, "firstAddedTimestamp": iso(lst.members[record_id]),
                "lastAddedTimestamp": iso(lst.members[record_id])}
               for lst in state.lists.values() if record_id in lst.members]
    return jsonify({"results": results, "total": len(results)})
