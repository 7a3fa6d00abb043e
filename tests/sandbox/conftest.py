"""Fixtures for the sandbox emulator tests: a running HubSpot sandbox and an SDK client pointed at it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, request
from hubspot import HubSpot

from connector.sandbox.hubspot import HubSpotSandbox
from connector.sandbox.runtime import ServerThread
from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import start_sandbox

TOKEN = "pat-test-token"
SECRET = "test-client-secret"


@pytest.fixture
def hubspot_sandbox() -> Iterator[HubSpotSandbox]:
    sandbox = HubSpotSandbox(access_token=TOKEN, client_secret=SECRET).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def hubspot_client(hubspot_sandbox: HubSpotSandbox) -> HubSpot:
    return HubSpot(access_token=TOKEN, host=hubspot_sandbox.url, base_url=hubspot_sandbox.url)


@dataclass
class Receiver:
    """A tiny webhook endpoint: records every request; `respond` decides its status code."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    respond: Callable[[int], int] = lambda n: 204
    got: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    app = Flask("receiver")
    holder: dict[str, Receiver] = {}

    @app.post("/hooks/hubspot")
    def hook() -> tuple[str, int]:
        receiver = holder["r"]
        receiver.requests.append({"url": request.url, "headers": dict(request.headers),
                                  "body": request.get_data(as_text=True)})
        status = receiver.respond(len(receiver.requests))
        if 200 <= status < 300:
            receiver.got.set()
        return "", status

    server = ServerThread(app).start()
    holder["r"] = Receiver(url=f"{server.url}/hooks/hubspot")
    yield holder["r"]
    server.stop()


@pytest.fixture(scope="module")
def org() -> Iterator[SalesforceSandbox]:
    """One Salesforce sandbox per test module (a TLS server and CA are slow to make)."""
    sb = start_sandbox()
    yield sb
    sb.stop()


@pytest.fixture
def sandbox(org: SalesforceSandbox) -> SalesforceSandbox:
    """The module's org, reset to a fresh state for each test."""
    org.reset()
    return org
