"""The README's quick start, run as written (bar building the venv, which the test already has) in a copy
of the repository's configuration: the sandbox eval returns, and every step succeeds."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def quick_start() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README has a quick start block"
    return block.group(1).strip().splitlines()


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_quick_start_works_as_written(tmp_path: Path) -> None:
    lines = quick_start()
    assert lines[0].startswith("python3.11 -m venv .venv") and lines[1] == ". .venv/bin/activate"
    if not all(port_free(p) for p in (8000, 8101, 8102)):
        pytest.skip("the quick start uses ports 8000, 8101 and 8102, and one is taken on this host")
    site = tmp_path / "clone"
    site.mkdir()
    shutil.copy(REPO / "app.yaml", site)
    for folder in ("mappings", "config", "schemas"):
        shutil.copytree(REPO / folder, site / folder)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "nurture"
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m connector \"$@\"\n")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "SALESFORCE_", "NURTURE_"))}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", PYTHONPATH=str(REPO))
    script = "set -e\n" + "\n".join(lines[2:]) + "\n"  # the venv is this test's interpreter
    try:
        result = subprocess.run(["bash", "-c", script], cwd=site, env=env, capture_output=True, text=True,
                                timeout=400)
    finally:
        subprocess.run([sys.executable, "-m", "connector", "sandbox", "stop"], cwd=site, env=env,
                       capture_output=True, timeout=60)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "configuration OK" in result.stdout
    assert ", 0 failed" in result.stderr  # preflight's summary
    assert "duplicates expected:" in result.stdout
    assert re.search(r"reconciled \d+ people", result.stderr)
    assert "sandbox (pid" in result.stderr and "stopped" in result.stderr
