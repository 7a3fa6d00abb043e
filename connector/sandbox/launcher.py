"""Start both CRM emulators together and describe them as the environment app.yaml reads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from connector.sandbox.fake_people import generate_people
from connector.sandbox.hubspot import HubSpotSandbox
from connector.sandbox.runtime import Faults
from connector.sandbox.salesforce import SalesforceSandbox

SALESFORCE_ORG_ID = "00D5e000000SbXaEAK"
# The campaigns the shipped config/nurture.yaml names; created first, so they get ids 7015e0000000001AAA, …2AAA.
SAMPLE_CAMPAIGNS = ("Integrations webinar", "Monthly webinar")


@dataclass
class Sandboxes:
    hubspot: HubSpotSandbox
    salesforce: SalesforceSandbox
    sf_client_id: str
    sf_client_secret: str
    sf_username: str
    sf_password: str
    # The engagement API's signing secret: not a CRM setting, but the shipped app.yaml needs one to serve.
    engagement_secret: str = ""
    connector_url: str | None = None  # where the emulators deliver webhooks: the connector's public URL here

    def env(self) -> dict[str, str]:
        """The variables that make the shipped app.yaml talk to these emulators."""
        return {
            "HUBSPOT_BASE_URL": self.hubspot.url,
            "HUBSPOT_ACCESS_TOKEN": self.hubspot.access_token,
            "HUBSPOT_CLIENT_SECRET": self.hubspot.client_secret,
            "HUBSPOT_PORTAL_ID": str(self.hubspot.portal_id),
            "SALESFORCE_INSTANCE_URL": self.salesforce.instance_url,
            "SALESFORCE_TOKEN_URL": self.salesforce.token_url,
            "SALESFORCE_CA_BUNDLE": str(self.salesforce.ca_bundle),
            "SALESFORCE_ORG_ID": self.salesforce.org_id,
            "SALESFORCE_ACCESS_TOKEN": self.salesforce.access_token,
            "SALESFORCE_CLIENT_ID": self.sf_client_id,
            "SALESFORCE_CLIENT_SECRET": self.sf_client_secret,
            "SALESFORCE_USERNAME": self.sf_username,
            "SALESFORCE_PASSWORD": self.sf_password,
            "NURTURE_ENGAGEMENT_SECRET": self.engagement_secret,
            **({"NURTURE_PUBLIC_URL": self.connector_url} if self.connector_url else {}),
        }

    def stop(self) -> None:
        self.hubspot.stop()
        self.salesforce.stop()


def add_sample_assets(hubspot: HubSpotSandbox, salesforce: SalesforceSandbox) -> None:
    """What the sample account holds besides people: the static lists and campaigns the shipped config
    names (the workflows are in connector.sandbox.hubspot.account), so preflight passes on the shipped
    config once `nurture install` has run. Kept, not duplicated, when the state was loaded from disk."""
    from connector.sandbox.hubspot.account import add_sample_lists

    add_sample_lists(hubspot.context)
    existing = {row.get("Name") for row in salesforce.state.table("Campaign").values()}
    with salesforce.store.transaction() as txn:
        for name in SAMPLE_CAMPAIGNS:
            if name not in existing:
                salesforce.store.create("Campaign", {"Name": name, "IsActive": True, "Type": "Webinar"}, txn)


def start_sandboxes(
    host: str = "127.0.0.1",
    hubspot_port: int = 8101,
    salesforce_port: int = 8102,
    seed: int = 0,
    connector_url: str | None = None,
    faults: str | None = None,
    state_dir: Path | None = None,
    retry_base_s: float = 1.0,
) -> Sandboxes:
    base = connector_url.rstrip("/") if connector_url else None
    token = secrets.token_urlsafe
    hubspot = HubSpotSandbox(
        host=host,
        port=hubspot_port,
        access_token=f"pat-sandbox-{token(18)}",
        client_secret=token(24),
        webhook_url=f"{base}/webhooks/hubspot" if base else None,
        faults=Faults.parse(faults),
        retry_base_s=retry_base_s,
        state_file=state_dir / "hubspot.json" if state_dir else None,
    )
    sf_auth = {"client_id": f"3MVG9sandbox{token(12)}", "client_secret": token(24),
               "username": "admin@sandbox.example", "password": token(12)}
    salesforce = SalesforceSandbox(
        host=host,
        port=salesforce_port,
        org_id=SALESFORCE_ORG_ID,
        access_token=f"00D5e000000SbXa!{token(32)}",
        outbound_url=f"{base}/webhooks/salesforce" if base else None,
        faults=Faults.parse(faults),
        cert_dir=state_dir / "tls" if state_dir else None,
        retry_base_s=retry_base_s,
        state_file=state_dir / "salesforce.json" if state_dir else None,
        **sf_auth,
    )
    hubspot.start()
    try:
        salesforce.start()
    except BaseException:
        hubspot.stop()
        raise
    add_sample_assets(hubspot, salesforce)
    if seed:
        people = generate_people(seed, seed=1)
        hubspot.seed(people[: seed // 2])
        salesforce.seed(people[seed // 2 :])
    return Sandboxes(hubspot, salesforce, sf_auth["client_id"], sf_auth["client_secret"],
                     sf_auth["username"], sf_auth["password"], engagement_secret=token(24),
                     connector_url=base)
