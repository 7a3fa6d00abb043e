"""What the sync benchmarks share: sandboxes, the shipped settings pointed at them, a store, clients."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import Engine  # noqa: E402

from connector.engine.clients import Clients, build_clients  # noqa: E402
from connector.engine.nurture_step import setup_hubspot_properties  # noqa: E402
from connector.sandbox.launcher import Sandboxes, start_sandboxes  # noqa: E402
from connector.settings import Settings, load_settings  # noqa: E402
from connector.store import open_engine, upgrade  # noqa: E402


@dataclass
class Bench:
    boxes: Sandboxes
    settings: Settings
    engine: Engine
    clients: Clients
    workdir: Path

    def calls(self) -> dict[str, int]:
        hs = {f"hubspot {k}": v for k, v in self.boxes.hubspot.calls.snapshot().items()}
        sf = {f"salesforce {k}": v for k, v in self.boxes.salesforce.calls.snapshot().items()}
        return {**hs, **sf}

    def stop(self) -> None:
        self.boxes.stop()
        self.engine.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def reset_calls(self) -> None:
        self.boxes.hubspot.calls.reset()
        self.boxes.salesforce.calls.reset()


def start(connector_url: str | None = None, faults: str | None = None, port: int | None = None) -> Bench:
    workdir = Path(tempfile.mkdtemp(prefix="nurture-bench-"))
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, connector_url=connector_url, faults=faults,
                            retry_base_s=0.2)
    env = {**boxes.env(), "NURTURE_ENGAGEMENT_SECRET": "bench-secret",
           "NURTURE_STORE_URL": f"sqlite:///{workdir / 'bench.db'}"}
    if port:
        env["NURTURE_PORT"] = str(port)
    os.environ.update(env)
    settings = load_settings(REPO / "app.yaml")
    engine = open_engine(settings.app.store.url)
    upgrade(engine)
    clients = build_clients(settings, engine)
    setup_hubspot_properties(settings, clients)  # what `nurture setup` does once per portal
    return Bench(boxes, settings, engine, clients, workdir)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
