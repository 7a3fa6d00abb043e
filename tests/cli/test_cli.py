"""The `nurture` command as an admin runs it: a real subprocess, exit codes, and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NURTURE = [sys.executable, "-m", "connector"]


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "SALESFORCE_", "NURTURE_"))}
    full_env.update(env or {})
    return subprocess.run([*NURTURE, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60)


def test_version_and_help(tmp_path: Path) -> None:
    assert run(["--version"], tmp_path).stdout.startswith("nurture, version ")
    for command in ([], ["validate"], ["db", "upgrade"], ["sandbox"], ["serve"], ["worker"], ["dlq"], ["dlq", "replay"],
                    ["poll"], ["backfill"], ["audit"], ["duplicates"], ["demo"], ["schema"], ["setup"], ["explain"],
                    ["rescore"]):
        result = run([*command, "--help"], tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage:" in result.stdout


def test_validate_passes_on_shipped_config(config_dir: Path, shipped_env: dict[str, str]) -> None:
    result = run(["validate"], config_dir, shipped_env)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_validate_fails_with_locations_and_no_traceback(config_dir: Path, shipped_env: dict[str, str]) -> None:
    (config_dir / "config/scoring.yaml").write_text("fit: {max: 50\n")
    env = {k: v for k, v in shipped_env.items() if k != "SALESFORCE_ORG_ID"}
    result = run(["validate"], config_dir, env)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("config/scoring.yaml:") and "YAML syntax error" in line for line in lines)
    assert any(line.startswith("app.yaml:") and "SALESFORCE_ORG_ID is not set" in line for line in lines)
    assert lines[-1].endswith("nothing was started.")


def test_secrets_never_printed_by_validate(config_dir: Path, shipped_env: dict[str, str]) -> None:
    result = run(["validate"], config_dir, shipped_env)
    for secret in shipped_env.values():
        if len(secret) > 12:
            assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["worker", "--once"], ["poll"], ["backfill", "--limit", "1"], ["setup"],
                                     ["explain", "a@example.com"]])
def test_sync_commands_refuse_to_start_without_secrets(config_dir: Path, command: list[str]) -> None:
    result = run(command, config_dir)
    assert result.returncode == 3
    assert "HUBSPOT_ACCESS_TOKEN is not set" in result.stderr and "Traceback" not in result.stderr


def test_store_reports_on_an_empty_store(config_dir: Path) -> None:
    listing = run(["dlq", "list"], config_dir)
    assert listing.returncode == 0 and "0 dead letter(s)" in listing.stderr
    assert run(["duplicates"], config_dir).returncode == 0
    history = run(["audit", "--contact", "nobody@example.com"], config_dir)
    assert history.returncode == 1 and "no history for nobody@example.com" in history.stderr


def test_db_upgrade_creates_store_next_to_config(config_dir: Path) -> None:
    result = run(["db", "upgrade"], config_dir / "mappings", {"NURTURE_CONFIG": str(config_dir / "app.yaml")})
    assert result.returncode == 0, result.stderr
    assert (config_dir / "nurture.db").exists()
    assert run(["db", "current"], config_dir).returncode == 0


def test_unreachable_store_is_a_one_line_failure(config_dir: Path) -> None:
    result = run(["db", "upgrade"], config_dir, {"NURTURE_STORE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "cannot open the store" in result.stderr and "Traceback" not in result.stderr
