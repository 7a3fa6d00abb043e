"""HubSpot owners (GET /crm/v3/owners): the ids hubspot_owner_id accepts, with each owner's email.

An owner id is only meaningful inside its portal; the same salesperson is matched to a Salesforce
User by email (see engine/owners.py). Archived owners are left out: HubSpot refuses them as values.
"""

from __future__ import annotations

from connector.crm.hubspot import HubSpotClient

PAGE = 100  # the owners endpoint's largest page


def hubspot_owners(client: HubSpotClient) -> dict[str, str]:
    """Active owner id -> lower-cased email, every page."""
    owners: dict[str, str] = {}
    after: str | None = None
    while True:
        page = client._call("GET /crm/v3/owners", lambda a=after: client.sdk.crm.owners.owners_api.get_page(
            limit=PAGE, after=a, archived=False))
        for owner in page.results or []:
            if owner.email and not owner.archived:
                owners[str(owner.id)] = owner.email.strip().lower()
        nxt = page.paging.next.after if page.paging and page.paging.next else None
        if not nxt:
            return owners
        after = nxt
