"""Read-only questions about a Salesforce org that preflight asks, over simple-salesforce: object and field
describes (permissions, types, lengths, picklists, External ID), which ids exist, record counts, limits.

Describe: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
Limits:   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.crm.errors import FatalError
from connector.crm.salesforce import SalesforceClient


@dataclass(frozen=True)
class SalesforceField:
    name: str
    type: str  # string, textarea, email, phone, url, picklist, multipicklist, boolean, double, int, date, ...
    length: int
    createable: bool
    updateable: bool
    external_id: bool
    unique: bool
    picklist: tuple[str, ...]


@dataclass(frozen=True)
class SalesforceObject:
    name: str
    queryable: bool
    createable: bool
    updateable: bool
    fields: dict[str, SalesforceField]


class SalesforceSchema:
    def __init__(self, client: SalesforceClient) -> None:
        self._client = client

    def describe(self, sobject: str) -> SalesforceObject | None:
        """The object as this user sees it; None if the user cannot see it at all (or it does not exist)."""
        try:
            body = self._client.describe(sobject)
        except FatalError as exc:
            if exc.status == 404 or exc.code == "NOT_FOUND":
                return None
            raise
        fields = {f["name"]: _field(f) for f in body.get("fields") or []}
        return SalesforceObject(body["name"], bool(body.get("queryable")), bool(body.get("createable")),
                                bool(body.get("updateable")), fields)

    def existing_ids(self, sobject: str, ids: list[str]) -> set[str]:
        """Which of these ids exist (compared as 15-character ids, which Salesforce accepts in either form)."""
        if not ids:
            return set()
        quoted = ", ".join("'" + i.replace("'", "") + "'" for i in ids)
        result = self._query(f"SELECT Id FROM {sobject} WHERE Id IN ({quoted})")
        found = {str(row["Id"])[:15] for row in result.get("records") or []}
        return {i for i in ids if i[:15] in found}

    def count(self, sobject: str) -> int:
        return int(self._query(f"SELECT COUNT() FROM {sobject}").get("totalSize") or 0)

    def daily_api(self) -> tuple[int, int]:
        """(Max, Remaining) of DailyApiRequests."""
        body = self._client._call("GET /limits", lambda sf: sf.limits())  # the client's retry and budget
        daily = body.get("DailyApiRequests") or {}
        return int(daily.get("Max") or 0), int(daily.get("Remaining") or 0)

    def _query(self, soql: str) -> dict[str, Any]:
        return self._client._call("GET /query", lambda sf: sf.query(soql))


def _field(f: dict[str, Any]) -> SalesforceField:
    picklist = tuple(v["value"] for v in f.get("picklistValues") or [] if v.get("active", True))
    return SalesforceField(f["name"], f.get("type", "string"), int(f.get("length") or 0), bool(f.get("createable")),
                           bool(f.get("updateable")), bool(f.get("externalId")), bool(f.get("unique")), picklist)
