"""Everything the demo runs, on this machine: seeded sandbox CRMs, the connector under gunicorn (webhooks,
dashboard, /metrics), a sync worker on the simulated clock, and the story player. `nurture demo` runs it
live; the dashboard tests run the same stack headless with a fixed seed.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from connector.demo.player import Person, Player, SimClock
from connector.demo.story import plan
from connector.settings import load_settings
from connector.store.models import contacts


@dataclass
class DemoOptions:
    config_path: Path
    port: int = 8000
    people: int = 200
    seed: int = 7
    days: float = 14.0  # of simulated story
    speed: float = 10800.0  # simulated seconds per wall second: 14 days in under 2 minutes
    workdir: Path | None = None  # store, metrics directory; a new temp dir if None
    web_workers: int = 2


@dataclass
class DemoStack:
    options: DemoOptions
    env: dict[str, str] = field(default_factory=dict)
    boxes: Any = None
    server: subprocess.Popen[bytes] | None = None
    worker: Any = None
    player: Player | None = None
    clock: SimClock | None = None
    engine: Any = None
    settings: Any = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    worker_thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.options.port}"

    def start(self, *, live_worker: bool = True) -> None:
        from connector.engine.backfill import backfill
        from connector.engine.clients import build_clients
        from connector.engine.nurture_step import setup_hubspot_properties
        from connector.engine.worker import Worker
        from connector.sandbox.launcher import start_sandboxes
        from connector.store import open_engine, upgrade

        o = self.options
        work = o.workdir or Path(tempfile.mkdtemp(prefix="nurture-demo-"))
        work.mkdir(parents=True, exist_ok=True)
        metrics_dir = work / "metrics"
        metrics_dir.mkdir(exist_ok=True)
        for stale in [*metrics_dir.glob("*.db"), *work.glob("demo.db*")]:
            stale.unlink()  # the sandboxes are new each run: yesterday's links and counters would mislead
        self.boxes = start_sandboxes(seed=o.people, connector_url=self.base_url, hubspot_port=0, salesforce_port=0)
        self.env = {
            **self.boxes.env(),
            "NURTURE_ENGAGEMENT_SECRET": os.environ.get("NURTURE_ENGAGEMENT_SECRET", "demo-" + secrets.token_hex(8)),
            "NURTURE_STORE_URL": f"sqlite:///{work / 'demo.db'}",
            "NURTURE_PORT": str(o.port),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "NURTURE_ADMIN_TOKEN": os.environ.get("NURTURE_ADMIN_TOKEN") or secrets.token_urlsafe(12),
        }
        os.environ.update(self.env)
        self.settings = load_settings(o.config_path, check_env=False)
        self.engine = open_engine(self.settings.store_url)
        upgrade(self.engine)
        clients = build_clients(self.settings, self.engine)
        setup_hubspot_properties(self.settings, clients)
        backfill(self.settings, self.engine, clients)
        self.server = subprocess.Popen([sys.executable, "-m", "connector", "--config", str(o.config_path), "serve",
                                        "--port", str(o.port), "--workers", str(o.web_workers)], env=os.environ.copy())
        self._wait_ready()
        self.clock = SimClock(o.days, o.speed)
        self.worker = Worker(self.settings, self.engine, clients, clock=self.clock.now)
        people = self._people()
        self.player = Player(plan(len(people), o.seed, o.days), people, self.clock,
                             f"{self.base_url}/webhooks/engagement", self.env["NURTURE_ENGAGEMENT_SECRET"],
                             self.boxes.salesforce, self._lookup)
        if live_worker:
            self.worker_thread = threading.Thread(target=self.worker.run_forever, args=(self.stop_event,),
                                                  name="demo-worker", daemon=True)
            self.worker_thread.start()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                raise RuntimeError("the connector's web server stopped while starting; see its output above")
            try:
                if requests.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the connector did not answer on {self.base_url} within {timeout_s:.0f} s")

    def _people(self) -> list[Person]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(contacts.c.email, contacts.c.hubspot_id, contacts.c.salesforce_id,
                                       contacts.c.salesforce_type).where(contacts.c.email.is_not(None))
                                .order_by(contacts.c.id)).all()
        return [Person(r.email, r.hubspot_id, r.salesforce_id, r.salesforce_type) for r in rows if "@" in r.email]

    def _lookup(self, email: str) -> Person | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(contacts.c.email, contacts.c.hubspot_id, contacts.c.salesforce_id,
                                    contacts.c.salesforce_type).where(contacts.c.email == email)).first()
        return Person(r.email, r.hubspot_id, r.salesforce_id, r.salesforce_type) if r else None

    def run_headless(self, step: timedelta = timedelta(hours=12), settle_s: float = 0.4) -> None:
        """Play the whole story as fast as the machine allows: jump the clock, send, let the CRMs' webhooks
        arrive, drain the worker; repeat until the story is told and the queue is empty."""
        assert self.player is not None and self.clock is not None
        while not self.player.done():
            self.clock.advance(step)
            self.player.play_due()
            time.sleep(settle_s)  # outbound messages and HubSpot webhooks gather for a moment before they go
            self.worker.drain()
        for _ in range(3):  # the echoes of the last writes
            time.sleep(settle_s)
            self.worker.drain()

    def stop(self) -> None:
        self.stop_event.set()
        if self.worker_thread is not None:
            self.worker_thread.join(timeout=15)
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
        if self.boxes is not None:
            self.boxes.stop()
        if self.engine is not None:
            self.engine.dispose()
