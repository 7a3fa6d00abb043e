"""Shared helpers for the webhook tests: test secrets, signed posts, and read-only views of the store."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from connector.settings import Settings
from connector.store.models import counters, dirty, engagement, inbox
from webhooks.signatures import sign_engagement, sign_hubspot_v3

REPO = Path(__file__).resolve().parents[2]
REFERENCE = Path("/work/shared/reference")
HUBSPOT_SECRET = "test-client-secret-0b9f"
ORG_ID = "00D5e000000AbCdEAA"
ENGAGEMENT_SECRET = "test-engagement-secret-77c1"
BASE = "http://localhost"


def env_for(store_url: str, **extra: str) -> dict[str, str]:
    return {"HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET, "SALESFORCE_ORG_ID": ORG_ID,
            "NURTURE_ENGAGEMENT_SECRET": ENGAGEMENT_SECRET, "NURTURE_STORE_URL": store_url, **extra}


def with_app(settings: Settings, **sections: dict[str, Any]) -> Settings:
    """A copy of settings with some app.yaml sections changed, e.g. hubspot={"portal_id": 1}."""
    app = settings.app
    updates = {name: getattr(app, name).model_copy(update=values) for name, values in sections.items()}
    return dataclasses.replace(settings, app=app.model_copy(update=updates))


class Store:
    """Read-only views of the store for assertions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count(self, table: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    def inbox(self) -> int:
        return self.count(inbox)

    def rows(self, table: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(table)).all())

    def counters(self) -> dict[str, float]:
        with self.engine.connect() as conn:
            return {name: value for name, value in conn.execute(select(counters.c.name, counters.c.value))}

    def stored_anything(self) -> bool:
        return any(self.count(t) for t in (inbox, dirty, engagement))


def hubspot_event(event_id: int, object_id: int = 101, kind: str = "contact.propertyChange",
                  **extra: Any) -> dict[str, Any]:
    event = {"eventId": event_id, "subscriptionId": 4242, "portalId": 62515, "appId": 54321,
             "occurredAt": 1764000000000, "subscriptionType": kind, "attemptNumber": 0, "objectId": object_id,
             "changeSource": "CRM", "sourceId": "userId:1"}
    if kind.endswith("propertyChange"):
        event |= {"propertyName": "email", "propertyValue": f"person{object_id}@example.com"}
    return event | extra


def hubspot_post(client: FlaskClient, events: Any, *, secret: str = HUBSPOT_SECRET, path: str = "/webhooks/hubspot",
                 headers: dict[str, str] | None = None, body: bytes | None = None, **kw: Any) -> Any:
    raw = body if body is not None else json.dumps(events).encode()
    signed = sign_hubspot_v3(secret, "POST", BASE + path, raw)
    return client.post(path, data=raw, headers={**signed, **(headers or {})}, content_type="application/json", **kw)


def engagement_post(client: FlaskClient, payload: Any, *, secret: str = ENGAGEMENT_SECRET,
                    headers: dict[str, str] | None = None) -> Any:
    raw = json.dumps(payload).encode()
    return client.post("/webhooks/engagement", data=raw, content_type="application/json",
                       headers={**sign_engagement(secret, raw), **(headers or {})})
