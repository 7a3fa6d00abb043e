"""The whole loop over real HTTP: a CRM change -> signed webhook -> gunicorn -> inbox -> worker -> the other CRM,
and our own writes echoing back as webhooks until everything is quiet."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.engine.clients import build_clients
from connector.engine.nurture_step import setup_hubspot_properties
from connector.engine.worker import Worker
from connector.sandbox.launcher import Sandboxes, start_sandboxes
from connector.sandbox.runtime import free_port, wait_until_ready
from connector.settings import load_settings
from connector.store import open_engine, upgrade

pytestmark = pytest.mark.slow


@pytest.fixture
def loop(config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    port = free_port()
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, connector_url=f"http://127.0.0.1:{port}",
                            retry_base_s=0.2)
    env = {**os.environ, **boxes.env(), "NURTURE_ENGAGEMENT_SECRET": "loop-secret",
           "NURTURE_STORE_URL": f"sqlite:///{tmp_path / 'loop.db'}", "NURTURE_PORT": str(port)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(config_dir / "app.yaml")
    engine = open_engine(settings.app.store.url)
    upgrade(engine)
    clients = build_clients(settings, engine)
    setup_hubspot_properties(settings, clients)  # before serve: it refuses to start without them
    server = subprocess.Popen([sys.executable, "-m", "connector", "--config", str(config_dir / "app.yaml"), "serve",
                               "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_until_ready(f"http://127.0.0.1:{port}/readyz"), "server did not start"
        yield {"boxes": boxes, "worker": Worker(settings, engine, clients), "engine": engine}
    finally:
        server.terminate()
        server.wait(timeout=30)  # gunicorn drains gracefully; a loaded CI host can take a while
        boxes.stop()


def settle(boxes: Sandboxes, worker: Worker, rounds: int = 20) -> int:
    """Deliver every pending webhook and run the worker until a round finds nothing to do; count writes."""
    writes = 0
    for _ in range(rounds):
        boxes.hubspot.flush_webhooks()
        boxes.salesforce.flush_outbound()
        assert boxes.hubspot.deliverer.wait_idle(10) and boxes.salesforce.deliverer.wait_idle(10)
        totals = worker.drain()
        assert not totals.errors, totals.errors
        writes += totals.writes
        if totals.claimed == 0:
            return writes
    raise AssertionError(f"no quiet after {rounds} rounds ({writes} writes): ping-pong")


def test_one_change_makes_a_few_writes_then_silence(loop: dict[str, Any]) -> None:
    boxes, worker = loop["boxes"], loop["worker"]
    r = requests.post(f"{boxes.hubspot.url}/__sandbox/ui/contacts", timeout=10, json={"properties": {
        "email": "loop@example.org", "firstname": "Lo", "lastname": "Op", "company": "Loop Inc"}})
    r.raise_for_status()
    hs_id = str(r.json()["id"])
    writes = settle(boxes, worker)
    leads = [lead for lead in boxes.salesforce.state.records["Lead"].values() if lead.get("HubSpot_Id__c") == hs_id]
    assert len(leads) == 1 and leads[0]["Company"] == "Loop Inc"
    assert writes <= 4, f"{writes} writes for one new contact"  # create, status back, write-back on each side

    requests.patch(f"{boxes.hubspot.url}/__sandbox/ui/contacts/{hs_id}", timeout=10,
                   json={"properties": {"jobtitle": "Director of Ops"}}).raise_for_status()
    writes = settle(boxes, worker)
    assert boxes.salesforce.state.records["Lead"][leads[0]["Id"]]["Title"] == "Director of Ops"
    assert writes <= 2  # the title; the persona it implies, written back to both sides in the same calls

    boxes.salesforce.ui_edit("Lead", leads[0]["Id"], {"Phone": "+1 555 0100"})
    writes = settle(boxes, worker)
    assert boxes.hubspot.state.contacts[hs_id].properties["phone"] == "+1 555 0100"
    assert writes == 1
