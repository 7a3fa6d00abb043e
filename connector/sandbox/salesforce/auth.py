"""The OAuth 2.0 token endpoint and bearer-session checks.

Grants: the JWT bearer grant (an RS256 assertion checked against the connected app's certificate),
client_credentials, refresh_token (optionally rotated: a new refresh token each time, the old one
revoked) and password (username + password, plus the client id and secret; deprecated by Salesforce).
Errors use the OAuth shape Salesforce answers with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from connector.sandbox.salesforce.jwt_grant import JWT_GRANT, JwtRefused, verify_assertion
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
    def __init__(self, state: SalesforceState, credentials: Credentials, org_id: str,
                 jwt_certificate: bytes | None = None, audiences: tuple[str, ...] = (),
                 rotate_refresh_token: bool = False) -> None:
        self.state = state
        self.credentials = credentials
        self.org_id = org_id
        self.jwt_certificate = jwt_certificate  # the certificate uploaded to the connected app
        self.audiences = audiences
        self.rotate_refresh_token = rotate_refresh_token
        self.refresh_token = credentials.refresh_token  # the one currently valid (rotation replaces it)
        self.grants: list[str] = []  # grant types that succeeded, for tests

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
        if grant_type == JWT_GRANT:
            return self._jwt(form, instance_url, user_id)
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
        rotated = None
        if grant_type == "refresh_token":
            with self.state.lock:
                if not hmac.compare_digest(form.get("refresh_token", ""), self.refresh_token):
                    raise OAuthError("invalid_grant", "expired access/refresh token")
                if self.rotate_refresh_token:
                    # Rotation: the answer carries a new refresh token and the one just used stops working.
                    rotated = self.refresh_token = f"5Aep861{secrets.token_urlsafe(40)}"
        body = self._answer(grant_type, instance_url, user_id)
        if rotated:
            body["refresh_token"] = rotated
        return body

    def _jwt(self, form: dict[str, str], instance_url: str, user_id: str) -> dict[str, Any]:
        if self.jwt_certificate is None:
            raise OAuthError("invalid_grant", "invalid assertion")  # no certificate uploaded to the app
        try:
            verify_assertion(form.get("assertion", ""), self.jwt_certificate, self.credentials.client_id,
                             {self.credentials.username}, (*self.audiences, instance_url.rstrip("/")))
        except JwtRefused as exc:
            raise OAuthError(exc.error, exc.description) from None
        body = self._answer(JWT_GRANT, instance_url, user_id)
        body.pop("signature")  # the JWT bearer answer carries no signature (no client secret was used)
        return body

    def _answer(self, grant_type: str, instance_url: str, user_id: str) -> dict[str, Any]:
        creds = self.credentials
        token = self.issue(grant_type)
        self.grants.append(grant_type)
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
