"""SalesforceSandbox: a stateful Salesforce org over HTTPS on loopback, for tests, benchmarks and demos."""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests

from connector.sandbox.runtime import CallCounter, Deliverer, Faults, ServerThread
from connector.sandbox.salesforce.app import create_app
from connector.sandbox.salesforce.auth import Credentials, Sessions
from connector.sandbox.salesforce.convert import Conversion, convert_lead
from connector.sandbox.salesforce.fields import default_schema
from connector.sandbox.salesforce.jwt_grant import LOGIN_AUDIENCES, ensure_jwt_keys
from connector.sandbox.salesforce.outbound import DEFAULT_WATCHED, Outbound
from connector.sandbox.salesforce.records import Store
from connector.sandbox.salesforce.rest import Rest
from connector.sandbox.salesforce.schema import Field
from connector.sandbox.salesforce.seed import OWNERS, lead_from_person, owner_email
from connector.sandbox.salesforce.state import SalesforceState
from connector.sandbox.salesforce.tls import ensure_certs
from connector.sandbox.salesforce.validate import RecordFailed

log = logging.getLogger(__name__)


class SalesforceSandbox:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        org_id: str = "00D000000000001AAA",
        access_token: str | None = None,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",
        username: str = "integration@sandbox.example",
        password: str = "sandbox-password",
        outbound_url: str | None = None,
        faults: Faults | None = None,
        cert_dir: str | Path | None = None,
        retry_base_s: float = 1.0,
        state_file: str | Path | None = None,
        daily_api_limit: int = 100_000,
        *,
        version: str = "59.0",
        refresh_token: str | None = None,
        outbound_objects: dict[str, list[str] | None] | None = None,
        outbound_window_s: float = 0.2,
        send_session_id: bool = False,
        duplicate_rule: bool = True,
        jwt_certificate: str | Path | None = None,
        rotate_refresh_token: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.org_id = org_id
        self.access_token = access_token or f"{org_id[:15]}!{secrets.token_urlsafe(48)}"
        self.refresh_token = refresh_token or f"5Aep861{secrets.token_urlsafe(40)}"
        self.username = username
        self.daily_api_limit = daily_api_limit
        self._initial_limit = daily_api_limit
        self.faults = faults or Faults()
        self.calls = CallCounter()
        self.state_file = Path(state_file) if state_file else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if cert_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sf-sandbox-tls-")
            cert_dir = self._tmp.name
        self.cert_dir = Path(cert_dir)
        self.state = SalesforceState()
        self.schema = default_schema()
        self._muted = threading.local()
        self.store = Store(self.state, self.schema, version, self._changed)
        self.store.duplicate_rule = duplicate_rule
        self.sessions = Sessions(self.state, Credentials(client_id, client_secret, username, password,
                                                         self.refresh_token), org_id,
                                 audiences=LOGIN_AUDIENCES, rotate_refresh_token=rotate_refresh_token)
        # The connected app's certificate for the JWT grant; without one, start() makes a key pair in
        # cert_dir and exposes the private key as jwt_private_key_file, as an admin would hold it.
        self._jwt_certificate = Path(jwt_certificate) if jwt_certificate else None
        self.jwt_private_key_file: Path | None = None
        self.rest = Rest(self.store, lambda: self.daily_api_limit)
        self.deliverer = Deliverer(retry_base_s=retry_base_s, retry_max_s=max(retry_base_s * 64, 1.0))
        watched = outbound_objects if outbound_objects is not None else dict.fromkeys(DEFAULT_WATCHED)
        self.outbound = Outbound(self.store, self.deliverer, org_id, lambda: self.instance_url, outbound_url,
                                 watched, outbound_window_s, version,
                                 session_id=self.access_token if send_session_id else None)
        self._server: ServerThread | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
    @property
    def instance_url(self) -> str:
        return f"https://{self.host}:{self._server.port if self._server else self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.instance_url}/services/oauth2/token"

    @property
    def ca_bundle(self) -> Path:
        return self.cert_dir / "ca.pem"

    def requests_session(self) -> requests.Session:
        """A session that trusts this sandbox's CA.

        ``trust_env`` is off because requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override
        ``Session.verify`` when the call itself passes no ``verify`` (simple-salesforce passes none).
        """
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.ca_bundle)
        return session

    def start(self) -> SalesforceSandbox:
        if self._server is not None:  # already serving (e.g. started, then used as a context manager)
            return self
        if self.state_file and self.state.load(self.state_file):
            self.store.reindex()
        for name in self.schema.types:
            self.state.table(name)
        self._bootstrap_users()
        self.sessions.issue("configured", self.access_token)
        hosts = tuple(dict.fromkeys((self.host, "127.0.0.1", "localhost")))
        certs = ensure_certs(self.cert_dir, hosts)
        if self._jwt_certificate is None:
            self.jwt_private_key_file, self._jwt_certificate = ensure_jwt_keys(self.cert_dir)
        self.sessions.jwt_certificate = self._jwt_certificate.read_bytes()
        self._server = ServerThread(create_app(self), self.host, self.port, ssl_context=certs.server_context())
        self._server.start()
        log.info("salesforce sandbox at %s (CA bundle %s)", self.instance_url, self.ca_bundle)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.outbound.stop()
        self.deliverer.stop()
        if self.state_file:
            self.state.save(self.state_file)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SalesforceSandbox:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to a fresh org (users kept) without restarting the server: tests share one sandbox per
        module because stopping a werkzeug server takes half a second."""
        self.outbound.flush()
        self.deliverer.wait_idle(timeout=5)
        with self.state.lock:
            users = self.state.table("User")
            self.state.records = {name: {} for name in self.schema.types}
            self.state.records["User"] = users
            self.state.cursors.clear()
            self.state.api_usage = 0
            self.sessions.expire_all()
            self.sessions.issue("configured", self.access_token)
            self.sessions.refresh_token = self.refresh_token  # a rotated one is forgotten
            self.sessions.grants.clear()
            self.store.reindex()
        self.store.duplicate_rule = True
        self.daily_api_limit = self._initial_limit
        self.faults.clear()
        self.calls.reset()
        self.deliverer.log.clear()

    # ---- data ----------------------------------------------------------------------------------
    def _changed(self, sobject: str, record_id: str, kind: str) -> None:
        if not getattr(self._muted, "on", False):
            self.outbound.on_change(sobject, record_id, kind)

    def _bootstrap_users(self) -> None:
        users = self.state.table("User")
        if users:
            self.store.api_user_id = next(iter(users))
            return
        self._muted.on = True
        try:
            with self.store.transaction() as txn:
                for first, last, alias in (("Integration", "User", "integ"), *OWNERS):
                    username = self.username if alias == "integ" else f"{alias}@sandbox.example"
                    email = username if alias == "integ" else owner_email(first, last)
                    user_id = self.store.create("User", {"FirstName": first, "LastName": last, "Alias": alias,
                                                         "Username": username, "Email": email}, txn)
                    if alias == "integ":
                        # the integration user creates everything after it, itself included
                        self.store.api_user_id = user_id
                        self.state.table("User")[user_id].update(CreatedById=user_id, LastModifiedById=user_id)
        finally:
            self._muted.on = False

    def owner_ids(self) -> list[str]:
        """The sales reps (not the integration user), in the order fake_people's owner_index means."""
        return [u for u in self.state.table("User") if u != self.store.api_user_id]

    def seed(self, people: list[Any]) -> list[str]:
        """Create a Lead per person, as data that predates the connector: no outbound messages, and the
        duplicate rule does not apply (orgs do hold duplicates). Invalid emails are left out, since the
        org never accepts them."""
        if not self.state.table("User"):
            self._bootstrap_users()
        owners = self.owner_ids()
        ids: list[str] = []
        self._muted.on = True
        try:
            with self.store.transaction() as txn:
                for person in people:
                    mark = self.store.savepoint(txn)
                    try:
                        ids.append(self.store.create("Lead", lead_from_person(person, owners), txn,
                                                     allow_duplicates=True))
                    except RecordFailed as exc:
                        self.store.rollback(txn, mark)
                        log.warning("seed skipped %s: %s", getattr(person, "email", person), exc)
        finally:
            self._muted.on = False
        return ids

    def convert(self, lead_id: str, *, contact_id: str | None = None,
                create_opportunity: bool = False) -> Conversion:
        return convert_lead(self.store, lead_id, contact_id=contact_id, create_opportunity=create_opportunity)

    def convert_lead(self, lead_id: str) -> str:
        """Convert a Lead the way a user would in the UI; returns the new Contact's id."""
        return self.convert(lead_id).contact_id

    def ui_edit(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        """A user editing a record in the browser: same validation, outbound messages fire."""
        with self.store.transaction() as txn:
            self.store.update(self.store.type_of(sobject).name, record_id, fields, txn, allow_duplicates=True)

    def add_custom_field(self, sobject: str, name: str, type: str = "string", **flags: Any) -> None:
        self.schema.add_field(sobject, Field(name, type, **flags))
        self.store.reindex()

    def flush_outbound(self) -> int:
        return self.outbound.flush()
