"""The first-hour frictions, as a shell runs the command: the sandbox can be eval'ed and returns, `--config`
goes anywhere, Alembic is quiet unless it migrates, and init never waits without a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NURTURE = f"{sys.executable} -m connector"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "SALESFORCE_", "NURTURE_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def shell(script: str, cwd: Path, timeout: float = 90, **extra: str) -> subprocess.CompletedProcess[str]:
    # A timeout here is the bug this guards against: `eval "$(nurture sandbox ...)"` that never returns.
    return subprocess.run(["bash", "-c", f"set -e\n{script}"], cwd=cwd, env=clean_env(**extra), capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_sandbox_start_detach_can_be_evaled_and_the_shipped_config_works_with_its_lines_alone(
        config_dir: Path, tmp_path: Path) -> None:
    state = tmp_path / "sandbox-state"
    try:
        result = shell(f"""
eval "$({NURTURE} sandbox start --detach --hubspot-port 0 --salesforce-port 0 --seed 4 --state-dir {state})"
{NURTURE} validate
{NURTURE} sandbox env --state-dir {state} > again.sh
test "$HUBSPOT_ACCESS_TOKEN" = "$(bash -c '. ./again.sh; echo $HUBSPOT_ACCESS_TOKEN')"
curl -sf -H "Authorization: Bearer $HUBSPOT_ACCESS_TOKEN" "$HUBSPOT_BASE_URL/crm/v3/objects/contacts?limit=10" \
  | grep -c '"id"' > /dev/null
""", config_dir, NURTURE_STORE_URL=f"sqlite:///{tmp_path / 'n.db'}")
        assert result.returncode == 0, result.stderr
        assert "configuration OK" in result.stdout
        assert "NURTURE_ENGAGEMENT_SECRET" in (config_dir / "again.sh").read_text()
        assert oct((state / "sandbox.env").stat().st_mode & 0o777) == "0o600"  # it holds tokens
        twice = shell(f"{NURTURE} sandbox start --detach --hubspot-port 0 --salesforce-port 0 --state-dir {state}",
                      config_dir)
        assert twice.returncode == 1 and "already runs" in twice.stderr
    finally:
        stopped = shell(f"{NURTURE} sandbox stop --state-dir {state}", config_dir)
    assert stopped.returncode == 0 and "stopped" in stopped.stderr
    gone = shell(f"{NURTURE} sandbox env --state-dir {state}", config_dir)
    assert gone.returncode == 1 and "no sandbox is running" in gone.stderr
    assert not (state / "sandbox.env").exists()


def test_config_is_accepted_after_the_subcommand(config_dir: Path, shipped_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args in (f"validate --config {config_dir / 'app.yaml'}", f"validate --config={config_dir / 'app.yaml'}",
                 f"--config {config_dir / 'app.yaml'} validate"):
        result = shell(f"{NURTURE} {args}", elsewhere, **shipped_env)
        assert result.returncode == 0, (args, result.stderr)
        assert "configuration OK" in result.stdout


def test_alembic_speaks_only_when_it_migrates(config_dir: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'quiet.db'}"
    first = shell(f"{NURTURE} db upgrade", config_dir, NURTURE_STORE_URL=store)
    assert first.returncode == 0, first.stderr
    assert "Running upgrade" in first.stderr  # a migration ran: say so
    again = shell(f"{NURTURE} dlq list", config_dir, NURTURE_STORE_URL=store)
    assert again.returncode == 0, again.stderr
    assert "alembic" not in again.stderr.lower() and "Context impl" not in again.stderr


def test_init_without_a_terminal_takes_flags_and_defaults_and_validates(tmp_path: Path,
                                                                        shipped_env: dict[str, str]) -> None:
    target = tmp_path / "fresh"
    result = subprocess.run([sys.executable, "-m", "connector", "init", str(target), "--auth-flow",
                             "client_credentials", "--public-url", "https://nurture.example.com"],
                            stdin=subprocess.DEVNULL, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    app = (target / "app.yaml").read_text()
    assert app.startswith("# yaml-language-server: $schema=schemas/app.schema.json")
    assert "flow: client_credentials" in app and "username_env" not in app
    assert (target / "schemas/app.schema.json").is_file() and (target / "config/nurture.yaml").is_file()
    assert "export HUBSPOT_ACCESS_TOKEN=… HUBSPOT_CLIENT_SECRET=… SALESFORCE_CLIENT_ID=…" in result.stdout
    env = {k: v for k, v in shipped_env.items() if k not in ("SALESFORCE_USERNAME", "SALESFORCE_PASSWORD")}
    validated = shell(f"{NURTURE} validate", target, **env)
    assert validated.returncode == 0, validated.stderr
    again = shell(f"{NURTURE} init {target}", tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr


def test_serve_refuses_to_start_without_the_write_back_properties(config_dir: Path, tmp_path: Path) -> None:
    from connector.sandbox.launcher import start_sandboxes

    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0)
    try:
        result = shell(f"{NURTURE} serve --port 0", config_dir, **boxes.env(),
                       NURTURE_STORE_URL=f"sqlite:///{tmp_path / 's.db'}")
    finally:
        boxes.stop()
    assert result.returncode == 3
    assert "hubspot: write-back nurture_score: write-back property 'nurture_score'" in result.stderr
    assert "nurture install" in result.stderr and "Traceback" not in result.stderr


def test_init_on_a_terminal_asks_each_question(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from connector.cli import cli
    from connector.commands import init_cmds

    monkeypatch.setattr(init_cmds, "stdin_is_terminal", lambda: True)
    answers = ["Acme", "n", "y", "https://hooks.acme.example", "", "", "https://acme.my.salesforce.com",
               "refresh_token", "postgresql://nurture@db/nurture"]
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "asked")], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    app = (tmp_path / "asked/app.yaml").read_text()
    assert "name: Acme\n" in app and "hubspot:\n  enabled: false" in app
    assert "public_base_url: https://hooks.acme.example" in app and "flow: refresh_token" in app
    assert "refresh_token_env: SALESFORCE_REFRESH_TOKEN" in app and "password_env" not in app
    assert "${NURTURE_STORE_URL:-postgresql://nurture@db/nurture}" in app
    assert "${SALESFORCE_INSTANCE_URL:-https://acme.my.salesforce.com}" in app


@pytest.mark.parametrize("command", [["init"], ["preflight"], ["install"], ["uninstall"], ["sandbox", "start"],
                                     ["sandbox", "env"], ["sandbox", "stop"], ["validate"], ["backfill"]])
def test_new_commands_have_help(command: list[str]) -> None:
    from click.testing import CliRunner

    from connector.cli import cli

    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    if command == ["validate"]:
        assert "--online" in result.output
    if command == ["backfill"]:
        assert "--detail" in result.output
