"""HubSpotSandbox: start/stop the emulator, seed it, reach its state, flush its webhooks."""

from __future__ import annotations

from pathlib import Path

from connector.sandbox.fake_people import Person
from connector.sandbox.hubspot.app import Context, create_app
from connector.sandbox.hubspot.ratelimit import RateLimiter
from connector.sandbox.hubspot.records import Portal
from connector.sandbox.hubspot.seeding import seed_people
from connector.sandbox.hubspot.state import State
from connector.sandbox.hubspot.webhooks import WebhookEmitter
from connector.sandbox.runtime import CallCounter, Deliverer, Faults, ServerThread


class HubSpotSandbox:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str = "sandbox-token",
        client_secret: str = "sandbox-client-secret",
        portal_id: int = 62515,
        app_id: int = 54321,
        webhook_url: str | None = None,
        faults: Faults | None = None,
        webhook_batch_window_s: float = 0.2,
        retry_base_s: float = 1.0,
        state_file: str | Path | None = None,
        rate_limit_per_10s: int = 190,
        daily_limit: int = 625_000,
        search_per_second: int = 5,
        lifecycle_backwards: str = "ignore",
    ) -> None:
        self.host, self.port = host, port
        self.access_token = access_token
        self.client_secret = client_secret
        self.portal_id, self.app_id = portal_id, app_id
        self.webhook_url = webhook_url
        self.faults = faults or Faults()
        self.calls = CallCounter()
        self.state_file = Path(state_file) if state_file else None
        self.state = State()
        self.deliverer: Deliverer | None = Deliverer(retry_base_s=retry_base_s) if webhook_url else None
        self.webhooks = WebhookEmitter(self.deliverer, webhook_url, client_secret, portal_id, app_id,
                                       webhook_batch_window_s)
        self.portal = Portal(self.state, self.webhooks, lifecycle_backwards)
        self.limiter = RateLimiter(rate_limit_per_10s, daily_limit, search_per_second)
        self.context = Context(self.portal, self.faults, self.calls, self.limiter, access_token, app_id, portal_id,
                               extra={"webhooks": self.webhooks, "deliverer": self.deliverer})
        self.app = create_app(self.context)
        self._server: ServerThread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("HubSpotSandbox.url is known once start() has run")
        return self._server.url

    def start(self) -> HubSpotSandbox:
        if self.state_file is not None:
            self.state.load(self.state_file)
        self._server = ServerThread(self.app, self.host, self.port).start()
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.webhooks.stop()
        if self.deliverer is not None:
            self.deliverer.stop()
        if self.state_file is not None:
            self.state.save(self.state_file)

    def seed(self, people: list[Person]) -> list[str]:
        return seed_people(self.portal, people)

    def flush_webhooks(self) -> int:
        return self.webhooks.flush()

    def __enter__(self) -> HubSpotSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
