"""Size, content type, unknown routes, health, readiness and the OpenAPI document."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from webhook_helpers import Store, hubspot_event, hubspot_post, with_app

from connector.settings import Settings


def test_too_large_is_413_before_reading(make_app: Callable[..., Flask], settings: Settings, store: Store) -> None:
    client = make_app(with_app(settings, web={"max_body_bytes": 2048})).test_client()
    events = [hubspot_event(i) for i in range(30)]
    started = time.perf_counter()
    response = hubspot_post(client, events)
    assert response.status_code == 413 and "at most 2048" in response.json["message"]
    assert time.perf_counter() - started < 0.05
    assert not store.stored_anything() and store.counters() == {"webhooks.hubspot.rejected.too_large": 1}


def test_wrong_content_type_is_415(client: FlaskClient, store: Store) -> None:
    for path in ("/webhooks/hubspot", "/webhooks/engagement", "/webhooks/salesforce"):
        response = client.post(path, data=b"x", content_type="text/plain")
        assert response.status_code == 415, path
        assert "Content-Type 'text/plain'" in response.json["message"]
    assert client.post("/webhooks/hubspot", data=b"[]").status_code == 415  # no type at all
    assert not store.stored_anything()


def test_empty_body_is_400(client: FlaskClient) -> None:
    response = client.post("/webhooks/hubspot", data=b"", content_type="application/json")
    assert response.status_code == 400 and response.json["message"] == "the body is empty"


def test_unknown_routes_and_methods_answer_json(client: FlaskClient) -> None:
    assert client.get("/nope").status_code == 404 and client.get("/nope").json["error"] == "not_found"
    assert client.get("/webhooks/hubspot").status_code == 405


def test_health_and_readiness(client: FlaskClient, store: Store) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["status"] == "migrations pending"


def test_readiness_without_a_store(make_app: Callable[..., Flask], settings: Settings, tmp_path: object) -> None:
    from connector.store import open_engine
    from webhooks import create_app
    engine = open_engine("sqlite:////nonexistent-dir/x.db")
    response = create_app(settings, engine=engine).test_client().get("/readyz")
    assert response.status_code == 503 and response.json["status"] == "store unreachable"


def test_openapi_document(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) >= {"/webhooks/hubspot", "/webhooks/salesforce", "/webhooks/engagement", "/healthz",
                                 "/readyz"}
    assert "EngagementEvent" in doc["components"]["schemas"]


def test_store_failure_is_500_without_details(client: FlaskClient, store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE inbox"))
    response = hubspot_post(client, [hubspot_event(1)])
    assert response.status_code == 500
    assert response.json == {"error": "internal", "message": "the event could not be stored; please retry"}
