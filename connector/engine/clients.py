"""Build the CRM clients from the settings: secrets from the environment, one shared budget."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from connector.crm.budget import Budget
from connector.crm.errors import CrmError, FatalError
from connector.crm.hubspot import HubSpotClient
from connector.crm.hubspot_nurture import workflow_ids
from connector.crm.salesforce import Credentials, SalesforceClient
from connector.crm.salesforce_auth import refresh_token_file_store
from connector.engine.owners import OwnerDirectory
from connector.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Clients:
    hubspot: HubSpotClient
    salesforce: SalesforceClient
    budget: Budget
    integration_user_ids: tuple[str, ...] = ()
    _owners: OwnerDirectory | None = field(default=None, repr=False)
    _workflow_ids: dict[int, int] = field(default_factory=dict, repr=False)

    def legacy_workflow_ids(self, ids: Iterable[int]) -> dict[int, int]:
        """Configured workflow ids (legacy or v4 flow ids) -> the legacy ids enrollment takes; asked once
        per process. If HubSpot refuses (no automation scope), ids are used as they are."""
        wanted = sorted(set(ids) - set(self._workflow_ids))
        if wanted:
            try:
                self._workflow_ids.update(workflow_ids(self.hubspot, wanted))
            except FatalError as exc:  # no automation scope or tier: the configured ids are all there is
                log.warning("HubSpot workflow-id mappings refused (%s); using the configured ids as they are",
                            exc.message)
                self._workflow_ids.update({i: i for i in wanted})
            except CrmError:  # unavailable for now: ask again with the next batch
                return {**{i: i for i in wanted}, **self._workflow_ids}
        return self._workflow_ids

    def owners(self) -> OwnerDirectory:
        """Owners of both CRMs by email, read once and cached for this process."""
        if self._owners is None:
            self._owners = OwnerDirectory(self.hubspot, self.salesforce, self.integration_user_ids)
        return self._owners


def build_clients(settings: Settings, engine: Engine) -> Clients:
    app, secrets = settings.app, settings.secrets
    budget = Budget(engine, app.hubspot.rate_limit.per_10s, app.hubspot.rate_limit.share,
                    app.salesforce.daily_api_share)
    hubspot = HubSpotClient(str(app.hubspot.base_url), secrets.require(app.hubspot.access_token_env, "HubSpot"),
                            budget, (app.hubspot.connect_timeout_s, app.hubspot.read_timeout_s))
    salesforce = build_salesforce(settings, budget)
    return Clients(hubspot, salesforce, budget, tuple(app.salesforce.integration_user_ids))


def build_salesforce(settings: Settings, budget: Budget | None = None) -> SalesforceClient:
    app, secrets = settings.app, settings.secrets
    sf, auth = app.salesforce, app.salesforce.auth
    if sf.instance_url is None:
        raise ValueError("salesforce.instance_url is not set in app.yaml")
    refresh_token = secrets.get(auth.refresh_token_env)
    keep_refresh_token = None
    if auth.refresh_token_file:
        # A rotated refresh token replaces the configured one: read the kept one first, write each new one.
        read, keep_refresh_token = refresh_token_file_store(auth.refresh_token_file)
        refresh_token = read() or refresh_token
    else:
        keep_refresh_token = _warn_unkept
    credentials = Credentials(
        flow=auth.flow, token_url=str(sf.token_url),
        client_id=secrets.get(auth.client_id_env), client_secret=secrets.get(auth.client_secret_env),
        username=secrets.get(auth.username_env), password=secrets.get(auth.password_env),
        refresh_token=refresh_token, access_token=secrets.get(auth.access_token_env),
        private_key=secrets.get(auth.private_key_env), audience=auth.audience)
    client = SalesforceClient(str(sf.instance_url), credentials, sf.api_version, sf.ca_bundle, budget,
                              sf.read_timeout_s, connect_timeout_s=sf.connect_timeout_s,
                              duplicate_rule=sf.duplicate_rule, on_refresh_token=keep_refresh_token)
    client.placeholders = dict(settings.mapping.salesforce.required_defaults)
    return client


def _warn_unkept(_token: str) -> None:
    log.warning("Salesforce rotated the refresh token; it is kept in memory only, so a restart signs in with "
                "the old (now revoked) one — set salesforce.auth.refresh_token_file to keep it")
