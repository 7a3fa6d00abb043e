"""HubSpot over the official SDK (hubspot-api-client): batch reads and writes of contacts, search, tasks.

Every call goes through `_call`, which counts it against the shared API budget, turns the SDK's
ApiException into our error types, and retries what is retryable. The SDK's own urllib3 retries
are turned off so that there is one retry policy, ours.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import urllib3
from hubspot import HubSpot
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)

from connector.core.conditions import as_datetime
from connector.core.pair import HubSpotRecord
from connector.crm.batching import chunks
from connector.crm.budget import Budget
from connector.crm.errors import CrmError, FatalError, RecordError, RetryableError, SessionExpired
from connector.crm.retry import call_with_retry
from connector.metrics.live import crm_attempt

T = TypeVar("T")
BATCH = 100  # HubSpot's limit of inputs per batch call
SEARCH_PAGE = 200
SEARCH_CAP = 10_000  # HubSpot refuses to page past 10,000 results of one query
TASK_KEY = "nurture_alert_key"  # a task property `nurture setup` creates: one task per lead and reason
SEARCH_GAP_S = 0.21  # the search endpoint's own limit: 5 requests per second per account


@dataclass
class BatchOutcome:
    done: dict[str, HubSpotRecord] = field(default_factory=dict)  # key (id or email) -> record written
    errors: list[RecordError] = field(default_factory=list)


class HubSpotClient:
    def __init__(self, base_url: str, access_token: str, budget: Budget | None = None, timeout_s: float = 30,
                 max_wait_s: float = 30) -> None:
        base = base_url.rstrip("/")
        # host= reaches every generated API; base_url= the SDK's generic api_request (legacy endpoints).
        self._sdk = HubSpot(access_token=access_token, host=base, base_url=base, retry=urllib3.Retry(0, read=False))
        self._budget = budget
        self._timeout = timeout_s
        self.max_wait_s = max_wait_s  # the longest single wait between retries, whatever a header asks
        self._last_search = 0.0

    @property
    def sdk(self) -> HubSpot:
        return self._sdk

    # -- reads ---------------------------------------------------------------------------------

    def read(self, ids: Iterable[str], properties: list[str], id_property: str | None = None
             ) -> dict[str, HubSpotRecord]:
        """Contacts by id (or by a unique property such as email); missing ones are simply absent."""
        found: dict[str, HubSpotRecord] = {}
        for chunk in chunks(sorted(set(ids)), BATCH):
            body = BatchReadInputSimplePublicObjectId(
                properties=properties, inputs=[SimplePublicObjectId(id=i) for i in chunk], id_property=id_property)
            result = self._call("POST /crm/v3/objects/contacts/batch/read",
                                lambda b=body: self._sdk.crm.contacts.batch_api.read(b, archived=False))
            for obj in result.results or []:
                record = _record(obj)
                key = record.properties.get(id_property) if id_property else record.id
                found[str(key).lower() if id_property == "email" else str(key)] = record
        return found

    def get(self, contact_id: str, properties: list[str]) -> HubSpotRecord | None:
        """One contact by id; a merged-away id answers with the surviving contact, as HubSpot does."""
        try:
            obj = self._call("GET /crm/v3/objects/contacts/{id}", lambda: self._sdk.crm.contacts.basic_api.get_by_id(
                contact_id, properties=properties, archived=False))
        except FatalError as exc:
            if exc.status == 404:
                return None
            raise
        return _record(obj)

    def modified_since(self, since: datetime, properties: list[str]) -> Iterator[HubSpotRecord]:
        """Every contact changed after `since`, oldest first; restarts the query past HubSpot's 10,000 cap."""
        cursor_ms = int(since.timestamp() * 1000)
        while True:
            after: str | None = None
            seen = 0
            last_ms = cursor_ms
            while True:
                request = PublicObjectSearchRequest(
                    filter_groups=[{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT",
                                                 "value": str(cursor_ms)}]}],
                    sorts=["lastmodifieddate"], properties=properties, limit=SEARCH_PAGE, after=after)
                page = self._call("POST /crm/v3/objects/contacts/search", lambda r=request: self._search(r))
                for obj in page.results or []:
                    record = _record(obj)
                    if record.updated_at:
                        last_ms = max(last_ms, int(record.updated_at.timestamp() * 1000))
                    seen += 1
                    yield record
                nxt = page.paging.next.after if page.paging and page.paging.next else None
                if not nxt:
                    return
                if seen + SEARCH_PAGE >= SEARCH_CAP:
                    break  # the cap is near: start a fresh query from the newest timestamp seen
                after = nxt
            if last_ms == cursor_ms:
                return  # more than 10,000 changes in one millisecond cannot be walked; nothing else to do
            cursor_ms = last_ms - 1  # re-read that millisecond: duplicates are harmless, gaps are not

    # -- writes --------------------------------------------------------------------------------

    def _search(self, request: PublicObjectSearchRequest) -> Any:
        # Pace searches under their 5/s limit rather than spend calls on 429s.
        wait = self._last_search + SEARCH_GAP_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_search = time.monotonic()
        return self._sdk.crm.contacts.search_api.do_search(request)

    def update(self, changes: dict[str, dict[str, Any]]) -> BatchOutcome:
        def send(chunk: list[str]) -> Any:
            body = BatchInputSimplePublicObjectBatchInput(
                inputs=[SimplePublicObjectBatchInput(id=i, properties=changes[i]) for i in chunk])
            return self._call("POST /crm/v3/objects/contacts/batch/update",
                              lambda: self._sdk.crm.contacts.batch_api.update(body))
        return self._write(sorted(changes), send, lambda record: record.id)

    def upsert_by_email(self, creates: dict[str, dict[str, Any]]) -> BatchOutcome:
        """Create-or-update by email: a retry after a crash finds the contact instead of making a twin."""
        def send(chunk: list[str]) -> Any:
            body = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
                SimplePublicObjectBatchInputUpsert(id=email, id_property="email", properties=creates[email])
                for email in chunk])
            return self._call("POST /crm/v3/objects/contacts/batch/upsert",
                              lambda: self._sdk.crm.contacts.batch_api.upsert(body))
        return self._write(sorted(creates), send, lambda record: str(record.properties.get("email", "")).lower())

    def _write(self, keys: list[str], send: Callable[[list[str]], Any], key_of: Callable[[HubSpotRecord], str]
               ) -> BatchOutcome:
        """Send in batches of 100. HubSpot refuses a whole batch for one bad input (400), so a refused
        batch is split in halves until the bad inputs stand alone: one bad record never blocks the rest."""
        outcome = BatchOutcome()
        pending = list(chunks(keys, BATCH))
        while pending:
            chunk = pending.pop()
            try:
                result = send(chunk)
            except FatalError as exc:
                if exc.status != 400:
                    raise  # a scope, auth or conflict refusal is the same for every input: don't bisect it
                if len(chunk) == 1:
                    outcome.errors.append(RecordError(chunk[0], exc.code or "VALIDATION_ERROR", exc.message))
                else:
                    pending += [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
                continue
            for obj in result.results or []:
                record = _record(obj)
                outcome.done[key_of(record)] = record
            outcome.errors.extend(_batch_errors(result, chunk))
        return outcome

    # -- nurture executors ----------------------------------------------------------------------

    def enroll_in_workflow(self, workflow_id: int, email: str) -> None:
        """Legacy v2 enrollment by email: the SDK has no typed API for it, so its generic request."""
        from urllib.parse import quote

        self.request("POST /automation/v2/workflows/{id}/enrollments/contacts/{email}", "POST",
                     f"/automation/v2/workflows/{workflow_id}/enrollments/contacts/{quote(email)}")

    def add_to_list(self, list_id: str, contact_ids: list[str]) -> None:
        """Static list membership (feeds list-based workflows and ad audiences); members already in are ignored."""
        for chunk in chunks(sorted(set(contact_ids)), BATCH):
            self._call("PUT /crm/v3/lists/{id}/memberships/add",
                       lambda c=chunk: self._sdk.crm.lists.memberships_api.add(list_id, c))

    def create_tasks(self, tasks: list[dict[str, Any]]) -> list[RecordError | str]:
        """Tasks associated to contacts (association type 204). Each input: properties + contact_id.
        Returns the new task id, or the refusal, per input in order."""
        from hubspot.crm.objects.tasks import (
            AssociationSpec,
            BatchInputSimplePublicObjectBatchInputForCreate,
            PublicAssociationsForObject,
            PublicObjectId,
            SimplePublicObjectBatchInputForCreate,
        )

        results: list[RecordError | str] = []
        for chunk in chunks(tasks, BATCH):
            body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[SimplePublicObjectBatchInputForCreate(
                properties=t["properties"], associations=[PublicAssociationsForObject(
                    to=PublicObjectId(id=t["contact_id"]),
                    types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=204)])])
                for t in chunk])
            try:
                result = self._call("POST /crm/v3/objects/tasks/batch/create",
                                    lambda b=body: self._sdk.crm.objects.tasks.batch_api.create(b))
            except FatalError as exc:
                results.extend(RecordError(t["contact_id"], exc.code or "ERROR", exc.message) for t in chunk)
                continue
            created = [str(obj.id) for obj in result.results or []]
            errors = _batch_errors(result, [t["contact_id"] for t in chunk])
            results.extend(created + list(errors))
        return results

    def ensure_properties(self, group: str, properties: dict[str, str], object_type: str = "contacts") -> list[str]:
        """Create the connector's custom properties (name -> type) on an object that do not exist yet."""
        from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

        api = self._sdk.crm.properties
        existing = {p.name for p in self._call(f"GET /crm/v3/properties/{object_type}",
                                               lambda: api.core_api.get_all(object_type)).results}
        groups = {g.name for g in self._call(f"GET /crm/v3/properties/{object_type}/groups",
                                             lambda: api.groups_api.get_all(object_type)).results}
        if group not in groups:
            self._call(f"POST /crm/v3/properties/{object_type}/groups", lambda: api.groups_api.create(
                object_type, PropertyGroupCreate(name=group, label="Nurture Connector")))
        created = []
        for name, kind in properties.items():
            if name in existing:
                continue
            field_type = {"number": "number", "date": "date", "datetime": "date"}.get(kind, "text")
            body = PropertyCreate(name=name, label=name.replace("_", " ").title(), type=kind, field_type=field_type,
                                  group_name=group)
            self._call(f"POST /crm/v3/properties/{object_type}",
                       lambda b=body: api.core_api.create(object_type, b))
            created.append(name)
        return created

    def existing_task_keys(self, keys: list[str]) -> set[str]:
        """Which of these alert keys already have a task: look before you create."""
        from hubspot.crm.objects.tasks import PublicObjectSearchRequest as TaskSearch

        found: set[str] = set()
        for chunk in chunks(sorted(set(keys)), 100):
            request = TaskSearch(filter_groups=[{"filters": [{"propertyName": TASK_KEY, "operator": "IN",
                                                              "values": chunk}]}], properties=[TASK_KEY], limit=200)
            page = self._call("POST /crm/v3/objects/tasks/search",
                              lambda r=request: self._sdk.crm.objects.tasks.search_api.do_search(r))
            found.update(str((obj.properties or {}).get(TASK_KEY)) for obj in page.results or [])
        return found

    def archive(self, ids: list[str]) -> None:
        for contact_id in ids:
            self._call("DELETE /crm/v3/objects/contacts/{id}",
                       lambda c=contact_id: self._sdk.crm.contacts.basic_api.archive(c))

    def request(self, endpoint: str, method: str, path: str, body: Any = None) -> Any:
        """A call the SDK has no typed API for (legacy workflow enrollment), still through the SDK's client."""
        def send() -> Any:
            response = self._sdk.api_request({"method": method, "path": path, "body": body})
            if response.status_code >= 400:
                raise _HttpStatusError(response.status_code, response.text, dict(response.headers))
            return response.json() if response.content else None
        return self._call(endpoint, send)

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, endpoint: str, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            if self._budget:
                self._budget.spend("hubspot")
            try:
                return fn()
            except Exception as exc:
                raise _translate(exc) from None
        return call_with_retry(crm_attempt("hubspot", endpoint, attempt), cap=self.max_wait_s)


class _HttpStatusError(Exception):
    def __init__(self, status: int, body: str, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.headers = status, body, headers


def _translate(exc: Exception) -> CrmError:
    if isinstance(exc, CrmError):
        return exc
    status = getattr(exc, "status", None)
    if status is None:  # connection refused, timeout, DNS: the service is unreachable for now
        return RetryableError("hubspot", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    body = getattr(exc, "body", None) or ""
    headers = {k.lower(): v for k, v in dict(getattr(exc, "headers", None) or {}).items()}
    payload = _json(body)
    message = str(payload.get("message") or body or getattr(exc, "reason", "") or f"HTTP {status}")[:2000]
    category = payload.get("category") or payload.get("errorType")
    if status == 429:
        return RetryableError("hubspot", message, status, category or "RATE_LIMIT", _retry_after(headers))
    if status == 423 or status >= 500:
        return RetryableError("hubspot", message, status, category, 2.0 if status == 423 else None)
    if status == 401:
        return SessionExpired("hubspot", message, status, category)
    return FatalError("hubspot", message, status, category)


def _retry_after(headers: dict[str, str]) -> float | None:
    if "retry-after" in headers:
        try:
            return float(headers["retry-after"])
        except ValueError:
            return None
    if headers.get("x-hubspot-ratelimit-remaining") == "0" and "x-hubspot-ratelimit-interval-milliseconds" in headers:
        return float(headers["x-hubspot-ratelimit-interval-milliseconds"]) / 1000.0
    return None


def _json(body: Any) -> dict[str, Any]:
    try:
        value = json.loads(body) if isinstance(body, str | bytes) else body
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _record(obj: Any) -> HubSpotRecord:
    props = {k: v for k, v in (obj.properties or {}).items()}
    updated = obj.updated_at or as_datetime(props.get("lastmodifieddate"))
    return HubSpotRecord(str(obj.id), props, updated if isinstance(updated, datetime) else as_datetime(updated))


def _batch_errors(result: Any, chunk: list[str]) -> list[RecordError]:
    errors = []
    for err in getattr(result, "errors", None) or []:
        context = err.context or {}
        keys = [str(k) for values in context.values() for k in (values or [])]
        key = next((k for k in keys if k in chunk), keys[0] if keys else "?")
        errors.append(RecordError(key, err.category or "ERROR", err.message or "refused"))
    return errors
