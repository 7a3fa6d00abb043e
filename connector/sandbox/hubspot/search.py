"""POST /crm/v3/objects/{contacts,tasks}/search: filter groups, one sort, `after` paging, HubSpot's caps."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify

from connector.sandbox.hubspot.app import ctx, json_body
from connector.sandbox.hubspot.errors import ApiError
from connector.sandbox.hubspot.state import Record
from connector.sandbox.hubspot.validation import parse_datetime_ms

bp = Blueprint("search", __name__)
# Raised in Aug 2024 (developer changelog "Expanded Filtering Capabilities ... in HubSpot's Search API").
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
MAX_LIMIT, MAX_RESULTS = 200, 10_000
QUERY_PROPERTIES = {"contacts": ("email", "firstname", "lastname", "phone", "company"),
                    "tasks": ("hs_task_subject", "hs_task_body")}


@bp.post("/crm/v3/objects/<any(contacts, tasks):object_type>/search")
def search(object_type: str) -> Response:
    portal = ctx().portal
    body = json_body()
    groups = body.get("filterGroups") or []
    _check_limits(groups)
    limit = int(body.get("limit") or 10)
    if limit > MAX_LIMIT:
        raise ApiError(400, "VALIDATION_ERROR", f"limit must be less than or equal to {MAX_LIMIT}, was {limit}")
    after = int(body.get("after") or 0)
    if after >= MAX_RESULTS:
        raise ApiError(400, "VALIDATION_ERROR",
                       f"The search API cannot page past {MAX_RESULTS} results (after={after}); "
                       "narrow the filters instead, e.g. by hs_object_id or lastmodifieddate ranges")
    schema = portal.state.properties[object_type]
    query = (body.get("query") or "").strip().lower()
    with portal.state.lock:
        matches = [r for r in portal.state.objects[object_type].values()
                   if not r.archived and _matches(r, groups, schema) and _query_hit(r, query, object_type)]
        key, descending = _sort(body.get("sorts") or [])
        kind = schema.get(key, {}).get("type", "number") if key != "id" else "number"
        present = [r for r in matches if _value(r, key)]
        absent = [r for r in matches if not _value(r, key)]
        present.sort(key=lambda r: (_typed(_value(r, key), kind), int(r.id)), reverse=descending)
        ordered = present + absent
        page = ordered[after: min(after + limit, MAX_RESULTS)]
        results = [portal.render(r, body.get("properties") or None) for r in page]
    reply: dict[str, Any] = {"total": len(ordered), "results": results}
    if after + limit < len(ordered):
        reply["paging"] = {"next": {"after": str(after + limit), "link": None}}
    return jsonify(reply)


def _check_limits(groups: list[dict[str, Any]]) -> None:
    total = sum(len(g.get("filters") or []) for g in groups)
    if len(groups) > MAX_GROUPS or any(len(g.get("filters") or []) > MAX_FILTERS_PER_GROUP for g in groups) \
            or total > MAX_FILTERS:
        raise ApiError(400, "VALIDATION_ERROR",
                       f"Search allows at most {MAX_GROUPS} filterGroups of {MAX_FILTERS_PER_GROUP} filters "
                       f"and {MAX_FILTERS} filters in all; got {len(groups)} groups and {total} filters")


def _sort(sorts: list[Any]) -> tuple[str, bool]:
    if len(sorts) > 1:
        raise ApiError(400, "VALIDATION_ERROR", "Only one sort is allowed")
    if not sorts:
        return "hs_object_id", False
    sort = sorts[0]
    # The documented form is an object {"propertyName", "direction"}; the SDK types `sorts` as list[str],
    # but a bare string is not what HubSpot documents, and the sandbox refuses it (docs/SANDBOX-hubspot.md).
    if not isinstance(sort, dict) or not isinstance(sort.get("propertyName"), str):
        raise ApiError(400, "VALIDATION_ERROR",
                       f"Invalid input JSON on line 1: sorts[0] must be an object with propertyName and direction, "
                       f"got {json.dumps(sort)}")
    direction = sort.get("direction", "ASCENDING")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ApiError(400, "VALIDATION_ERROR",
                       f"Invalid sort direction {direction!r}: expected ASCENDING or DESCENDING")
    return sort["propertyName"], direction == "DESCENDING"


def _value(record: Record, name: str) -> str:
    if name in ("id", "hs_object_id"):
        return record.id
    return record.properties.get(name) or ""


def _typed(value: str, kind: str) -> Any:
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return 0.0
    if kind in ("datetime", "date"):
        return parse_datetime_ms(value) or 0
    return value.lower()


def _matches(record: Record, groups: list[dict[str, Any]], schema: dict[str, Any]) -> bool:
    if not groups:
        return True
    return any(all(_test(record, f, schema) for f in g.get("filters") or []) for g in groups)


def _test(record: Record, flt: dict[str, Any], schema: dict[str, Any]) -> bool:
    name, op = flt.get("propertyName", ""), str(flt.get("operator", "EQ")).upper()
    if name not in schema and name != "id":
        raise ApiError(400, "VALIDATION_ERROR",
                       f"There was a problem with the request: property {name!r} does not exist")
    actual = _value(record, name)
    if op == "HAS_PROPERTY":
        return actual != ""
    if op == "NOT_HAS_PROPERTY":
        return actual == ""
    kind = "number" if name in ("id", "hs_object_id") else schema[name]["type"]
    if op in ("IN", "NOT_IN"):
        wanted = {_typed(str(v), kind) for v in flt.get("values") or []}
        hit = actual != "" and _typed(actual, kind) in wanted
        return hit if op == "IN" else not hit
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        hit = _token_hit(actual, str(flt.get("value", "")))
        return hit if op == "CONTAINS_TOKEN" else not hit
    if op == "NEQ":
        return actual == "" or _typed(actual, kind) != _typed(str(flt.get("value", "")), kind)
    if actual == "":
        return False
    left, right = _typed(actual, kind), _typed(str(flt.get("value", "")), kind)
    if op == "BETWEEN":
        high = _typed(str(flt.get("highValue", "")), kind)
        return right <= left <= high
    comparisons = {"EQ": left == right, "LT": left < right, "LTE": left <= right, "GT": left > right,
                   "GTE": left >= right}
    if op not in comparisons:
        raise ApiError(400, "VALIDATION_ERROR", f"Unknown filter operator {op}")
    return comparisons[op]


def _token_hit(actual: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if "*" in pattern:
        return fnmatch.fnmatchcase(actual.lower(), pattern)
    tokens = re.split(r"[\s@.,;_\-]+", actual.lower())
    return pattern in tokens or pattern == actual.lower()


def _query_hit(record: Record, query: str, object_type: str) -> bool:
    if not query:
        return True
    return any(query in (record.properties.get(p) or "").lower() for p in QUERY_PROPERTIES[object_type])
