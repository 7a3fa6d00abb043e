"""The deployment recipes (docs/DEPLOY.md): unit files, image and compose file name real commands and files;
the container smoke script runs where a Docker engine does."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from connector.cli import cli

REPO = Path(__file__).resolve().parents[2]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))


def _subcommand(argv: list[str]) -> str:
    """The nurture subcommand in an argv like [..., 'nurture', '--config', 'x', 'serve', ...]."""
    rest = argv[argv.index(next(a for a in argv if a.endswith("nurture"))) + 1:]
    while rest and rest[0].startswith("--"):
        rest = rest[2:]
    return rest[0]


def _exists(command: str) -> bool:
    return CliRunner().invoke(cli, [command, "--help"]).exit_code == 0


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_units_run_real_commands_and_restart(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(unit)
    service = parser["Service"]
    argv = shlex.split(service["ExecStart"])
    assert _exists(_subcommand(argv)), f"{unit.name}: `nurture {_subcommand(argv)}` is not a command"
    assert service["User"] == "nurture" and service["EnvironmentFile"].startswith("/etc/nurture/")
    if service.get("Type") != "oneshot":
        assert service["Restart"] == "always"


def test_the_image_and_compose_file_agree_with_the_cli() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?:--\S+ )*(\S+) ", dockerfile, re.M):
        if not source.startswith("/"):
            assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
    entry = yaml.safe_load(re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    assert entry[:2] == ["nurture", "--config"]
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "serve", "worker"} <= set(services)
    for name in ("serve", "worker"):
        (command,) = services[name]["command"]
        assert _exists(command)
    assert services["worker"]["deploy"]["replicas"] >= 2, "the recipe shows several workers"


def test_the_container_smoke_script() -> None:
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed on this machine")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        pytest.skip(f"no Docker engine to run the compose smoke test: {reason}")
    result = subprocess.run([str(REPO / "scripts" / "compose_smoke.sh")], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
