"""Both sandbox CRMs, the shipped configuration pointed at them, a SQLite store, and a worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from sqlalchemy import Engine, select

from connector.engine.clients import Clients, build_clients
from connector.engine.nurture_step import setup_hubspot_properties
from connector.engine.worker import RunTotals, Worker
from connector.sandbox.launcher import Sandboxes, start_sandboxes
from connector.settings import Settings, load_settings
from connector.store import open_engine, upgrade
from connector.store.inbox import DirtyMark, record
from connector.store.models import audit, contacts, dead_letters


class SyncRig:
    # A plain class, not a dataclass: hypothesis prints a dataclass fixture field by field in reports.
    def __init__(self, boxes: Sandboxes, settings: Settings, engine: Engine, clients: Clients, worker: Worker) -> None:
        self.boxes, self.settings, self.engine, self.clients, self.worker = boxes, settings, engine, clients, worker

    def __repr__(self) -> str:  # hypothesis prints fixtures in failure reports: keep it short
        return f"SyncRig(hubspot={self.boxes.hubspot.url}, salesforce={self.boxes.salesforce.instance_url})"

    # -- acting as a user of each CRM ------------------------------------------------------------
    def hs_create(self, **props: str) -> str:
        r = requests.post(f"{self.boxes.hubspot.url}/__sandbox/ui/contacts", json={"properties": props}, timeout=10)
        r.raise_for_status()
        return str(r.json()["id"])

    def hs_edit(self, contact_id: str, **props: str) -> None:
        r = requests.patch(f"{self.boxes.hubspot.url}/__sandbox/ui/contacts/{contact_id}",
                           json={"properties": props}, timeout=10)
        r.raise_for_status()

    def hs(self, contact_id: str) -> dict[str, Any]:
        return dict(self.boxes.hubspot.state.contacts[contact_id].properties)

    def sf_api(self) -> Salesforce:
        box = self.boxes.salesforce
        return Salesforce(instance_url=box.instance_url, session_id=box.access_token,
                          session=box.requests_session(), version="59.0")

    def sf_create(self, sobject: str = "Lead", **fields: Any) -> str:
        return str(getattr(self.sf_api(), sobject).create(fields)["id"])

    def sf_edit(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.boxes.salesforce.ui_edit(sobject, record_id, fields)

    def sf(self, sobject: str, record_id: str) -> dict[str, Any]:
        return dict(self.boxes.salesforce.state.records[sobject][record_id])

    # -- the connector -----------------------------------------------------------------------------
    def mark(self, system: str, object_id: str, object_type: str = "contact") -> None:
        with self.engine.begin() as conn:
            record(conn, [], [DirtyMark(system, object_id, object_type)])

    def sync(self) -> RunTotals:
        totals = self.worker.drain()
        assert not totals.errors, totals.errors
        return totals

    def link(self, **where: str) -> Any:
        (key, value), = where.items()
        with self.engine.connect() as conn:
            return conn.execute(select(contacts).where(contacts.c[key] == value)).first()

    def audit_rows(self, action: str | None = None) -> list[Any]:
        query = select(audit).order_by(audit.c.id)
        if action:
            query = query.where(audit.c.action == action)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def api_calls(self) -> int:
        return self.boxes.hubspot.calls.total() + self.boxes.salesforce.calls.total()

    def dead_letters(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(dead_letters).order_by(dead_letters.c.id)))


@pytest.fixture
def rig(config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncRig]:
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, retry_base_s=0.05)
    try:
        for name, value in boxes.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NURTURE_ENGAGEMENT_SECRET", "test-engagement-secret")
        monkeypatch.setenv("NURTURE_STORE_URL", f"sqlite:///{tmp_path / 'sync.db'}")
        settings = load_settings(config_dir / "app.yaml")
        engine = open_engine(settings.app.store.url)
        upgrade(engine)
        clients = build_clients(settings, engine)
        clients.hubspot.max_wait_s = clients.salesforce.max_wait_s = 0.2  # tests don't sit out 10-s windows
        clients.hubspot.breaker.cooldown_s = clients.salesforce.breaker.cooldown_s = 0.2  # nor 30-s cool-downs
        setup_hubspot_properties(settings, clients)  # what `nurture setup` does once per portal
        yield SyncRig(boxes, settings, engine, clients, Worker(settings, engine, clients))
    finally:
        boxes.stop()
