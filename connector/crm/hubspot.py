"""HubSpot over the official SDK (hubspot-api-client): batch reads and writes of contacts, search, tasks.

Every call goes through `_call`, which counts it against the shared API budget, turns the SDK's
ApiException into our error types, and retries what is retryable. The SDK's own urllib3 retries
are turned off so that there is one retry policy, ours.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
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
from connector.crm.breaker import CircuitBreaker
from connector.crm.budget import Budget
from connector.crm.errors import (
    CrmError,
    DailyLimitReached,
    FatalError,
    RecordError,
    RetryableError,
    SessionExpired,
)
from connector.crm.retry import call_with_retry
from connector.metrics.live import crm_attempt

log = logging.getLogger(__name__)

T = TypeVar("T")
BATCH = 100  # HubSpot's limit of inputs per batch call
SEARCH_PAGE = 200
SEARCH_CAP = 10_000  # HubSpot refuses to page past 10,000 results of one query
TASK_KEY = "nurture_alert_key"  # a task property `nurture setup` creates: one task per lead and reason
CREATE_ATTEMPTS = 4  # a create that may or may not have happened: look up, then send what is missing
SEARCH_GAP_S = 0.21  # the search endpoint's own limit: 5 requests per second per account


@dataclass
class BatchOutcome:
    done: dict[str, HubSpotRecord] = field(default_factory=dict)  # key (id or email) -> record written
    errors: list[RecordError] = field(default_factory=list)


class HubSpotClient:
    def __init__(self, base_url: str, access_token: str, budget: Budget | None = None,
                 timeout_s: float | tuple[float, float] = (5.0, 30.0), max_wait_s: float = 30) -> None:
        base = base_url.rstrip("/")
        # host= reaches every generated API; base_url= the SDK's generic api_request (legacy endpoints).
        self._sdk = HubSpot(access_token=access_token, host=base, base_url=base, retry=urllib3.Retry(0, read=False))
        self._budget = budget
        # (connect, read). The SDK sends no timeout unless each call passes one, and a socket that
        # never answers would hold a worker's batch forever; so every call below passes `_request_timeout`.
        self.timeout = timeout_s if isinstance(timeout_s, tuple) else (min(5.0, timeout_s), timeout_s)
        self.max_wait_s = max_wait_s  # the longest single wait between retries, whatever a header asks
        self._last_search = 0.0
        self._raw = requests.Session()  # for the endpoints the SDK has no typed API for
        self.unknown_properties: set[str] = set()
        self.breaker = CircuitBreaker("hubspot")

    @property
    def sdk(self) -> HubSpot:
        return self._sdk

    # -- reads ---------------------------------------------------------------------------------

    def read(self, ids: Iterable[str], properties: list[str], id_property: str | None = None,
             history: list[str] | None = None) -> dict[str, HubSpotRecord]:
        """Contacts by id (or by a unique property such as email); missing ones are simply absent. `history`:
        properties whose change times to read (propertiesWithHistory), for two-way conflicts."""
        found: dict[str, HubSpotRecord] = {}
        for chunk in chunks(sorted(set(ids)), BATCH):
            body = BatchReadInputSimplePublicObjectId(
                properties=properties, inputs=[SimplePublicObjectId(id=i) for i in chunk], id_property=id_property,
                properties_with_history=history or None)
            result = self._call("POST /crm/v3/objects/contacts/batch/read",
                                lambda b=body: self._sdk.crm.contacts.batch_api.read(
                                    b, archived=False, _request_timeout=self.timeout))
            for obj in result.results or []:
                record = _record(obj)
                self._notice_unknown(properties, record)
                key = record.properties.get(id_property) if id_property else record.id
                found[str(key).lower() if id_property == "email" else str(key)] = record
        return found

    def _notice_unknown(self, asked: list[str], record: HubSpotRecord) -> None:
        """HubSpot answers a requested property that does not exist by leaving it out (one with no value
        comes back as null), so a misspelt or invented name would read as "no value" forever. Say so once."""
        missing = [name for name in asked if name not in record.properties and name not in self.unknown_properties]
        if missing:
            self.unknown_properties.update(missing)
            log.error("HubSpot has no contact propert%s %s; they read as empty until the mapping is fixed "
                      "(run `nurture preflight`)", "y" if len(missing) == 1 else "ies", ", ".join(sorted(missing)))

    def get(self, contact_id: str, properties: list[str]) -> HubSpotRecord | None:
        """One contact by id; a merged-away id answers with the surviving contact, as HubSpot does."""
        try:
            obj = self._call("GET /crm/v3/objects/contacts/{id}", lambda: self._sdk.crm.contacts.basic_api.get_by_id(
                contact_id, properties=properties, archived=False, _request_timeout=self.timeout))
        except FatalError as exc:
            if exc.status == 404:
                return None
            raise
        return _record(obj)

    def modified_since(self, since: datetime, properties: list[str]) -> Iterator[HubSpotRecord]:
        """Every contact changed after `since`, oldest first, however many: one search query stops at
        HubSpot's 10,000th result, so near the cap the walk finishes the newest millisecond it reached
        record by record (by id) and starts a fresh query after it. Sorted ascending, every record of an
        older millisecond was already returned, so nothing is skipped and the walk always moves on."""
        cursor_ms = int(since.timestamp() * 1000)
        while True:
            newest = cursor_ms
            capped = False
            for record in self._search_pages([{"propertyName": "lastmodifieddate", "operator": "GT",
                                               "value": str(cursor_ms)}], "lastmodifieddate", properties):
                if record is None:
                    capped = True
                    break
                if record.updated_at:
                    newest = max(newest, int(record.updated_at.timestamp() * 1000))
                yield record
            if not capped:
                return
            yield from self._all_of_millisecond(newest, properties)
            cursor_ms = newest

    def _all_of_millisecond(self, ms: int, properties: list[str]) -> Iterator[HubSpotRecord]:
        last_id = 0
        while True:
            capped = False
            for record in self._search_pages([
                    {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(ms)},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}],
                    "hs_object_id", properties):
                if record is None:
                    capped = True
                    break
                last_id = max(last_id, int(record.id))
                yield record
            if not capped:
                return

    def _search_pages(self, filters: list[dict[str, str]], sort: str, properties: list[str]
                      ) -> Iterator[HubSpotRecord | None]:
        """One query's results in `sort` order; a final None when the 10,000-result cap cut it short."""
        after: str | None = None
        seen = 0
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=[{"filters": filters}], sorts=[{"propertyName": sort, "direction": "ASCENDING"}],
                properties=properties, limit=SEARCH_PAGE, after=after)
            page = self._call("POST /crm/v3/objects/contacts/search", lambda r=request: self._search(r))
            for obj in page.results or []:
                seen += 1
                yield _record(obj)
            nxt = page.paging.next.after if page.paging and page.paging.next else None
            if not nxt:
                return
            if seen + SEARCH_PAGE > SEARCH_CAP:
                yield None
                return
            after = nxt

    # -- writes --------------------------------------------------------------------------------

    def _search(self, request: PublicObjectSearchRequest) -> Any:
        # Pace searches under their 5/s limit rather than spend calls on 429s. The limit is per token,
        # not per process, so with a store-backed budget every worker process takes turns from one pace.
        if self._budget:
            self._budget.pace("hubspot:search", SEARCH_GAP_S)
        else:
            wait = self._last_search + SEARCH_GAP_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_search = time.monotonic()
        return self._sdk.crm.contacts.search_api.do_search(request, _request_timeout=self.timeout)

    def update(self, changes: dict[str, dict[str, Any]]) -> BatchOutcome:
        def send(chunk: list[str], traces: list[str]) -> Any:
            body = BatchInputSimplePublicObjectBatchInput(inputs=[
                SimplePublicObjectBatchInput(id=i, properties=changes[i], object_write_trace_id=t)
                for i, t in zip(chunk, traces, strict=True)])
            return self._call("POST /crm/v3/objects/contacts/batch/update",
                              lambda: self._sdk.crm.contacts.batch_api.update(body, _request_timeout=self.timeout))
        return self._write(sorted(changes), send)

    def upsert_by_email(self, creates: dict[str, dict[str, Any]]) -> BatchOutcome:
        """Create-or-update by email: a retry after a crash finds the contact instead of making a twin."""
        def send(chunk: list[str], traces: list[str]) -> Any:
            body = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
                SimplePublicObjectBatchInputUpsert(id=email, id_property="email", properties=creates[email],
                                                   object_write_trace_id=t)
                for email, t in zip(chunk, traces, strict=True)])
            return self._call("POST /crm/v3/objects/contacts/batch/upsert",
                              lambda: self._sdk.crm.contacts.batch_api.upsert(body, _request_timeout=self.timeout))
        return self._write(sorted(creates), send)

    def _write(self, keys: list[str], send: Callable[[list[str], list[str]], Any]) -> BatchOutcome:
        """Send in batches of 100, each input with an objectWriteTraceId. HubSpot then answers per input
        (207 multi-status) and names the input of every result and error by that id, so nothing is matched
        by position or guessed from a message. A portal that still refuses a whole batch (400) gets it split
        in halves until the bad inputs stand alone: one bad record never blocks the rest."""
        outcome = BatchOutcome()
        pending = list(chunks(keys, BATCH))
        while pending:
            chunk = pending.pop()
            traces = [trace_id(i) for i in range(len(chunk))]
            try:
                result = send(chunk, traces)
            except FatalError as exc:
                if exc.status != 400:
                    raise  # a scope, auth or conflict refusal is the same for every input: don't bisect it
                if len(chunk) == 1:
                    outcome.errors.append(RecordError(chunk[0], exc.code or "VALIDATION_ERROR", exc.message,
                                                      exc.properties))
                else:
                    pending += [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
                continue
            by_trace = dict(zip(traces, chunk, strict=True))
            answered: set[str] = set()
            for obj in result.results or []:
                key = by_trace.get(str(getattr(obj, "object_write_trace_id", None) or ""))
                if key is not None:
                    outcome.done[key] = _record(obj)
                    answered.add(key)
            for error in _batch_errors(result, by_trace):
                outcome.errors.append(error)
                answered.add(error.key)
            outcome.errors.extend(unanswered(chunk, answered))
        return outcome

    # -- nurture executors ----------------------------------------------------------------------

    def enroll_in_workflow(self, workflow_id: int, email: str, contact_id: str | None = None) -> None:
        """Legacy v2 enrollment by email: the SDK has no typed API for it, so its generic request.

        A workflow that allows re-enrollment enrolls a contact again on every call, so with the contact's id
        the current enrollments are read first, and again after an answer that was lost, before resending."""
        from urllib.parse import quote

        path = f"/automation/v2/workflows/{workflow_id}/enrollments/contacts/{quote(email)}"
        endpoint = "POST /automation/v2/workflows/{id}/enrollments/contacts/{email}"
        if contact_id is None:
            self.request(endpoint, "POST", path)
            return
        for attempt in range(CREATE_ATTEMPTS):
            if workflow_id in self.enrolled_workflows(contact_id):
                return
            try:
                self.request(endpoint, "POST", path, retry=False)
                return
            except RetryableError:
                if attempt + 1 == CREATE_ATTEMPTS:
                    raise
                time.sleep(min(self.max_wait_s, 0.5 * 2 ** attempt))

    def enrolled_workflows(self, contact_id: str) -> set[int]:
        """The workflows a contact is enrolled in now (legacy v2 "current enrollments")."""
        answer = self.request("GET /automation/v2/workflows/enrollments/contacts/{vid}", "GET",
                              f"/automation/v2/workflows/enrollments/contacts/{contact_id}")
        return {int(w["id"]) for w in answer or [] if isinstance(w, dict) and str(w.get("id", "")).isdigit()}

    def add_to_list(self, list_id: str, contact_ids: list[str]) -> None:
        """Static list membership (feeds list-based workflows and ad audiences); members already in are ignored."""
        for chunk in chunks(sorted(set(contact_ids)), BATCH):
            self._call("PUT /crm/v3/lists/{id}/memberships/add",
                       lambda c=chunk: self._sdk.crm.lists.memberships_api.add(
                           list_id, c, _request_timeout=self.timeout))

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

        def send(chunk: list[dict[str, Any]], traces: list[str]) -> Any:
            body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[SimplePublicObjectBatchInputForCreate(
                properties=t["properties"], object_write_trace_id=trace, associations=[PublicAssociationsForObject(
                    to=PublicObjectId(id=t["contact_id"]),
                    types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=204)])])
                for t, trace in zip(chunk, traces, strict=True)])
            return self._call("POST /crm/v3/objects/tasks/batch/create",
                              lambda: self._sdk.crm.objects.tasks.batch_api.create(body, _request_timeout=self.timeout),
                              retry=False)

        results: list[RecordError | str] = []
        for chunk in chunks(tasks, BATCH):
            answers: dict[int, RecordError | str] = {}
            todo = list(range(len(chunk)))
            for attempt in range(CREATE_ATTEMPTS):
                traces = [trace_id(i) for i in todo]
                try:
                    result = send([chunk[i] for i in todo], traces)
                except RetryableError:
                    # The create may have been made before the answer was lost (a gateway 5xx, a timeout):
                    # look the keys up before sending again, so a retry never makes a second task.
                    if attempt + 1 == CREATE_ATTEMPTS:
                        raise
                    time.sleep(min(self.max_wait_s, 0.5 * 2 ** attempt))
                    found = self.task_ids_by_key([str(chunk[i]["properties"].get(TASK_KEY)) for i in todo])
                    for i in todo:
                        if str(chunk[i]["properties"].get(TASK_KEY)) in found:
                            answers[i] = found[str(chunk[i]["properties"][TASK_KEY])]
                    todo = [i for i in todo if i not in answers]
                    if not todo:
                        break
                    continue
                except FatalError as exc:
                    for i in todo:
                        answers[i] = RecordError(chunk[i]["contact_id"], exc.code or "ERROR", exc.message,
                                                 exc.properties)
                    break
                by_trace = {trace: str(i) for trace, i in zip(traces, todo, strict=True)}
                for obj in result.results or []:
                    index = by_trace.get(str(getattr(obj, "object_write_trace_id", None) or ""))
                    if index is not None:
                        answers[int(index)] = str(obj.id)
                for error in _batch_errors(result, by_trace):
                    answers[int(error.key)] = error
                break
            for i, t in enumerate(chunk):
                answer = answers.get(i) or unanswered([t["contact_id"]], set())[0]
                if isinstance(answer, RecordError):  # name the person, not the input's position
                    answer = RecordError(t["contact_id"], answer.code, answer.message, answer.fields)
                results.append(answer)
        return results

    def ensure_properties(self, group: str, properties: dict[str, str], object_type: str = "contacts") -> list[str]:
        """Create the connector's custom properties (name -> type) on an object that do not exist yet."""
        from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

        api = self._sdk.crm.properties
        t = self.timeout
        existing = {p.name for p in self._call(f"GET /crm/v3/properties/{object_type}",
                                               lambda: api.core_api.get_all(object_type, _request_timeout=t)).results}
        groups = {g.name for g in self._call(f"GET /crm/v3/properties/{object_type}/groups",
                                             lambda: api.groups_api.get_all(object_type, _request_timeout=t)).results}
        if group not in groups:
            self._call(f"POST /crm/v3/properties/{object_type}/groups", lambda: api.groups_api.create(
                object_type, PropertyGroupCreate(name=group, label="Nurture Connector"), _request_timeout=self.timeout))
        created = []
        for name, kind in properties.items():
            if name in existing:
                continue
            field_type = {"number": "number", "date": "date", "datetime": "date"}.get(kind, "text")
            body = PropertyCreate(name=name, label=name.replace("_", " ").title(), type=kind, field_type=field_type,
                                  group_name=group)
            self._call(f"POST /crm/v3/properties/{object_type}",
                       lambda b=body: api.core_api.create(object_type, b, _request_timeout=self.timeout))
            created.append(name)
        return created

    def existing_task_keys(self, keys: list[str]) -> set[str]:
        """Which of these alert keys already have a task: look before you create."""
        return set(self.task_ids_by_key(keys))

    def task_ids_by_key(self, keys: list[str]) -> dict[str, str]:
        from hubspot.crm.objects.tasks import PublicObjectSearchRequest as TaskSearch

        found: dict[str, str] = {}
        for chunk in chunks(sorted(set(keys)), 100):
            request = TaskSearch(filter_groups=[{"filters": [{"propertyName": TASK_KEY, "operator": "IN",
                                                              "values": chunk}]}], properties=[TASK_KEY], limit=200)
            page = self._call("POST /crm/v3/objects/tasks/search",
                              lambda r=request: self._sdk.crm.objects.tasks.search_api.do_search(
                                  r, _request_timeout=self.timeout))
            for obj in page.results or []:
                found.setdefault(str((obj.properties or {}).get(TASK_KEY)), str(obj.id))
        return found

    def archive(self, ids: list[str]) -> None:
        for contact_id in ids:
            self._call("DELETE /crm/v3/objects/contacts/{id}",
                       lambda c=contact_id: self._sdk.crm.contacts.basic_api.archive(
                           c, _request_timeout=self.timeout))

    def request(self, endpoint: str, method: str, path: str, body: Any = None, retry: bool = True) -> Any:
        """A call the SDK has no typed API for (legacy workflow enrollment). The SDK's generic
        `api_request` builds the request (URL, auth, headers) but sends it with no timeout, so the
        prepared request goes out through our own session, with one."""
        from hubspot.utils.requests.http_request_builder import Request

        def send() -> Any:
            prepared = Request(self._sdk.config, {"method": method, "path": path,
                                                  **({"body": body} if body is not None else {})})
            response = self._raw.request(prepared.get_method(), prepared.get_url(), timeout=self.timeout,
                                         **prepared.get_options_for_sending())
            if response.status_code >= 400:
                raise _HttpStatusError(response.status_code, response.text, dict(response.headers))
            return response.json() if response.content else None
        return self._call(endpoint, send, retry=retry)

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, endpoint: str, fn: Callable[[], T], retry: bool = True) -> T:
        """One CRM call: budget, translation, and retries. `retry=False` for a create that is not
        idempotent: its caller must look up what was made before it sends again."""
        def attempt() -> T:
            if self._budget:
                self._budget.spend("hubspot")
            try:
                return fn()
            except Exception as exc:
                error = _translate(exc)
                if isinstance(error, DailyLimitReached) and self._budget:
                    self._budget.pause("hubspot", error.retry_after or 3600.0)
                raise error from None
        if self._budget:
            self._budget.check_paused("hubspot")
        counted = crm_attempt("hubspot", endpoint, self.breaker.guard(attempt))
        return call_with_retry(counted, cap=self.max_wait_s) if retry else counted()


class _HttpStatusError(Exception):
    def __init__(self, status: int, body: str, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.headers = status, body, headers


def trace_id(index: int) -> str:
    # Unique within one batch call is all HubSpot asks; the index maps it back to our input.
    return f"nc-{index}"


def unanswered(keys: list[str], answered: set[str]) -> list[RecordError]:
    """An input HubSpot neither wrote nor refused did not happen: an error, never a success."""
    return [RecordError(k, "NO_RESULT", "HubSpot returned neither a result nor an error for this input")
            for k in keys if k not in answered]


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
    if status == 429 and payload.get("policyName") == "DAILY":
        # The daily cap: retrying before it resets only burns nothing but time; pause instead.
        return DailyLimitReached("hubspot", message, status, "DAILY", _seconds_to_utc_midnight())
    if status == 429:
        return RetryableError("hubspot", message, status, category or "RATE_LIMIT", _retry_after(headers))
    if status == 423 or status >= 500:
        return RetryableError("hubspot", message, status, category, 2.0 if status == 423 else None)
    if status == 401:
        return SessionExpired("hubspot", message, status, category)
    return FatalError("hubspot", message, status, category, _property_names(payload.get("errors")))


def _seconds_to_utc_midnight() -> float:
    # HubSpot resets the daily limit at midnight in the account's time zone, which the API does not
    # tell us; UTC midnight is checked again each time and at worst retries a few hours early.
    now = datetime.now(UTC)
    return float((24 * 3600) - (now.hour * 3600 + now.minute * 60 + now.second)) + 60.0


def _property_names(details: Any) -> tuple[str, ...]:
    """The properties a VALIDATION_ERROR names (`errors[].context.propertyName`), in order."""
    names: list[str] = []
    for detail in details or []:
        context = detail.get("context") if isinstance(detail, dict) else getattr(detail, "context", None)
        if isinstance(context, str):
            context = _json(context)
        for name in (context or {}).get("propertyName") or []:
            if name not in names:
                names.append(str(name))
    return tuple(names)


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
    return HubSpotRecord(str(obj.id), props, updated if isinstance(updated, datetime) else as_datetime(updated),
                         _changed_at(props, getattr(obj, "properties_with_history", None) or {}))


def _changed_at(props: dict[str, Any], history: dict[str, Any]) -> dict[str, datetime]:
    """When each property's current value was set: the oldest entry of the newest run of that value (history is
    newest first; a rewrite of the same value does not move it)."""
    changed: dict[str, datetime] = {}
    for name, entries in history.items():
        current = props.get(name) or ""
        for entry in entries or []:
            if (entry.value or "") != current:
                break
            at = entry.timestamp if isinstance(entry.timestamp, datetime) else as_datetime(entry.timestamp)
            if at is not None:
                changed[name] = at
    return changed


def _batch_errors(result: Any, by_trace: dict[str, str]) -> list[RecordError]:
    """Errors of a multi-status answer, each named by its input's objectWriteTraceId. An error that
    names no trace id of ours cannot be pinned on an input: its inputs stay unanswered (and so fail)."""
    errors = []
    for err in getattr(result, "errors", None) or []:
        context = err.context or {}
        for trace in context.get("objectWriteTraceId") or []:
            key = by_trace.get(str(trace))
            if key is not None:
                errors.append(RecordError(key, err.category or "ERROR", err.message or "refused",
                                          _property_names(err.errors)))
    return errors
