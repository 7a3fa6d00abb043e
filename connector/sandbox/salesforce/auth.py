"""The OAuth 2.0 token endpoint and bearer-session checks.

Grants: password (username + password, plus the connected app's client id and secret),
client_credentials and refresh_token. Errors use the OAuth shape Salesforce answers with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from connector.sandbox.salesforce.state import SalesforceState


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    username: str
    password: str
    refresh_token: str


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class Sessions:
    def __init__(self, state: SalesforceState, credentials: Credentials, org_id: str) -> None:
        self.state = state
        self.credentials = credentials
        self.org_id = org_id

    def issue(self, kind: str, token: str | None = None) -> str:
        # Real access tokens start with the org id and an exclamation mark.
        token = token or f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        with self.state.lock:
            self.state.sessions[token] = kind
        return token

    def valid(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            return False
        with self.state.lock:
            return token.strip() in self.state.sessions

    def expire_all(self) -> int:
        with self.state.lock:
            count = len(self.state.sessions)
            self.state.sessions.clear()
            return count

    def grant(self, form: dict[str, str], instance_url: str, user_id: str) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        creds = self.credentials
        if grant_type not in ("password", "client_credentials", "refresh_token"):
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        if not hmac.compare_digest(form.get("client_id", ""), creds.client_id):
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(form.get("client_secret", ""), creds.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        if grant_type == "password":
            user_ok = hmac.compare_digest(form.get("username", ""), creds.username)
            pass_ok = hmac.compare_digest(form.get("password", ""), creds.password)
            if not (user_ok and pass_ok):
                raise OAuthError("invalid_grant", "authentication failure")
        if grant_type == "refresh_token" and not hmac.compare_digest(form.get("refresh_token", ""),
                                                                     creds.refresh_token):
            raise OAuthError("invalid_grant", "expired access/refresh token")
        token = self.issue(grant_type)
        issued_at = str(int(time.time() * 1000))
        identity = f"{instance_url}/id/{self.org_id}/{user_id}"
        # As documented for the token response: HMAC-SHA256 of id + issued_at keyed by the client secret.
        digest = hmac.new(creds.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        return {
            "access_token": token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api refresh_token",
        }
