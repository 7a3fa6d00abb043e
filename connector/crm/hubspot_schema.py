"""Read-only questions about a HubSpot portal that preflight and install ask: the token's scopes, the
contact properties, and whether the workflows, lists and owners named in config exist; plus API usage.

Typed calls go through the SDK (properties, lists, owners, search); endpoints the SDK has no typed API for
go through its generic `api_request` (HubSpotClient.request), still counted against the budget:
- token introspection for private apps, POST /oauth/v2/private-apps/get/access-token-info
  (https://developers.hubspot.com/docs/api/private-apps); OAuth tokens: GET /oauth/v1/access-tokens/{token}
- workflows, GET /automation/v3/workflows/{id}
- daily usage, GET /account-info/v3/api-usage/daily/private-apps
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.crm.errors import FatalError
from connector.crm.hubspot import HubSpotClient


@dataclass(frozen=True)
class HubSpotProperty:
    name: str
    type: str  # string | number | date | datetime | enumeration | bool
    field_type: str
    options: tuple[str, ...] = ()
    read_only: bool = False
    hubspot_defined: bool = False
    group: str = ""


@dataclass
class TokenInfo:
    scopes: set[str] = field(default_factory=set)
    hub_id: int | None = None
    app_id: int | None = None


@dataclass(frozen=True)
class Usage:
    limit: int
    used: int


class HubSpotSchema:
    def __init__(self, client: HubSpotClient, access_token: str | None = None) -> None:
        self._client = client
        self._token = access_token
        self._properties: dict[str, dict[str, HubSpotProperty]] = {}

    def token_info(self) -> TokenInfo:
        if self._token is None:
            raise ValueError("token_info needs the access token")
        body = self._client.request("POST /oauth/v2/private-apps/get/access-token-info", "POST",
                                    "/oauth/v2/private-apps/get/access-token-info", {"tokenKey": self._token})
        return TokenInfo(set(body.get("scopes") or []), body.get("hubId"), body.get("appId"))

    def properties(self, object_type: str = "contacts") -> dict[str, HubSpotProperty]:
        if object_type not in self._properties:
            api = self._client.sdk.crm.properties.core_api
            result = self._client._call(f"GET /crm/v3/properties/{object_type}",  # the client's retry and budget
                                        lambda: api.get_all(object_type))
            self._properties[object_type] = {p.name: _property(p) for p in result.results or []}
        return self._properties[object_type]

    def forget(self) -> None:
        """Drop the cached properties, after install created some."""
        self._properties.clear()

    def workflow_exists(self, workflow_id: int) -> bool:
        return self._exists(lambda: self._client.request("GET /automation/v3/workflows/{id}", "GET",
                                                         f"/automation/v3/workflows/{workflow_id}"))

    def list_processing_type(self, list_id: str) -> str | None:
        """MANUAL, SNAPSHOT or DYNAMIC; None if there is no such list."""
        api = self._client.sdk.crm.lists.lists_api
        try:
            result = self._client._call("GET /crm/v3/lists/{id}", lambda: api.get_by_id(list_id))
        except FatalError as exc:
            if exc.status == 404:
                return None
            raise
        return str(result.list.processing_type)

    def owner_exists(self, owner_id: str) -> bool:
        api = self._client.sdk.crm.owners.owners_api
        return self._exists(lambda: self._client._call("GET /crm/v3/owners/{id}",
                                                       lambda: api.get_by_id(owner_id)))

    def contact_total(self) -> int:
        """How many contacts the portal holds: the search total of an unfiltered one-result search."""
        from hubspot.crm.contacts import PublicObjectSearchRequest

        api = self._client.sdk.crm.contacts.search_api
        page = self._client._call("POST /crm/v3/objects/contacts/search",
                                  lambda: api.do_search(PublicObjectSearchRequest(limit=1, properties=["email"])))
        return int(page.total or 0)

    def daily_usage(self) -> Usage | None:
        try:
            body = self._client.request("GET /account-info/v3/api-usage/daily/private-apps", "GET",
                                        "/account-info/v3/api-usage/daily/private-apps")
        except FatalError as exc:
            if exc.status in (403, 404):
                return None  # an OAuth app token, or an account without the endpoint: usage is not shown
            raise
        for row in body.get("results") or []:
            if row.get("name") == "api-calls-daily":
                return Usage(int(row.get("usageLimit") or 0), int(row.get("currentUsage") or 0))
        return None

    @staticmethod
    def _exists(call: Any) -> bool:
        try:
            call()
        except FatalError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _property(p: Any) -> HubSpotProperty:
    meta = p.modification_metadata
    read_only = bool(p.calculated) or bool(meta and meta.read_only_value)
    return HubSpotProperty(p.name, p.type, p.field_type, tuple(o.value for o in p.options or []), read_only,
                           bool(p.hubspot_defined), p.group_name or "")
