"""`nurture demo` as a new user runs it: it prints the dashboard URL and login, serves them, tells the story,
and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.dashboard.conftest import REPO, free_port

pytestmark = pytest.mark.slow


def test_demo_prints_login_serves_the_dashboard_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "SALESFORCE_", "NURTURE_",
                                                                    "PROMETHEUS_"))}
    config = tmp_path / "app.yaml"  # the demo keeps its store in .demo/ beside the config: use a copy
    for name in ("app.yaml", "mappings", "config"):
        target = tmp_path / name
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, target)
        else:
            target.write_text((REPO / name).read_text())
    demo = subprocess.Popen([sys.executable, "-m", "connector", "--config", str(config), "demo", "--port", str(port),
                             "--seed", "20", "--speed", "200000"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        token = None
        while time.monotonic() < deadline and token is None:
            line = demo.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if found := re.search(r"dashboard\s+(http://\S+)\s+login token: (\S+)", line):
                token = found.group(2)
        assert token, "".join(lines)
        session = requests.Session()
        page = session.get(f"http://127.0.0.1:{port}/dashboard/login", timeout=5).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        home = session.post(f"http://127.0.0.1:{port}/dashboard/login", data={"password": token, "csrf_token": csrf},
                            timeout=5)
        assert home.status_code == 200 and "Health" in home.text
        while "(simulated)" not in lines[-1] and time.monotonic() < deadline:  # the story's first progress line
            lines.append(demo.stdout.readline())  # type: ignore[union-attr]
        assert "stages lead" in lines[-1], "".join(lines)
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=40)
        lines.append(out)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert "demo: stopped" in "".join(lines)
    with pytest.raises(requests.ConnectionError):  # the web server went with it
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
