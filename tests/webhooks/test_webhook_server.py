"""The real server: gunicorn started by `serve`, a temp SQLite store, and SIGKILL right after the 200s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from webhook_helpers import HUBSPOT_SECRET, REPO, env_for, hubspot_event

from connector.sandbox.runtime import free_port, wait_until_ready
from connector.store import open_engine
from connector.store.models import dirty, inbox
from webhooks.signatures import sign_hubspot_v3

pytestmark = pytest.mark.slow



@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    port = free_port()
    env = {**os.environ, **env_for(store_url), "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "webhooks.server", "--config", str(REPO / "app.yaml"), "--port", str(port),
         "--workers", "2"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    if not wait_until_ready(f"{base}/readyz", 20):
        process.kill()
        pytest.fail("server did not become ready:\n" + (tmp_path / "server.log").read_text())
    yield base, store_url, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()
    assert HUBSPOT_SECRET not in (tmp_path / "server.log").read_text()


def test_sigkill_right_after_the_acks_loses_nothing(server: tuple[str, str, subprocess.Popen[bytes]]) -> None:
    base, store_url, process = server
    session = requests.Session()
    acked = 0
    for batch in range(30):
        events = [hubspot_event(batch * 10 + i, object_id=100 + i) for i in range(10)]
        body = json.dumps(events).encode()
        headers = {**sign_hubspot_v3(HUBSPOT_SECRET, "POST", f"{base}/webhooks/hubspot", body),
                   "Content-Type": "application/json"}
        response = session.post(f"{base}/webhooks/hubspot", data=body, headers=headers, timeout=5)
        assert response.status_code == 200, response.text
        acked += len(events)
    os.killpg(process.pid, signal.SIGKILL)  # master and workers, no chance to flush or checkpoint
    process.wait()
    engine = open_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(inbox)).scalar() == acked
        assert conn.execute(select(func.count()).select_from(dirty)).scalar() == 10
    engine.dispose()


def test_the_server_answers_rejections_and_health(server: tuple[str, str, subprocess.Popen[bytes]]) -> None:
    base, _, _ = server
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    response = requests.post(f"{base}/webhooks/hubspot", data=b"[]", headers={"Content-Type": "application/json"},
                             timeout=5)
    assert response.status_code == 401 and response.json()["error"] == "signature"
    big = requests.post(f"{base}/webhooks/engagement", data=b"x" * 42_000_000,  # over the 40 MiB default
                        headers={"Content-Type": "application/json"}, timeout=5)
    assert big.status_code == 413
