"""Signing in to Salesforce: one OAuth 2.0 token request per flow, and a rotated refresh token kept.

Flows, in the order an admin should prefer them:
- ``jwt``: the JWT bearer flow, Salesforce's server-to-server flow. An RS256 assertion (iss = the
  connected app's consumer key, sub = the integration user, aud = the login host, exp a few minutes
  ahead) signed with the private key whose certificate is uploaded to the connected app. No secret
  and no password travel.
- ``client_credentials``: the connected app's key and secret, run as the app's configured user.
- ``refresh_token``: a token from a one-time web authorization. Salesforce may rotate it (a connected
  app with refresh-token rotation answers a new ``refresh_token``); the new one is kept through
  ``on_refresh_token`` because the old one stops working.
- ``password``: username-password; Salesforce deprecates this flow, kept for old installs only.
- ``session``: a ready access token; it cannot sign in again.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization

from connector.crm.errors import FatalError, RetryableError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_S = 150  # Salesforce accepts an assertion whose exp is at most 3 minutes ahead


@dataclass
class Credentials:
    flow: str
    token_url: str
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    access_token: str | None = None
    private_key: str | None = None  # flow jwt: PEM text, or the path of a PEM file
    audience: str | None = None  # flow jwt: defaults from the token URL


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str | None
    refresh_token: str | None  # set when Salesforce rotated it
    user_id: str | None = None  # the signed-in (integration) user, from the identity URL


def default_audience(token_url: str) -> str:
    """login.salesforce.com for production and My Domain hosts, test.salesforce.com for sandboxes signed in
    through test.salesforce.com; any other host (the emulator, a proxy) is its own audience."""
    parts = urlsplit(token_url)
    host = (parts.hostname or "").lower()
    if host == "test.salesforce.com":
        return "https://test.salesforce.com"
    if host == "login.salesforce.com" or host.endswith(".salesforce.com"):
        return "https://login.salesforce.com"
    return f"{parts.scheme}://{parts.netloc}"


def load_private_key(value: str) -> str:
    """The key itself when the value is PEM text, else the file it names. Never echoes the value."""
    if "-----BEGIN" in value:
        return value.replace("\\n", "\n")  # one-line env vars often carry literal \n
    path = Path(value).expanduser()
    if not path.is_file():
        raise FatalError("salesforce", "the JWT private key is neither PEM text nor a readable file; set it to "
                                       "the key's PEM or the path of the .pem file")
    return path.read_text()


@functools.lru_cache(maxsize=4)
def _signing_key(pem: str) -> Any:
    """The parsed key, once: loading an RSA key checks it, which costs about a quarter second each time."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


def assertion(c: Credentials, now: float | None = None) -> str:
    if not (c.client_id and c.username and c.private_key):
        raise FatalError("salesforce", "flow jwt needs the consumer key, the integration user's username and a "
                                       "private key (salesforce.auth client_id_env, username_env, private_key_env)")
    issued = int(now if now is not None else time.time())
    claims = {"iss": c.client_id, "sub": c.username, "aud": c.audience or default_audience(c.token_url),
              "exp": issued + JWT_LIFETIME_S}
    try:
        return jwt.encode(claims, _signing_key(load_private_key(c.private_key)), algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        raise FatalError("salesforce", "the JWT private key could not sign (not an RSA private key in PEM?)") from None


def token_form(c: Credentials) -> dict[str, str | None]:
    if c.flow == "jwt":
        return {"grant_type": JWT_GRANT, "assertion": assertion(c)}
    form: dict[str, str | None] = {"client_id": c.client_id, "client_secret": c.client_secret}
    if c.flow == "password":
        return form | {"grant_type": "password", "username": c.username, "password": c.password}
    if c.flow == "refresh_token":
        return form | {"grant_type": "refresh_token", "refresh_token": c.refresh_token}
    if c.flow == "client_credentials":
        return form | {"grant_type": "client_credentials"}
    raise FatalError("salesforce", "the session expired and flow 'session' cannot sign in again; configure "
                                   "salesforce.auth.flow jwt, client_credentials or refresh_token")


def request_token(session: requests.Session, c: Credentials, timeout: tuple[float, float]) -> Token:
    form = token_form(c)
    try:
        response = session.post(c.token_url, data=form, timeout=timeout)
    except requests.RequestException as exc:
        raise RetryableError("salesforce", f"sign-in failed: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise RetryableError("salesforce", f"sign-in failed: HTTP {response.status_code}", response.status_code)
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or "access_token" not in body:
        reason = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        raise FatalError("salesforce", f"sign-in refused: {reason}", response.status_code, body.get("error"))
    rotated = body.get("refresh_token")
    if c.flow == "refresh_token" and rotated and rotated != c.refresh_token:
        c.refresh_token = rotated
    else:
        rotated = None
    identity = str(body.get("id") or "")  # https://login.salesforce.com/id/<org id>/<user id>
    return Token(body["access_token"], body.get("instance_url"), rotated, identity.rsplit("/", 1)[-1] or None)


def refresh_token_file_store(path: str) -> tuple[Callable[[], str | None], Callable[[str], None]]:
    """(read, write) for a file that holds the latest refresh token, written owner-only and atomically."""
    target = Path(path).expanduser()

    def read() -> str | None:
        return target.read_text().strip() or None if target.is_file() else None

    def write(token: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token)
        os.replace(tmp, target)

    return read, write
