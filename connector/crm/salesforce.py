"""Salesforce over simple-salesforce: sign-in, batch reads by id and email, sObject collections, polling.

simple-salesforce's own login helpers post to https://{domain}.salesforce.com, which a sandbox or a
My Domain login host behind a proxy cannot be; so sign-in is one OAuth token request to the
configured token URL, and everything after it goes through the SDK with the session it returned.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from connector.core.conditions import as_datetime
from connector.core.pair import SalesforceRecord
from connector.crm.batching import chunks
from connector.crm.breaker import CircuitBreaker
from connector.crm.budget import Budget
from connector.crm.errors import CrmError, FatalError, RecordError, RetryableError, SessionExpired
from connector.crm.retry import call_with_retry
from connector.crm.salesforce_auth import Credentials, request_token
from connector.crm.timed_session import TimedSession
from connector.metrics.live import crm_attempt

__all__ = ["Credentials", "SalesforceClient", "SaveOutcome"]

T = TypeVar("T")
COLLECTION = 200  # sObject Collections' limit of records per call
RETRIEVE = 2000  # ids per collections retrieve
IN_CLAUSE = 200  # values per SOQL IN (...), well under the query length limit
SYSTEM_FIELDS = ("Id", "IsDeleted", "SystemModstamp", "LastModifiedDate")
LEAD_FIELDS = ("IsConverted", "ConvertedContactId", "OwnerId")
ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}


@dataclass
class SaveOutcome:
    done: dict[str, str] = field(default_factory=dict)  # key (record id or external id) -> record id
    errors: list[RecordError] = field(default_factory=list)


class SalesforceClient:
    def __init__(self, instance_url: str, credentials: Credentials, api_version: str = "59.0",
                 ca_bundle: str | None = None, budget: Budget | None = None, timeout_s: float = 30,
                 max_wait_s: float = 30, *, connect_timeout_s: float = 10, duplicate_rule: str = "report",
                 on_refresh_token: Callable[[str], None] | None = None) -> None:
        self._instance_url = instance_url.rstrip("/")
        self._credentials = credentials
        self._version = api_version
        # Every SDK call and the token request: (connect, read) timeouts, so a stalled socket ends.
        self._session = TimedSession(connect_timeout_s, timeout_s)
        self.breaker = CircuitBreaker("salesforce")
        # Creates only: the admin's opt-in to save past the org's duplicate rule (updates never need it).
        self._create_headers = dict(ALLOW_SAVE) if duplicate_rule == "allow_save" else {}
        self.placeholders: dict[str, str] = {}  # field -> the value written when a required field is unknown
        self._on_refresh_token = on_refresh_token
        self.signed_in_user_id: str | None = None  # the integration user: records it owns have no real owner
        if ca_bundle:
            # REQUESTS_CA_BUNDLE in the environment would override session.verify on every call
            # simple-salesforce makes (it passes no verify=), so the configured bundle must win explicitly;
            # proxies from the environment are kept.
            self._session.verify = ca_bundle
            self._session.trust_env = False
            self._session.proxies.update(urllib.request.getproxies())
        self._budget = budget
        self.max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self._sf: Salesforce | None = None
        self._describe: dict[str, dict[str, Any]] = {}

    # -- session -------------------------------------------------------------------------------

    @property
    def sdk(self) -> Salesforce:
        with self._lock:
            if self._sf is None:
                start = self._credentials.access_token if self._credentials.flow == "session" else None
                self._sf = self._sign_in(start)
            return self._sf

    def _sign_in(self, session_id: str | None = None) -> Salesforce:
        if session_id is None:
            session_id, instance = self._token_request()
            self._instance_url = instance or self._instance_url
        return Salesforce(instance_url=self._instance_url, session_id=session_id, session=self._session,
                          version=self._version)

    def _token_request(self) -> tuple[str, str | None]:
        token = request_token(self._session, self._credentials, self._session.timeout)
        self.signed_in_user_id = token.user_id or self.signed_in_user_id
        if token.refresh_token and self._on_refresh_token is not None:
            self._on_refresh_token(token.refresh_token)  # the old one is revoked: keep the new one
        return token.access_token, token.instance_url

    # -- reads ---------------------------------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, Any]:
        if sobject not in self._describe:
            self._describe[sobject] = self._call(f"GET /sobjects/{sobject}/describe",
                                                 lambda sf: getattr(sf, sobject).describe())
        return self._describe[sobject]

    def lengths(self, sobject: str) -> dict[str, int]:
        """Text field lengths from describe, for truncation before write (STRING_TOO_LONG never happens)."""
        return {f["name"]: f["length"] for f in self.describe(sobject)["fields"]
                if f.get("type") in ("string", "textarea", "phone", "url", "email") and f.get("length")}

    def read(self, sobject: str, ids: Iterable[str], fields: list[str]) -> dict[str, SalesforceRecord]:
        wanted = _fields(sobject, fields)
        found: dict[str, SalesforceRecord] = {}
        for chunk in chunks(sorted(set(ids)), RETRIEVE):
            body = {"ids": chunk, "fields": wanted}
            rows = self._call("POST /composite/sobjects/{type}",
                              lambda sf, b=body: sf.restful(f"composite/sobjects/{sobject}", method="POST", json=b))
            for row in rows or []:
                if row:  # a deleted or unknown id comes back as null
                    found[row["Id"]] = _record(sobject, row)
        return found

    def find_by(self, sobject: str, field_name: str, values: Iterable[str], fields: list[str]
                ) -> dict[str, list[SalesforceRecord]]:
        """Records whose field equals one of values (case-insensitive, as SOQL compares), grouped by value."""
        wanted = _fields(sobject, fields)
        result: dict[str, list[SalesforceRecord]] = {}
        extra = " AND IsConverted = false" if sobject == "Lead" else ""
        for chunk in chunks(sorted({v for v in values if v}), IN_CLAUSE):
            soql = (f"SELECT {', '.join(wanted)} FROM {sobject} WHERE {field_name} IN "
                    f"({', '.join(_quote(v) for v in chunk)}){extra} ORDER BY CreatedDate")
            for row in self._query_all(soql):
                key = str(row.get(field_name) or "").lower()
                result.setdefault(key, []).append(_record(sobject, row))
        return result

    def campaign_members(self, campaign_ids: Iterable[str], person_ids: Iterable[str]) -> list[dict[str, Any]]:
        """CampaignMember rows of these campaigns for these Leads / Contacts (Id, CampaignId, LeadId,
        ContactId, Status): what a track's exit updates, looked up instead of remembered."""
        campaigns = sorted({c for c in campaign_ids if c})
        people = sorted({p for p in person_ids if p})
        rows: list[dict[str, Any]] = []
        for chunk in chunks(people, IN_CLAUSE):
            who = ", ".join(_quote(p) for p in chunk)
            soql = (f"SELECT Id, CampaignId, LeadId, ContactId, Status FROM CampaignMember WHERE CampaignId IN "
                    f"({', '.join(_quote(c) for c in campaigns)}) AND (LeadId IN ({who}) OR ContactId IN ({who}))")
            rows.extend({k: v for k, v in row.items() if k != "attributes"} for row in self._query_all(soql))
        return rows if campaigns else []

    def users(self, ids: Iterable[str] = (), emails: Iterable[str] = ()) -> dict[str, str]:
        """Active Salesforce Users by id or by email: user id -> lower-cased email (one query per 200)."""
        found: dict[str, str] = {}
        for column, values in (("Id", ids), ("Email", emails)):
            for chunk in chunks(sorted({v for v in values if v}), IN_CLAUSE):
                soql = (f"SELECT Id, Email FROM User WHERE {column} IN ({', '.join(_quote(v) for v in chunk)}) "
                        "AND IsActive = true")
                for row in self._query_all(soql):
                    found[str(row["Id"])] = str(row.get("Email") or "").lower()
        return found

    def modified_since(self, sobject: str, since: datetime, fields: list[str], include_deleted: bool = True
                       ) -> Iterator[SalesforceRecord]:
        wanted = _fields(sobject, fields)
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        soql = f"SELECT {', '.join(wanted)} FROM {sobject} WHERE SystemModstamp > {stamp} ORDER BY SystemModstamp"
        for row in self._query_all(soql, include_deleted):
            yield _record(sobject, row)

    def _query_all(self, soql: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        page = self._call("GET /query", lambda sf: sf.query(soql, include_deleted=include_deleted))
        while True:
            yield from page.get("records", [])
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            url = page["nextRecordsUrl"]
            page = self._call("GET /query/{locator}", lambda sf, u=url: sf.query_more(u, identifier_is_url=True))

    # -- writes --------------------------------------------------------------------------------

    def update(self, sobject: str, changes: dict[str, dict[str, Any]]) -> SaveOutcome:
        outcome = SaveOutcome()
        for chunk in chunks(sorted(changes), COLLECTION):
            records = [{"attributes": {"type": sobject}, "Id": i, **changes[i]} for i in chunk]
            results = self._call("PATCH /composite/sobjects", lambda sf, r=records: sf.restful(
                "composite/sobjects", method="PATCH", json={"allOrNone": False, "records": r}))
            _collect(outcome, chunk, results)
        return outcome

    def upsert(self, sobject: str, external_field: str, rows: dict[str, dict[str, Any]]) -> SaveOutcome:
        """Create-or-update by external id, so a create retried after a crash never makes a twin.

        A record the duplicate rule refused only because it carries a placeholder (the `[not provided]`
        LastName / Company a Lead needs) is sent once more with allowSave: the rule matched our
        placeholder, not a person (its email matched nobody, or identity would have linked it)."""
        outcome = self._upsert(sobject, external_field, rows, self._create_headers)
        placeheld = [e for e in outcome.errors if e.code == "DUPLICATES_DETECTED"
                     and _carries_placeholder(rows[e.key], self.placeholders)]
        if placeheld and not self._create_headers:
            # ...unless the email itself is taken meanwhile: that is a real duplicate, the rule stands.
            emails = {str(rows[e.key].get("Email") or "").lower() for e in placeheld} - {""}
            taken = set(self.find_by("Lead", "Email", emails, ["Email"])) | set(
                self.find_by("Contact", "Email", emails, ["Email"])) if emails else set()
            placeheld = [e for e in placeheld if str(rows[e.key].get("Email") or "").lower() not in taken]
        if placeheld and not self._create_headers:
            again = self._upsert(sobject, external_field, {e.key: rows[e.key] for e in placeheld}, ALLOW_SAVE)
            retried = {e.key for e in placeheld}
            outcome.errors = [e for e in outcome.errors if e.key not in retried] + again.errors
            outcome.done.update(again.done)
        return outcome

    def _upsert(self, sobject: str, external_field: str, rows: dict[str, dict[str, Any]],
                headers: dict[str, str]) -> SaveOutcome:
        outcome = SaveOutcome()
        path = f"composite/sobjects/{sobject}/{external_field}"
        for chunk in chunks(sorted(rows), COLLECTION):
            records = [{"attributes": {"type": sobject}, external_field: key,
                        **{k: v for k, v in rows[key].items() if k != external_field}} for key in chunk]
            results = self._call("PATCH /composite/sobjects/{type}/{field}", lambda sf, r=records: sf.restful(
                path, method="PATCH", json={"allOrNone": False, "records": r}, headers=headers))
            _collect(outcome, chunk, results)
        return outcome

    def create(self, sobject: str, rows: list[dict[str, Any]]) -> SaveOutcome:
        outcome = SaveOutcome()
        for start in range(0, len(rows), COLLECTION):
            chunk = rows[start:start + COLLECTION]
            records = [{"attributes": {"type": sobject}, **row} for row in chunk]
            results = self._call("POST /composite/sobjects", lambda sf, r=records: sf.restful(
                "composite/sobjects", method="POST", json={"allOrNone": False, "records": r},
                headers=self._create_headers))
            _collect(outcome, [str(start + i) for i in range(len(chunk))], results)
        return outcome

    def delete(self, ids: list[str]) -> SaveOutcome:
        outcome = SaveOutcome()
        for chunk in chunks(ids, COLLECTION):
            results = self._call("DELETE /composite/sobjects", lambda sf, c=chunk: sf.restful(
                "composite/sobjects", method="DELETE", params={"ids": ",".join(c), "allOrNone": "false"}))
            _collect(outcome, chunk, results)
        return outcome

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, endpoint: str, fn: Callable[[Salesforce], T]) -> T:
        renewed = False

        def attempt() -> T:
            nonlocal renewed
            sf = self.sdk
            try:
                result = fn(sf)
            except SalesforceExpiredSession:
                if renewed:
                    raise FatalError("salesforce", "session expired again right after signing in", 401,
                                     "INVALID_SESSION_ID") from None
                renewed = True  # sign in again once, then retry the same call
                with self._lock:
                    self._sf = self._sign_in()
                return attempt()
            except SalesforceError as exc:
                raise _translate(exc) from None
            except requests.RequestException as exc:
                raise RetryableError("salesforce", f"{type(exc).__name__}") from None
            finally:
                self._note_usage(sf)
            return result

        return call_with_retry(crm_attempt("salesforce", endpoint, self.breaker.guard(attempt)), cap=self.max_wait_s)

    def _note_usage(self, sf: Salesforce) -> None:
        usage = sf.api_usage.get("api-usage") if self._budget else None
        if usage is not None and self._budget is not None:
            self._budget.note_salesforce_usage(usage.used, usage.total)


def _translate(exc: SalesforceError) -> CrmError:
    content = exc.content
    first = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
    code = first.get("errorCode")
    message = str(first.get("message") or content)[:2000]
    if code == "REQUEST_LIMIT_EXCEEDED" or exc.status in (429, 503) or exc.status >= 500:
        wait = 60.0 if code == "REQUEST_LIMIT_EXCEEDED" else None
        return RetryableError("salesforce", message, exc.status, code, wait)
    if exc.status == 401:
        return SessionExpired("salesforce", message, exc.status, code)
    return FatalError("salesforce", message, exc.status, code)


def _collect(outcome: SaveOutcome, keys: list[str], results: Any) -> None:
    for key, result in zip(keys, results or [], strict=False):
        if result.get("success"):
            outcome.done[key] = result.get("id") or key
            continue
        errors = result.get("errors") or [{}]
        first = errors[0]
        message = "; ".join(e.get("message", "") for e in errors) or "refused"
        matched = _duplicate_ids(first)
        if matched:
            message += f" (matches {', '.join(matched[:5])})"
        outcome.errors.append(RecordError(key, first.get("statusCode", "ERROR"), message,
                                          tuple(first.get("fields") or ())))


def _duplicate_ids(error: dict[str, Any]) -> list[str]:
    """The record ids a DUPLICATES_DETECTED answer names, so the dead letter says which records matched."""
    result = error.get("duplicateResult") or {}
    return [m["record"]["Id"] for r in result.get("matchResults") or [] for m in r.get("matchRecords") or []
            if isinstance(m.get("record"), dict) and m["record"].get("Id")]


def _carries_placeholder(row: dict[str, Any], placeholders: dict[str, str]) -> bool:
    return any(row.get(name) == value for name, value in placeholders.items() if value)


def _record(sobject: str, row: dict[str, Any]) -> SalesforceRecord:
    fields = {k: v for k, v in row.items() if k != "attributes"}
    return SalesforceRecord(sobject, fields["Id"], fields, as_datetime(fields.get("SystemModstamp")))


def _fields(sobject: str, fields: list[str]) -> list[str]:
    extra = LEAD_FIELDS if sobject == "Lead" else ("OwnerId",) if sobject in ("Contact", "Task") else ()
    return list(dict.fromkeys([*SYSTEM_FIELDS, *extra, *fields]))


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

