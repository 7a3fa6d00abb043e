"""CRM v3 object endpoints shared by contacts and tasks: basic CRUD, paging, and the batch calls."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.sandbox.hubspot.app import ctx, flag, json_body, multi_arg
from connector.sandbox.hubspot.errors import ApiError, not_found, problem_details, standard_error, validation_message
from connector.sandbox.hubspot.records import SINGULAR, Portal, Source
from connector.sandbox.hubspot.state import ASSOCIATION_TYPE_IDS, Record, iso, now_ms

bp = Blueprint("objects", __name__)
BASE = "/crm/v3/objects/<any(contacts, tasks):object_type>"
MAX_BATCH = 100


def _reply(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


# --- basic ---------------------------------------------------------------------------------------


@bp.get(BASE)
def get_page(object_type: str) -> Response:
    portal = ctx().portal
    limit = min(max(int(request.args.get("limit", 10)), 1), 100)
    after = int(request.args.get("after", 0) or 0)
    archived = flag("archived")
    with portal.state.lock:
        records = sorted((r for r in portal.state.objects[object_type].values()
                          if r.archived == archived and int(r.id) >= after), key=lambda r: int(r.id))
        page = records[: limit + 1]
        results = [portal.render(r, multi_arg("properties"), multi_arg("propertiesWithHistory"),
                                 multi_arg("associations")) for r in page[:limit]]
    body: dict[str, Any] = {"results": results}
    if len(page) > limit:
        nxt = page[limit].id
        body["paging"] = {"next": {"after": nxt, "link": f"{request.base_url}?after={nxt}"}}
    return _reply(body)


@bp.post(BASE)
def create(object_type: str) -> Response:
    context = ctx()
    body = json_body()
    with context.portal.state.lock:
        links = _association_targets(context.portal, object_type, body.get("associations") or [])
        record = context.portal.create(object_type, body.get("properties") or {}, context.api_source)
        for target_type, target_id in links:
            _link(context.portal, (object_type, record.id), (target_type, target_id), context.api_source)
        return _reply(context.portal.render(record, list(record.properties)), 201)


@bp.get(f"{BASE}/<object_id>")
def get_by_id(object_type: str, object_id: str) -> Response:
    portal = ctx().portal
    record = portal.find(object_type, object_id, request.args.get("idProperty"), flag("archived"))
    if record is None:
        raise not_found()
    return _reply(portal.render(record, multi_arg("properties"), multi_arg("propertiesWithHistory"),
                                multi_arg("associations")))


@bp.patch(f"{BASE}/<object_id>")
def update(object_type: str, object_id: str) -> Response:
    context = ctx()
    body = json_body()
    with context.portal.state.lock:
        record = context.portal.find(object_type, object_id, request.args.get("idProperty"))
        if record is None:
            raise not_found()
        context.portal.update(record, body.get("properties") or {}, context.api_source)
        return _reply(context.portal.render(record, list(record.properties)))


@bp.delete(f"{BASE}/<object_id>")
def archive(object_type: str, object_id: str) -> Response:
    context = ctx()
    record = context.portal.find(object_type, object_id)
    if record is not None:
        context.portal.archive(record, context.api_source)
    return Response(status=204)


# --- associations on create ---------------------------------------------------------------------


def _association_targets(portal: Portal, object_type: str, specs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    by_type_id = {type_id: to for (frm, to), type_id in ASSOCIATION_TYPE_IDS.items() if frm == object_type}
    for spec in specs:
        to_id = str((spec.get("to") or {}).get("id", ""))
        for kind in spec.get("types") or []:
            to_type = by_type_id.get(int(kind.get("associationTypeId", 0)))
            if to_type is None:
                raise ApiError(400, "VALIDATION_ERROR",
                               f"association type id {kind.get('associationTypeId')} is not valid from {object_type}")
            if portal.find(to_type, to_id) is None:
                raise ApiError(400, "VALIDATION_ERROR",
                               f"One or more association targets do not exist: {SINGULAR[to_type]} {to_id}")
            targets.append((to_type, to_id))
    return targets


def _link(portal: Portal, a: tuple[str, str], b: tuple[str, str], source: Source, removed: bool = False) -> None:
    changed = portal.state.dissociate(a, b) if removed else portal.state.associate(a, b)
    if not changed:
        return
    contact, other = (a, b) if a[0] == "contacts" else (b, a)
    if contact[0] == "contacts":
        portal.events.emit("contact.associationChange", contact[1], source,
                           associationType=f"CONTACT_TO_{SINGULAR[other[0]].upper()}", fromObjectId=int(contact[1]),
                           toObjectId=int(other[1]), associationRemoved=removed, isPrimaryAssociation=False)


link = _link  # shared with the v4 associations endpoints


# --- batch ---------------------------------------------------------------------------------------


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` must be an array")
    if len(inputs) > MAX_BATCH:
        raise ApiError(400, "VALIDATION_ERROR",
                       f"Batch input limit exceeded: {len(inputs)} inputs sent, at most {MAX_BATCH} are allowed")
    return inputs


def _no_duplicates(ids: list[str]) -> None:
    duplicates = sorted(value for value, count in Counter(ids).items() if count > 1)
    if duplicates:
        raise ApiError(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")


def _batch_reply(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int,
                 ok_status: int = 200) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": iso(started),
                            "completedAt": iso(now_ms())}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return _reply(body, 207)
    return _reply(body, ok_status)


def _not_found_error(object_type: str, ids: list[str], verb: str = "get") -> dict[str, Any]:
    message = (f"Could not {verb} some {SINGULAR[object_type].upper()} objects, they may be deleted or not exist. "
               "Check that ids are valid.")
    return standard_error("OBJECT_NOT_FOUND", message, {"ids": ids})


@bp.post(f"{BASE}/batch/read")
def batch_read(object_type: str) -> Response:
    portal, started = ctx().portal, now_ms()
    body = json_body()
    inputs = _inputs(body)
    id_property, archived = body.get("idProperty"), flag("archived")
    results, missing = [], []
    with portal.state.lock:
        for item in inputs:
            record = portal.find(object_type, str(item.get("id", "")), id_property, archived)
            if record is None:
                missing.append(str(item.get("id", "")))
            else:
                results.append(portal.render(record, body.get("properties") or None,
                                             body.get("propertiesWithHistory") or None))
    return _batch_reply(results, [_not_found_error(object_type, missing)] if missing else [], started)


class _Batch:
    """One batch write, answered as HubSpot does (docs/SANDBOX-hubspot.md, "Batch writes"): when every
    input carries an objectWriteTraceId, each input succeeds or fails alone (207 multi-status, results and
    errors named by trace id); otherwise the first bad input refuses the whole batch and nothing is written."""

    def __init__(self, inputs: list[dict[str, Any]]) -> None:
        self.inputs = inputs
        self.traced = bool(inputs) and all(item.get("objectWriteTraceId") for item in inputs)
        self.results: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []

    def refuse(self, item: dict[str, Any], error: ApiError) -> None:
        if not self.traced:
            raise error
        self.errors.append(standard_error(error.category, error.message,
                                          {"objectWriteTraceId": [str(item["objectWriteTraceId"])]}, error.errors))

    def done(self, item: dict[str, Any], body: dict[str, Any]) -> None:
        if self.traced:
            body = {**body, "objectWriteTraceId": str(item["objectWriteTraceId"])}
        self.results.append(body)


def _validation(problems: list[Any]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", validation_message(problems), errors=problem_details(problems))


@bp.post(f"{BASE}/batch/create")
def batch_create(object_type: str) -> Response:
    context, started = ctx(), now_ms()
    portal, source = context.portal, context.api_source
    batch = _Batch(_inputs(json_body()))
    with portal.state.lock:
        batch_emails: set[str] = set()
        accepted = []
        for item in batch.inputs:  # every input is checked before any is written
            clean, problems = portal.check(object_type, item.get("properties") or {}, source)
            if problems:
                batch.refuse(item, _validation(problems))
                continue
            if object_type == "contacts" and clean.get("email"):
                conflict = portal.email_conflict(clean)
                if conflict is None and clean["email"] in batch_emails:
                    conflict = ApiError(409, "CONFLICT", "Duplicate email in batch input: " + clean["email"])
                if conflict is not None:
                    batch.refuse(item, conflict)
                    continue
                batch_emails.add(clean["email"])
            accepted.append((item, clean))
        for item, clean in accepted:
            record = portal.insert(object_type, clean, source)
            for target_type, target_id in _association_targets(portal, object_type, item.get("associations") or []):
                _link(portal, (object_type, record.id), (target_type, target_id), source)
            batch.done(item, portal.render(record, list(record.properties)))
    return _batch_reply(batch.results, batch.errors, started, ok_status=201)


@bp.post(f"{BASE}/batch/update")
def batch_update(object_type: str) -> Response:
    context, started = ctx(), now_ms()
    portal, source = context.portal, context.api_source
    batch = _Batch(_inputs(json_body()))
    _no_duplicates([str(i.get("id")) for i in batch.inputs])
    with portal.state.lock:
        accepted = []
        for item in batch.inputs:
            record = portal.find(object_type, str(item.get("id", "")), item.get("idProperty"))
            if record is None:
                batch.refuse(item, ApiError(404, "OBJECT_NOT_FOUND", _not_found_error(
                    object_type, [str(item.get("id", ""))], "update")["message"]))
                continue
            clean, problems = portal.check(object_type, item.get("properties") or {}, source, current=record)
            conflict = portal.email_conflict(clean, record) if object_type == "contacts" else None
            if problems or conflict:
                batch.refuse(item, _validation(problems) if problems else conflict)  # type: ignore[arg-type]
                continue
            accepted.append((item, record, clean))
        for item, record, clean in accepted:
            portal.apply(record, clean, source)
            batch.done(item, portal.render(record, list(record.properties)))
    return _batch_reply(batch.results, batch.errors, started)


@bp.post(f"{BASE}/batch/upsert")
def batch_upsert(object_type: str) -> Response:
    context, started = ctx(), now_ms()
    portal, source = context.portal, context.api_source
    batch = _Batch(_inputs(json_body()))
    for item in batch.inputs:
        if object_type != "contacts" or item.get("idProperty") != "email":
            raise ApiError(400, "VALIDATION_ERROR",
                           f"idProperty {item.get('idProperty')!r} is not a unique property; upsert needs one")
    _no_duplicates([str(i.get("id", "")).strip().lower() for i in batch.inputs])
    with portal.state.lock:
        accepted = []
        for item in batch.inputs:
            key = str(item.get("id", ""))
            properties = {**(item.get("properties") or {}), "email": key}
            existing = portal.state.contact_by_email(key)
            clean, problems = portal.check(object_type, properties, source, current=existing)
            if problems:
                batch.refuse(item, _validation(problems))
                continue
            accepted.append((item, existing, clean))
        for item, existing, clean in accepted:
            if existing is not None:
                record, new = portal.apply(existing, clean, source), False
            else:
                record, new = portal.insert(object_type, clean, source), True
            batch.done(item, {**portal.render(record, list(record.properties)), "new": new})
    return _batch_reply(batch.results, batch.errors, started)


@bp.post(f"{BASE}/batch/archive")
def batch_archive(object_type: str) -> Response:
    context = ctx()
    inputs = _inputs(json_body())
    with context.portal.state.lock:
        for item in inputs:
            record: Record | None = context.portal.find(object_type, str(item.get("id", "")))
            if record is not None:
                context.portal.archive(record, context.api_source)
    return Response(status=204)
