"""HubSpot calls that close a nurture track: leave a workflow, leave a static list, unsubscribe from all
email, and translate v4 flow ids to the legacy workflow ids the v2 enrollment endpoints take.

`hs_email_optout` is read-only in HubSpot: opting a contact out goes through the communication
preferences API (v4 "unsubscribe from all", channel EMAIL), which sets it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from connector.crm.batching import chunks
from connector.crm.hubspot import BATCH, HubSpotClient

UNSUBSCRIBE_ALL = "/communication-preferences/v4/statuses/{email}/unsubscribe-all?channel=EMAIL"


def unenroll_from_workflow(client: HubSpotClient, workflow_id: int, email: str) -> None:
    """Legacy v2 unenrollment by email (a contact not enrolled is no error, as in HubSpot)."""
    client.request("DELETE /automation/v2/workflows/{id}/enrollments/contacts/{email}", "DELETE",
                   f"/automation/v2/workflows/{workflow_id}/enrollments/contacts/{quote(email)}")


def remove_from_list(client: HubSpotClient, list_id: str, contact_ids: list[str]) -> None:
    """Static list removal; ids that are not members are ignored by HubSpot."""
    for chunk in chunks(sorted(set(contact_ids)), BATCH):
        client._call("PUT /crm/v3/lists/{id}/memberships/remove",
                     lambda c=chunk: client.sdk.crm.lists.memberships_api.remove(list_id, c))


def unsubscribed_from_all(client: HubSpotClient, email: str) -> bool:
    answer = client.request("GET /communication-preferences/v4/statuses/{id}/unsubscribe-all", "GET",
                            UNSUBSCRIBE_ALL.format(email=quote(email)))
    return any(r.get("status") == "UNSUBSCRIBED" for r in (answer or {}).get("results") or [])


def unsubscribe_from_all(client: HubSpotClient, email: str) -> None:
    """Opt the address out of every email subscription (HubSpot then sets hs_email_optout itself)."""
    client.request("POST /communication-preferences/v4/statuses/{id}/unsubscribe-all", "POST",
                   UNSUBSCRIBE_ALL.format(email=quote(email)), {})


def workflow_ids(client: HubSpotClient, ids: list[int]) -> dict[int, int]:
    """Configured id -> the legacy workflow id to enroll with. An id HubSpot knows as a v4 flow id is
    translated; a legacy workflow id (or one the mapping endpoint does not know) stays as it is."""
    if not ids:
        return {}
    as_workflow = _mappings(client, [{"type": "WORKFLOW_ID", "workflowId": str(i)} for i in ids])
    legacy = {int(r["workflowId"]) for r in as_workflow if r.get("workflowId") is not None}
    flows = [i for i in ids if i not in legacy]
    as_flow = _mappings(client, [{"type": "FLOW_ID", "flowId": str(i)} for i in flows]) if flows else []
    translated = {int(r["flowId"]): int(r["workflowId"]) for r in as_flow
                  if r.get("flowId") is not None and r.get("workflowId") is not None}
    return {i: translated.get(i, i) for i in ids}


def _mappings(client: HubSpotClient, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for chunk in chunks(inputs, BATCH):
        answer = client.request("POST /automation/v4/workflow-id-mappings/batch/read", "POST",
                                "/automation/v4/workflow-id-mappings/batch/read", {"inputs": chunk})
        results.extend((answer or {}).get("results") or [])
    return results
