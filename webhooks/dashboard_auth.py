"""Who may see the dashboard: one admin, by password (a werkzeug hash in NURTURE_ADMIN_PASSWORD_HASH) or by
token (NURTURE_ADMIN_TOKEN), a signed session cookie, and a CSRF token on every form.

No credential set means no dashboard (503 with how to set one), never an open one. The session key is
NURTURE_SECRET_KEY, or else derived from the credential, so every gunicorn worker signs alike and changing
the password ends every session. Cookies are HttpOnly and SameSite=Lax, and Secure except over plain HTTP on
a loopback address (the demo), where a browser would otherwise drop them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import check_password_hash

HASH_ENV = "NURTURE_ADMIN_PASSWORD_HASH"
TOKEN_ENV = "NURTURE_ADMIN_TOKEN"
KEY_ENV = "NURTURE_SECRET_KEY"
SESSION_HOURS = 12


def credential() -> tuple[str, str] | None:
    """("hash", value) or ("token", value), whichever the environment holds."""
    if os.environ.get(HASH_ENV):
        return "hash", os.environ[HASH_ENV]
    if os.environ.get(TOKEN_ENV):
        return "token", os.environ[TOKEN_ENV]
    return None


def check(password: str) -> bool:
    found = credential()
    if found is None or not password:
        return False
    kind, value = found
    if kind == "hash":
        try:
            return check_password_hash(value, password)
        except ValueError:  # a malformed hash in the environment: nobody gets in, and the page says why
            return False
    return hmac.compare_digest(password.encode(), value.encode())


def secret_key() -> bytes | None:
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode()
    found = credential()
    if found is None:
        return None
    return hashlib.sha256(b"nurture-dashboard-session\x00" + found[1].encode()).digest()


def _loopback(req: Request) -> bool:
    host = (req.host or "").rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DashboardSession(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:  # type: ignore[override]
        return request.is_secure or not _loopback(request)


def install(app: Flask) -> None:
    from datetime import timedelta

    app.secret_key = secret_key()
    app.session_interface = DashboardSession()
    app.config.update(SESSION_COOKIE_NAME="nurture_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
                      WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600)


def logged_in() -> bool:
    return bool(session.get("admin"))
