"""The dashboard's gate, without a browser: off without a credential, login required, CSRF on every form,
cookie flags, no open redirect, webhook routes untouched; pages render from a seeded store."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select
from werkzeug.security import generate_password_hash

from connector.store.models import contacts, dead_letters, dirty, report_snapshots

TOKEN = "test-admin-token-123"


def csrf(client: FlaskClient, path: str = "/dashboard/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


@pytest.fixture
def dash(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("NURTURE_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("NURTURE_ADMIN_PASSWORD_HASH", raising=False)
    return make_app().test_client()


def login(client: FlaskClient, password: str = TOKEN, next_: str = "") -> object:
    token = csrf(client)
    return client.post(f"/dashboard/login{next_}", data={"password": password, "csrf_token": token})


def test_no_credential_means_no_dashboard(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NURTURE_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("NURTURE_ADMIN_PASSWORD_HASH", raising=False)
    client = make_app().test_client()
    response = client.get("/dashboard")
    assert response.status_code == 503 and "NURTURE_ADMIN_PASSWORD_HASH" in response.get_data(as_text=True)


def test_login_required_and_open_redirects_refused(dash: FlaskClient) -> None:
    first = dash.get("/dashboard/activity")
    assert first.status_code == 302 and first.headers["Location"].startswith("/dashboard/login?next=")
    assert dash.get("/").headers["Location"].endswith("/dashboard/")
    assert "Wrong password" in login(dash, "guess").get_data(as_text=True)  # type: ignore[attr-defined]
    evil = login(dash, next_="?next=//evil.example/x")
    assert evil.headers["Location"] == "/dashboard/"  # type: ignore[attr-defined]
    assert dash.get("/dashboard/activity").status_code == 200


def test_password_hash_login(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NURTURE_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("NURTURE_ADMIN_PASSWORD_HASH", generate_password_hash("s3cret-passphrase"))
    client = make_app().test_client()
    assert "Wrong password" in login(client, "s3cret").get_data(as_text=True)  # type: ignore[attr-defined]
    assert login(client, "s3cret-passphrase").status_code == 302  # type: ignore[attr-defined]


def test_every_form_needs_its_csrf_token(dash: FlaskClient) -> None:
    refused = dash.post("/dashboard/login", data={"password": TOKEN})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    login(dash)
    assert dash.post("/dashboard/dead-letters/1/replay").status_code == 400
    assert dash.post("/dashboard/logout", data={"csrf_token": "forged"}).status_code == 400
    assert dash.get("/dashboard").status_code == 200  # still logged in


def test_cookie_flags_and_headers(dash: FlaskClient) -> None:
    remote = dash.get("/dashboard/login", base_url="http://crm-sync.example.com")
    remote_cookie = remote.headers.get("Set-Cookie", "")
    assert "HttpOnly" in remote_cookie and "SameSite=Lax" in remote_cookie and "Secure" in remote_cookie
    local = dash.get("/dashboard/login", base_url="http://127.0.0.1:8000").headers.get("Set-Cookie", "")
    assert "Secure" not in local and "HttpOnly" in local  # the demo over plain HTTP on loopback
    csp = remote.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp


def test_webhooks_are_outside_the_login(dash: FlaskClient) -> None:
    response = dash.post("/webhooks/engagement", data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and response.is_json  # judged by its signature, not redirected
    assert dash.get("/healthz").status_code == 200


def seed(engine: Engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(contacts), [{"id": 1, "email": "ann@corp.io", "hubspot_id": "101", "salesforce_id": None,
                                         "synced": {"first_name": "Ann", "last_name": "Lee", "email": "ann@corp.io"},
                                         "brain": {"lifecycle": "lead", "track": "awareness", "sent": [
                                             ["awareness:welcome", now.isoformat(), "welcome", "welcome_subject=A"]]},
                                         "created_at": now, "updated_at": now}])
        conn.execute(insert(dead_letters).values(created_at=now, contact_id=1, system="hubspot",
                                                 object_type="contact", object_id="101", operation="update",
                                                 payload={}, error_code="INVALID", message="bad value"))


def test_pages_render_and_replay_marks_the_record(dash: FlaskClient, engine: Engine) -> None:
    seed(engine)
    login(dash)
    for path in ("/dashboard", "/dashboard/funnel", "/dashboard/cohorts", "/dashboard/tracks",
                 "/dashboard/contacts?q=ann", "/dashboard/contacts?q=lee", "/dashboard/contacts/1",
                 "/dashboard/activity?action=update", "/dashboard/contacts?ids=1"):
        response = dash.get(path)
        assert response.status_code == 200, path
    assert "ann@corp.io" in dash.get("/dashboard/contacts?q=lee").get_data(as_text=True)  # by name
    contact = dash.get("/dashboard/contacts/1").get_data(as_text=True)
    assert "welcome_subject=A" in contact and "score " in contact
    with engine.connect() as conn:
        assert conn.execute(select(report_snapshots.c.since)).scalars().all() == ["90d"]  # pages saved one
    token = csrf(dash, "/dashboard")
    replayed = dash.post("/dashboard/dead-letters/1/replay", data={"csrf_token": token}, follow_redirects=True)
    assert "1 record(s) marked for the worker" in replayed.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(select(dirty.c.object_id)).scalars().all() == ["101"]
        assert conn.execute(select(dead_letters.c.resolved_at)).scalar() is not None
    again = dash.post("/dashboard/dead-letters/1/replay", data={"csrf_token": token}, follow_redirects=True)
    assert "already replayed" in again.get_data(as_text=True)
    assert dash.get("/dashboard/funnel?since=lately").status_code == 400
