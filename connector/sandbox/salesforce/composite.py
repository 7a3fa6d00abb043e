"""sObject Collections: create, update, upsert, retrieve and delete up to 200 records per call.

Each record gets its own SaveResult. With ``allOrNone`` true one failure undoes the whole request:
failing records keep their own errors and the rest report ALL_OR_NONE_OPERATION_ROLLED_BACK.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from connector.sandbox.salesforce.http import allow_duplicates, error_response, json_response, request_json
from connector.sandbox.salesforce.records import Store, Txn
from connector.sandbox.salesforce.state import to18
from connector.sandbox.salesforce.validate import RecordError, RecordFailed

MAX_RECORDS = 200
MAX_RETRIEVE = 2000
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}
Operation = Callable[[dict[str, Any], Txn], tuple[str | None, bool | None]]


def _too_many(limit: int) -> Response:
    return error_response("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {limit} records into "
                          "this call", fields=[])


class Collections:
    def __init__(self, store: Store) -> None:
        self.store = store

    def route(self, method: str, rest: list[str]) -> tuple[str, Callable[[], Response]] | None:
        if not rest:
            handlers = {"POST": self.create, "PATCH": self.update, "DELETE": self.delete}
            if method in handlers:
                return f"{method} /composite/sobjects", handlers[method]
            return None
        sobject_type = self.store.schema.get(rest[0])
        name = sobject_type.name if sobject_type else rest[0]
        if len(rest) == 1 and method in ("GET", "POST"):
            return f"{method} /composite/sobjects/{name}", lambda: self.retrieve(name)
        if len(rest) == 2 and method == "PATCH":
            field = rest[1]
            return f"PATCH /composite/sobjects/{name}/{field}", lambda: self.upsert(name, field)
        return None

    # ---- writes --------------------------------------------------------------------------------
    def _records(self) -> tuple[list[dict[str, Any]], bool] | Response:
        body = request_json()
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return error_response("JSON_PARSER_ERROR", "Expected an object with a records array")
        if len(body["records"]) > MAX_RECORDS:
            return _too_many(MAX_RECORDS)
        return body["records"], bool(body.get("allOrNone", False))

    def _run(self, records: list[Any], all_or_none: bool, op: Operation) -> Response:
        results: list[dict[str, Any]] = []
        with self.store.transaction() as txn:
            for record in records:
                mark = self.store.savepoint(txn)
                try:
                    if not isinstance(record, dict):
                        raise RecordFailed([RecordError("JSON_PARSER_ERROR", "Expected a JSON object")])
                    record_id, created = op(record, txn)
                    result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
                    if created is not None:
                        result["created"] = created
                except RecordFailed as exc:
                    self.store.rollback(txn, mark)
                    key = record.get("Id") or record.get("id") if isinstance(record, dict) else None
                    result = {"id": key, "success": False, "errors": [e.collection() for e in exc.errors]}
                results.append(result)
            if all_or_none and any(not r["success"] for r in results):
                self.store.rollback(txn)
                # after the rollback only records that existed before the call still have an id
                results = [r if not r["success"] else {"id": r["id"] if self._existed(r) else None,
                                                       "success": False, "errors": [dict(ROLLED_BACK)]}
                           for r in results]
        return json_response(results)

    def _existed(self, result: dict[str, Any]) -> bool:
        return bool(result["id"]) and self.store.state.find(str(result["id"])) is not None

    @staticmethod
    def _type(record: dict[str, Any]) -> str:
        sobject = (record.get("attributes") or {}).get("type")
        if not sobject:
            raise RecordFailed([RecordError("INVALID_TYPE", "Must send a concrete entity type.")])
        return str(sobject)

    def create(self) -> Response:
        parsed = self._records()
        if isinstance(parsed, Response):
            return parsed
        dupes_ok = allow_duplicates()

        def op(record: dict[str, Any], txn: Txn) -> tuple[str | None, bool | None]:
            if any(k.lower() == "id" for k in record):
                raise RecordFailed([RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                                                "cannot specify Id in an insert call", ["Id"])])
            sobject = self._type(record)
            self.store.type_of(sobject)
            return self.store.create(sobject, record, txn, allow_duplicates=dupes_ok), None
        return self._run(*parsed, op)

    def update(self) -> Response:
        parsed = self._records()
        if isinstance(parsed, Response):
            return parsed
        dupes_ok = allow_duplicates()

        def op(record: dict[str, Any], txn: Txn) -> tuple[str | None, bool | None]:
            record_id = record.get("Id") or record.get("id")
            if not record_id:
                raise RecordFailed([RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])])
            sobject = self._type(record)
            found = self.store.state.find(str(record_id))
            if found is None or found[0] != self.store.type_of(sobject).name:
                raise RecordFailed([RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])])
            self.store.update(found[0], str(record_id), record, txn, allow_duplicates=dupes_ok)
            return to18(str(record_id)), None
        return self._run(*parsed, op)

    def upsert(self, name: str, field: str) -> Response:
        sobject_type = self.store.schema.get(name)
        f = sobject_type.field(field) if sobject_type else None
        if f is None or not f.external_id:
            return error_response("INVALID_FIELD", f"Field name provided, {field} is not an External ID or indexed "
                                  f"field for {name}", fields=[])
        parsed = self._records()
        if isinstance(parsed, Response):
            return parsed
        records, all_or_none = parsed
        seen: dict[str, int] = {}
        for record in records:
            value = _get_ci(record, f.name) if isinstance(record, dict) else None
            if value not in (None, ""):
                seen[str(value).lower()] = seen.get(str(value).lower(), 0) + 1
        dupes_ok = allow_duplicates()

        def op(record: dict[str, Any], txn: Txn) -> tuple[str | None, bool | None]:
            if self._type(record).lower() != name.lower():
                raise RecordFailed([RecordError("INVALID_TYPE", f"Record type must be {name}", [])])
            value = _get_ci(record, f.name)
            if value in (None, ""):
                raise RecordFailed([RecordError("MISSING_ARGUMENT", f"{f.name} not specified", [f.name])])
            if seen.get(str(value).lower(), 0) > 1:
                raise RecordFailed([RecordError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                                                [f.name])])
            record_id, created = self.store.upsert(name, f.name, value, record, txn, allow_duplicates=dupes_ok)
            return record_id, created
        return self._run(records, all_or_none, op)

    def delete(self) -> Response:
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            return _too_many(MAX_RECORDS)
        all_or_none = request.args.get("allOrNone", "false").lower() == "true"

        def op(record: dict[str, Any], txn: Txn) -> tuple[str | None, bool | None]:
            found = self.store.state.find(record["id"])
            if found is None:
                raise RecordFailed([RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])])
            self.store.delete(found[0], record["id"], txn)
            return to18(record["id"]), None
        return self._run([{"id": i} for i in ids], all_or_none, op)

    # ---- reads ---------------------------------------------------------------------------------
    def retrieve(self, name: str) -> Response:
        if request.method == "POST":
            body = request_json()
            ids, fields = list(body.get("ids") or []), list(body.get("fields") or [])
        else:
            ids = [i for i in request.args.get("ids", "").split(",") if i]
            fields = [f for f in request.args.get("fields", "").split(",") if f]
        if not fields:
            return error_response("MALFORMED_QUERY", "The fields parameter is required", fields=[])
        if len(ids) > MAX_RETRIEVE:
            return _too_many(MAX_RETRIEVE)
        sobject = self.store.type_of(name).name
        chosen = self.store.resolve_fields(sobject, fields)
        table = self.store.state.table(sobject)
        out: list[dict[str, Any] | None] = []
        for record_id in ids:
            record = table.get(to18(record_id))
            alive = record is not None and not record.get("IsDeleted")
            out.append(self.store.render(sobject, record, chosen) if alive and record else None)
        return json_response(out)


def _get_ci(record: dict[str, Any], name: str) -> Any:
    for key, value in record.items():
        if key.lower() == name.lower():
            return value
    return None
