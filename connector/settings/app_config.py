"""app.yaml: the installation manifest — connections, objects, store, web, worker, and file paths.

Secrets are never values in this file: each is named by the environment variable that holds it
(`*_env` keys), resolved at run time from the environment or the secrets file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl, field_validator, model_validator

from connector.settings.base import Model

SignatureVersion = Literal["v1", "v2", "v3"]


class RateLimit(Model):
    per_10s: int = Field(190, gt=0, description="HubSpot requests per rolling 10 s for this app's tier.")
    daily: int = Field(625_000, gt=0)
    share: float = Field(0.8, gt=0, le=1, description="Share of the limits this connector may spend.")


class HubSpotConnection(Model):
    enabled: bool = True
    base_url: HttpUrl = HttpUrl("https://api.hubapi.com")
    portal_id: int | None = Field(None, description="Webhooks from other portals are refused.")
    app_id: int | None = None
    access_token_env: str = "HUBSPOT_ACCESS_TOKEN"
    client_secret_env: str = Field(
        "HUBSPOT_CLIENT_SECRET", description="The app's client secret; several comma-separated rotate."
    )
    signature_versions: list[SignatureVersion] = Field(
        default_factory=lambda: ["v3"], description="v1/v2 carry no timestamp: enable only for old apps."
    )
    rate_limit: RateLimit = RateLimit()
    connect_timeout_s: float = Field(5, gt=0, description="Longest wait for a connection to HubSpot.")
    read_timeout_s: float = Field(
        30, gt=0, description="Longest wait between bytes of an answer: a stalled call ends and is retried.")
    timeout_s: float | None = Field(
        None, gt=0, description="Older name for read_timeout_s; when set (and read_timeout_s is not) it wins.")

    @model_validator(mode="after")
    def _legacy_timeout(self) -> HubSpotConnection:
        if self.timeout_s is not None and "read_timeout_s" not in self.model_fields_set:
            object.__setattr__(self, "read_timeout_s", self.timeout_s)
        return self


class SalesforceAuth(Model):
    """How the connector signs in. The JWT bearer flow is Salesforce's server-to-server flow and the
    default; client_credentials is the alternative for a connected app with a run-as user; password is
    kept for old installs only (Salesforce deprecates the username-password flow)."""

    flow: Literal["jwt", "client_credentials", "refresh_token", "password", "session"] = "jwt"
    access_token_env: str = Field("SALESFORCE_ACCESS_TOKEN", description="For flow 'session' (and as a start).")
    client_id_env: str = Field("SALESFORCE_CLIENT_ID", description="The connected app's consumer key.")
    client_secret_env: str = "SALESFORCE_CLIENT_SECRET"
    username_env: str = Field("SALESFORCE_USERNAME", description="The integration user (the JWT's subject).")
    password_env: str = "SALESFORCE_PASSWORD"
    refresh_token_env: str = "SALESFORCE_REFRESH_TOKEN"
    private_key_env: str = Field(
        "SALESFORCE_JWT_PRIVATE_KEY", description="flow jwt: the PEM private key itself, or the path of a PEM file.")
    audience: str | None = Field(
        None, description="flow jwt: the JWT's aud; default https://login.salesforce.com, or "
                          "https://test.salesforce.com when token_url is a test.salesforce.com sandbox.")
    refresh_token_file: str | None = Field(
        None, description="flow refresh_token: where a rotated refresh token is kept (written 0600) and "
                          "read first on start; without it a rotated token lives only in memory.")

    def required_env(self) -> list[str]:
        return {
            "session": [self.access_token_env],
            "password": [self.client_id_env, self.client_secret_env, self.username_env, self.password_env],
            "client_credentials": [self.client_id_env, self.client_secret_env],
            "refresh_token": [self.client_id_env, self.client_secret_env, self.refresh_token_env],
            "jwt": [self.client_id_env, self.username_env, self.private_key_env],
        }[self.flow]


class SalesforceConnection(Model):
    enabled: bool = True
    instance_url: HttpUrl | None = Field(None, description="https://yourorg.my.salesforce.com")
    token_url: HttpUrl = HttpUrl("https://login.salesforce.com/services/oauth2/token")
    api_version: str = Field("59.0", pattern=r"^\d+\.\d$")
    ca_bundle: str | None = Field(None, description="PEM file of CAs to trust (the sandbox's self-signed CA).")
    auth: SalesforceAuth = SalesforceAuth()
    org_ids_env: str = Field("SALESFORCE_ORG_ID", description="Accepted OrganizationIds, comma-separated.")
    outbound_path_token_env: str | None = Field(
        None, description="If set, outbound messages must POST to /webhooks/salesforce/<token>."
    )
    daily_api_share: float = Field(0.8, gt=0, le=1, description="Pause non-urgent work above this usage.")
    connect_timeout_s: float = Field(10, gt=0, description="Longest wait for a connection to Salesforce.")
    read_timeout_s: float = Field(
        30, gt=0, description="Longest wait between bytes of an answer: a stalled call ends and is retried.")
    timeout_s: float | None = Field(
        None, gt=0, description="Older name for read_timeout_s; when set (and read_timeout_s is not) it wins.")
    duplicate_rule: Literal["report", "allow_save"] = Field(
        "report", description="allow_save sends Sforce-Duplicate-Rule-Header: allowSave=true on creates, so an "
                              "org's duplicate rule cannot refuse a lead HubSpot already holds; report lets it "
                              "refuse and dead-letters the record with the matching ids.")
    integration_user_ids: list[str] = Field(
        default_factory=list, description="Salesforce user ids that mean 'no owner' (the integration user owns "
                                          "what the connector creates); alerts for them go to the round-robin.")

    @model_validator(mode="after")
    def _legacy_timeout(self) -> SalesforceConnection:
        # timeout_s predates the connect/read split: honour it unless read_timeout_s was given too.
        if self.timeout_s is not None and "read_timeout_s" not in self.model_fields_set:
            object.__setattr__(self, "read_timeout_s", self.timeout_s)
        return self

    @field_validator("ca_bundle", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value


class Objects(Model):
    hubspot: list[Literal["contacts"]] = Field(default_factory=lambda: ["contacts"])
    salesforce: list[Literal["Lead", "Contact"]] = Field(default_factory=lambda: ["Lead", "Contact"])


class Retention(Model):
    inbox_days: int = Field(30, ge=2, description="Keep accepted webhook events this long. It is also the "
                            "dedupe window: at least 2 days, since HubSpot and Salesforce retry for about a day.")
    audit_days: int = Field(365, ge=1, description="Keep the audit of writes this long.")
    engagement_days: int = Field(730, ge=1, description="Keep engagement facts this long (scoring decays them).")
    dead_letters_days: int = Field(90, ge=1, description="Keep resolved dead letters this long.")


class Store(Model):
    url: str = Field("sqlite:///nurture.db", description="sqlite:///path.db or postgresql://user@host/db")
    pool_size: int = Field(5, ge=1, le=100, description="Connections per process (PostgreSQL: × processes "
                                                        "must stay under max_connections).")
    retention: Retention = Retention()


class Web(Model):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=1, le=64)
    max_body_bytes: int = Field(40 * 1024 * 1024, ge=1024, description="Largest request accepted. 40 MiB holds "
                                "HubSpot's largest legitimate batch (100 events × 65,536-character values).")
    trusted_proxies: int = Field(0, ge=0, description="How many proxies' X-Forwarded-* headers to trust.")
    public_base_url: HttpUrl | None = Field(None, description="The URL the CRMs call, if not the one we see.")
    insecure_dev_mode: bool = Field(False, description="Accept unsigned webhooks. Refused unless both CRMs "
                                                       "are the local sandbox (docs/SECURITY.md).")


class EngagementSource(Model):
    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    secret_env: str


class Engagement(Model):
    sources: list[EngagementSource] = Field(
        default_factory=lambda: [EngagementSource(name="default", secret_env="NURTURE_ENGAGEMENT_SECRET")]
    )
    tolerance_s: int = Field(300, ge=30, description="Oldest signed timestamp accepted.")


class Worker(Model):
    batch_size: int = Field(100, ge=1, le=100)
    lease_s: int = Field(15, ge=5, description="How long a claim holds without a heartbeat: a dead worker's "
                         "people return after this (docs/ARCHITECTURE.md, concurrency).")
    heartbeat_s: float = Field(5, gt=0, description="How often a working batch renews its lease (at most lease_s/3).")
    idle_sleep_s: float = Field(0.5, gt=0)
    coalesce_s: float = Field(
        0.75, ge=0, description="After a part-full batch, wait this long so a burst's marks (and our own "
                               "writes' echoes) are reconciled together: fewer API calls for a little latency.")
    poll_interval_s: int = Field(300, ge=10, description="Scheduled poll that catches missed webhooks.")
    max_attempts: int = Field(8, ge=1)


class Paths(Model):
    mappings: str = "mappings/contact.yaml"
    scoring: str = "config/scoring.yaml"
    segments: str = "config/segments.yaml"
    lifecycle: str = "config/lifecycle.yaml"
    nurture: str = "config/nurture.yaml"
    alerts: str = "config/alerts.yaml"


class Logging(Model):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"


class AppConfig(Model):
    name: str = "Nurture Connector"
    hubspot: HubSpotConnection = HubSpotConnection()
    salesforce: SalesforceConnection = SalesforceConnection()
    objects: Objects = Objects()
    store: Store = Store()
    web: Web = Web()
    engagement: Engagement = Engagement()
    worker: Worker = Worker()
    paths: Paths = Paths()
    secrets_file: str | None = Field(None, description="A file of NAME=value lines read before the environment.")
    logging: Logging = Logging()
