"""`nurture prune` and `nurture serve`'s refusal to start with a webhook check off, as an admin runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

NURTURE = [sys.executable, "-m", "connector"]


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "SALESFORCE_", "NURTURE_"))}
    full_env.update(env or {})
    return subprocess.run([*NURTURE, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


def test_prune_reports_what_it_deleted(config_dir: Path) -> None:
    dry = run(["prune", "--dry-run"], config_dir)
    assert dry.returncode == 0, dry.stderr
    assert "would delete: inbox 0, audit 0, engagement 0, dead_letters 0" in dry.stdout
    done = run(["prune"], config_dir)
    assert done.returncode == 0 and done.stdout.startswith("deleted: inbox 0")
    assert "retention: inbox 30 d" in done.stderr


def test_serve_refuses_a_public_url_without_the_outbound_path_token(config_dir: Path,
                                                                   shipped_env: dict[str, str]) -> None:
    app = config_dir / "app.yaml"
    app.write_text(re.sub(r"  public_base_url: .*\n", "", app.read_text()).replace("  trusted_proxies: 0\n",
                                           "  trusted_proxies: 1\n  public_base_url: https://hooks.acme.example\n"))
    result = run(["serve", "--port", "1"], config_dir, shipped_env)
    assert result.returncode == 3, result.stderr
    assert "app.yaml:" in result.stderr and "SALESFORCE_OUTBOUND_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr
