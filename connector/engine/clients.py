"""Build the CRM clients from the settings: secrets from the environment, one shared budget."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from connector.crm.budget import Budget
from connector.crm.hubspot import HubSpotClient
from connector.crm.salesforce import Credentials, SalesforceClient
from connector.settings import Settings


@dataclass
class Clients:
    hubspot: HubSpotClient
    salesforce: SalesforceClient
    budget: Budget


def build_clients(settings: Settings, engine: Engine) -> Clients:
    app, secrets = settings.app, settings.secrets
    budget = Budget(engine, app.hubspot.rate_limit.per_10s, app.hubspot.rate_limit.share,
                    app.salesforce.daily_api_share)
    hubspot = HubSpotClient(str(app.hubspot.base_url), secrets.require(app.hubspot.access_token_env, "HubSpot"),
                            budget, app.hubspot.timeout_s)
    auth = app.salesforce.auth
    credentials = Credentials(
        flow=auth.flow, token_url=str(app.salesforce.token_url),
        client_id=secrets.get(auth.client_id_env), client_secret=secrets.get(auth.client_secret_env),
        username=secrets.get(auth.username_env), password=secrets.get(auth.password_env),
        refresh_token=secrets.get(auth.refresh_token_env), access_token=secrets.get(auth.access_token_env))
    if app.salesforce.instance_url is None:
        raise ValueError("salesforce.instance_url is not set in app.yaml")
    salesforce = SalesforceClient(str(app.salesforce.instance_url), credentials, app.salesforce.api_version,
                                  app.salesforce.ca_bundle, budget, app.salesforce.timeout_s)
    return Clients(hubspot, salesforce, budget)
