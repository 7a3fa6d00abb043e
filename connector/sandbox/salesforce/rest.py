"""The REST resources under /services/data/vXX.X/: sObject rows, describe, query, limits.

``route`` maps a method and path to an endpoint name (what the call counter records) and a handler,
so the app can count, fault, authenticate and meter every call in one place before running it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from connector.sandbox.salesforce import soql
from connector.sandbox.salesforce.composite import Collections
from connector.sandbox.salesforce.http import (
    allow_duplicates,
    error_response,
    json_response,
    request_json,
)
from connector.sandbox.salesforce.records import Store
from connector.sandbox.salesforce.validate import RecordError, RecordFailed, parse_datetime

Handler = Callable[[], Response]
DEFAULT_BATCH = 2000


class Rest:
    def __init__(self, store: Store, daily_limit: Callable[[], int]) -> None:
        self.store = store
        self.daily_limit = daily_limit
        self.collections = Collections(store)

    @property
    def version(self) -> str:
        return self.store.version

    def route(self, method: str, parts: list[str]) -> tuple[str, Handler] | None:
        if not parts:
            return ("GET /", self.resources) if method == "GET" else None
        head, rest = parts[0], parts[1:]
        if head == "limits" and not rest and method == "GET":
            return "GET /limits", self.limits
        if head in ("query", "queryAll") and method == "GET":
            if not rest:
                return f"GET /{head}", lambda: self.query(include_deleted=head == "queryAll")
            if len(rest) == 1:
                return f"GET /{head}/{{locator}}", lambda: self.query_more(rest[0])
        if head == "sobjects":
            return self._sobject_route(method, rest)
        if head == "composite" and rest[:1] == ["sobjects"]:
            return self.collections.route(method, rest[1:])
        return None

    def _sobject_route(self, method: str, rest: list[str]) -> tuple[str, Handler] | None:
        if not rest:
            return ("GET /sobjects", self.global_describe) if method == "GET" else None
        sobject_type = self.store.schema.get(rest[0])
        name = sobject_type.name if sobject_type else rest[0]
        base = f"/sobjects/{name}"
        if len(rest) == 1:
            if method == "GET":
                return f"GET {base}", lambda: self.metadata(name)
            if method == "POST":
                return f"POST {base}", lambda: self.create(name)
            return None
        if len(rest) == 2 and rest[1] in ("describe", "updated", "deleted") and method == "GET":
            handler = {"describe": self.describe, "updated": self.updated, "deleted": self.deleted}[rest[1]]
            return f"GET {base}/{rest[1]}", lambda: handler(name)
        if len(rest) == 2 and method in ("GET", "PATCH", "DELETE"):
            record_id = rest[1]
            return f"{method} {base}/{{id}}", lambda: self.row(method, name, record_id)
        if len(rest) == 3 and method in ("GET", "PATCH", "DELETE"):
            field, value = rest[1], rest[2]
            return f"{method} {base}/{field}/{{value}}", lambda: self.by_external_id(method, name, field, value)
        return None

    # ---- discovery -----------------------------------------------------------------------------
    def resources(self) -> Response:
        base = f"/services/data/v{self.version}"
        return json_response({k: f"{base}/{k}" for k in ("sobjects", "query", "queryAll", "limits", "composite")})

    def limits(self) -> Response:
        limit = self.daily_limit()
        used = self.store.state.api_usage
        return json_response({
            "DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            "ConcurrentPerOrgLongTxn": {"Max": 25, "Remaining": 25},
        })

    def global_describe(self) -> Response:
        return json_response(self.store.schema.global_describe(self.version))

    def describe(self, name: str) -> Response:
        return json_response(self.store.type_of(name).describe(self.version))

    def metadata(self, name: str) -> Response:
        sobject_type = self.store.type_of(name)
        table = self.store.state.table(sobject_type.name)
        recent = [self.store.render(name, r, ["Id", "Name"] if "Name" in sobject_type.fields else ["Id"])
                  for r in list(table.values())[-10:] if not r.get("IsDeleted")]
        return json_response({"objectDescribe": sobject_type.summary(self.version), "recentItems": recent})

    # ---- rows ----------------------------------------------------------------------------------
    def create(self, name: str) -> Response:
        body = request_json()
        if not isinstance(body, dict):
            return error_response("JSON_PARSER_ERROR", "Expected a JSON object for an sObject")
        with self.store.transaction() as txn:
            record_id = self.store.create(name, body, txn, allow_duplicates=allow_duplicates())
        return json_response({"id": record_id, "success": True, "errors": []}, 201)

    def row(self, method: str, name: str, record_id: str) -> Response:
        self.store.type_of(name)
        if method == "GET":
            record = self.store.get(name, record_id)
            fields = request.args.get("fields")
            chosen = self.store.resolve_fields(name, fields.split(",")) if fields else None
            return json_response(self.store.render(name, record, chosen))
        with self.store.transaction() as txn:
            if method == "PATCH":
                body = request_json()
                if not isinstance(body, dict):
                    return error_response("JSON_PARSER_ERROR", "Expected a JSON object for an sObject")
                self.store.update(name, record_id, body, txn, allow_duplicates=allow_duplicates())
            else:
                self.store.delete(name, record_id, txn)
        return Response(status=204)

    def by_external_id(self, method: str, name: str, field: str, value: str) -> Response:
        self.store.type_of(name)
        if method == "PATCH":
            body = request_json()
            if not isinstance(body, dict):
                return error_response("JSON_PARSER_ERROR", "Expected a JSON object for an sObject")
            try:
                with self.store.transaction() as txn:
                    record_id, created = self.store.upsert(name, field, value, body, txn,
                                                           allow_duplicates=allow_duplicates())
            except RecordFailed as exc:
                if exc.status == 300:  # the API lists the matching records' URLs
                    ids = exc.errors[0].extra.get("ids", [])
                    return json_response([f"/services/data/v{self.version}/sobjects/{name}/{i}" for i in ids], 300)
                raise
            if created:
                return json_response({"id": record_id, "success": True, "errors": [], "created": True}, 201)
            return Response(status=204)
        f = self.store.type_of(name).field(field)
        if f is None or not f.external_id:
            return error_response("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: "
                                  f"{field}", 404)
        ids = self.store.ids_by(name, f.name, value)
        if not ids:
            return error_response("NOT_FOUND", "The requested resource does not exist", 404)
        if len(ids) > 1:
            return json_response([f"/services/data/v{self.version}/sobjects/{name}/{i}" for i in ids], 300)
        return self.row(method, name, ids[0])

    def _window(self) -> tuple[datetime, datetime]:
        try:
            start = parse_datetime(request.args["start"])
            end = parse_datetime(request.args["end"])
        except (KeyError, ValueError):
            raise RecordFailed([RecordError("MALFORMED_QUERY", "start and end must be ISO 8601 datetimes")]) from None
        return start, end

    def updated(self, name: str) -> Response:
        start, end = self._window()
        table = self.store.state.table(self.store.type_of(name).name)
        ids = [r["Id"] for r in list(table.values()) if not r.get("IsDeleted")
               and start <= parse_datetime(r["SystemModstamp"]) <= end]
        return json_response({"ids": ids, "latestDateCovered": _iso(end)})

    def deleted(self, name: str) -> Response:
        start, end = self._window()
        table = self.store.state.table(self.store.type_of(name).name)
        rows = [{"id": r["Id"], "deletedDate": r["SystemModstamp"]} for r in list(table.values())
                if r.get("IsDeleted") and start <= parse_datetime(r["SystemModstamp"]) <= end]
        return json_response({"deletedRecords": rows, "earliestDateAvailable": _iso(start),
                              "latestDateCovered": _iso(end)})

    # ---- SOQL ----------------------------------------------------------------------------------
    def query(self, include_deleted: bool) -> Response:
        try:
            parsed = soql.parse(request.args.get("q", ""), self.store.schema)
        except soql.SoqlError as exc:
            return error_response(exc.code, exc.message)
        name = parsed.sobject.name
        with self.store.state.lock:
            rows = [r for r in self.store.state.table(name).values() if include_deleted or not r.get("IsDeleted")]
            matched = parsed.run(rows)
            if parsed.count == "":
                return json_response({"totalSize": len(matched), "done": True, "records": []})
            if parsed.count:
                total = sum(1 for r in matched if r.get(parsed.count) is not None)
                return json_response({"totalSize": 1, "done": True, "records": [
                    {"attributes": {"type": "AggregateResult"}, "expr0": total}]})
            rendered = [self.store.render(name, r, parsed.fields) for r in matched]
        return self._page(rendered, self._batch_size(), secrets.token_hex(6), 0)

    def query_more(self, token: str) -> Response:
        locator, _, offset = token.rpartition("-")
        cursor = self.store.state.cursors.get(locator)
        if cursor is None or not offset.isdigit():
            return error_response("INVALID_QUERY_LOCATOR", "invalid query locator")
        batch, rows = cursor
        return self._page(rows, batch, locator, int(offset))

    def _page(self, rows: list[dict[str, Any]], batch: int, locator: str, offset: int) -> Response:
        page = rows[offset:offset + batch]
        body: dict[str, Any] = {"totalSize": len(rows), "done": offset + batch >= len(rows), "records": page}
        if not body["done"]:
            self.store.state.add_cursor(locator, batch, rows)
            body["nextRecordsUrl"] = f"/services/data/v{self.version}/query/{locator}-{offset + batch}"
        return json_response(body)

    @staticmethod
    def _batch_size() -> int:
        header = request.headers.get("Sforce-Query-Options", "")
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key.strip() == "batchSize" and value.strip().isdigit():
                # Documented bounds: default and maximum 2,000; minimum 200.
                return max(200, min(DEFAULT_BATCH, int(value)))
        return DEFAULT_BATCH


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

