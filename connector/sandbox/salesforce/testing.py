"""Helpers for tests that drive the Salesforce emulator: a started sandbox, an SDK client, a SOAP receiver.

They live in the package (like flask.testing) because pytest runs with --import-mode=importlib, so a
helper module beside the tests is not importable; the connector's own adapter tests can use them too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simple_salesforce import Salesforce
from werkzeug.wrappers import Request, Response

from connector.sandbox.runtime import ServerThread
from connector.sandbox.salesforce import SalesforceSandbox

TOKEN = "00D000000000001!sandbox-test-token"
CLIENT_ID = "3MVG9-test-client"
CLIENT_SECRET = "test-client-secret"
USERNAME = "integration@test.example"
PASSWORD = "test-password"
ACK = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
"""


def start_sandbox(**overrides: Any) -> SalesforceSandbox:
    options: dict[str, Any] = {
        "access_token": TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "username": USERNAME, "password": PASSWORD, "retry_base_s": 0.05,
    }
    options.update(overrides)
    return SalesforceSandbox(**options).start()


def client(sandbox: SalesforceSandbox, token: str = TOKEN) -> Salesforce:
    """The unmodified SDK, trusting the sandbox CA through its requests session."""
    return Salesforce(instance_url=sandbox.instance_url, session_id=token, session=sandbox.requests_session(),
                      version="59.0")


@dataclass
class SoapReceiver:
    """Answers each POST with ``script(n)`` -> (status, body) and records what it got."""

    script: Callable[[int], tuple[int, str]]
    received: list[dict[str, Any]] = field(default_factory=list)
    acked: threading.Event = field(default_factory=threading.Event)
    server: ServerThread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/webhooks/salesforce"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = Request(environ)
        self.received.append({"headers": dict(req.headers), "body": req.get_data(as_text=True)})
        status, body = self.script(len(self.received))
        if status == 200 and "<Ack>true</Ack>" in body:
            self.acked.set()
        return Response(body, status=status, content_type="text/xml; charset=utf-8")(environ, start_response)

    def start(self) -> SoapReceiver:
        self.server = ServerThread(self).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.stop()


def always_ack(_n: int) -> tuple[int, str]:
    return 200, ACK
