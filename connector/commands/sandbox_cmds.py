"""`nurture sandbox [start --detach | env | stop]`: the local HubSpot and Salesforce emulators.

`nurture sandbox [options]` runs in the foreground (Ctrl-C stops it) and prints NAME=value lines.
`start --detach` runs it in the background and prints `export NAME=value` lines, so
`eval "$(nurture sandbox start --detach)"` configures the shell and returns.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from connector.commands.common import EXIT_USAGE, fail

STATE_DIR_HELP = "Keep state, TLS files, pid and env files here (default for start/env/stop: .nurture-sandbox)."


def _emulator_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--hubspot-port", default=8101, show_default=True, type=int),
        click.option("--salesforce-port", default=8102, show_default=True, type=int),
        click.option("--seed", default=0, show_default=True, type=int,
                     help="Make N plausible leads, split between the CRMs."),
        click.option("--connector-url", default=None, help="Deliver webhooks to BASE/webhooks/{hubspot,salesforce}."),
        click.option("--faults", default=None, help="e.g. error_rate=0.05,latency_ms=100,storm_429=20,outage_s=30"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(invoke_without_command=True)
@_emulator_options
@click.option("--state-dir", default=None, type=click.Path(file_okay=False), help=STATE_DIR_HELP)
@click.pass_context
def sandbox(ctx: click.Context, host: str, hubspot_port: int, salesforce_port: int, seed: int,
            connector_url: str | None, faults: str | None, state_dir: str | None) -> None:
    """Local HubSpot and Salesforce emulators. Without a subcommand: run in the foreground and print the
    NAME=value lines that point app.yaml at them; Ctrl-C stops them."""
    if ctx.invoked_subcommand is not None:
        return
    _run_foreground(host, hubspot_port, salesforce_port, seed, connector_url, faults,
                    Path(state_dir) if state_dir else None)


def _run_foreground(host: str, hubspot_port: int, salesforce_port: int, seed: int, connector_url: str | None,
                    faults: str | None, state_dir: Path | None) -> None:
    from connector.sandbox.detached import clear_state, write_state
    from connector.sandbox.launcher import start_sandboxes
    from connector.sandbox.runtime import FaultSpecError

    try:
        boxes = start_sandboxes(host, hubspot_port, salesforce_port, seed, connector_url, faults, state_dir)
    except FaultSpecError as exc:
        fail(f"--faults: {exc}", EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot start the sandbox: {exc} — is another one running on ports {hubspot_port}/{salesforce_port}? "
             "(`nurture sandbox stop` stops a detached one; --hubspot-port 0 picks free ports)")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        env = boxes.env()
        for name, value in env.items():
            click.echo(f"{name}={value}")
        if state_dir is not None:
            write_state(state_dir, env)  # last: a detached parent waits for this file as the "ready" sign
        click.echo(f"# HubSpot emulator at {boxes.hubspot.url}, Salesforce emulator at "
                   f"{boxes.salesforce.instance_url}", err=True)
        click.echo("# eval these lines in your shell to point app.yaml at the sandbox; Ctrl-C stops it", err=True)
        stop.wait()
    finally:
        boxes.stop()
        if state_dir is not None:
            clear_state(state_dir)
    click.echo("sandbox stopped", err=True)


@sandbox.command()
@_emulator_options
@click.option("--state-dir", default=None, type=click.Path(file_okay=False), help=STATE_DIR_HELP)
@click.option("--detach", is_flag=True, help="Run in the background; print `export` lines and return.")
def start(host: str, hubspot_port: int, salesforce_port: int, seed: int, connector_url: str | None,
          faults: str | None, state_dir: str | None, detach: bool) -> None:
    """Start the emulators: `eval "$(nurture sandbox start --detach)"` sets the variables app.yaml reads."""
    from connector.sandbox.detached import DEFAULT_STATE_DIR, DetachError, start_detached

    folder = Path(state_dir or DEFAULT_STATE_DIR)
    if not detach:
        _run_foreground(host, hubspot_port, salesforce_port, seed, connector_url, faults, folder)
        return
    args = ["--host", host, "--hubspot-port", str(hubspot_port), "--salesforce-port", str(salesforce_port),
            "--seed", str(seed)]
    if connector_url:
        args += ["--connector-url", connector_url]
    if faults:
        args += ["--faults", faults]
    try:
        lines = start_detached(args, folder.resolve())
    except DetachError as exc:
        fail(f"sandbox: {exc}")
    click.echo(lines, nl=False)
    click.echo(f"# sandbox running in the background (state in {folder}); `nurture sandbox stop"
               f"{'' if state_dir is None else f' --state-dir {state_dir}'}` stops it", err=True)


@sandbox.command()
@click.option("--state-dir", default=None, type=click.Path(file_okay=False), help=STATE_DIR_HELP)
def env(state_dir: str | None) -> None:
    """Print the `export NAME=value` lines of the running background sandbox again."""
    from connector.sandbox.detached import DEFAULT_STATE_DIR, DetachError, read_env

    try:
        click.echo(read_env(Path(state_dir or DEFAULT_STATE_DIR).resolve()), nl=False)
    except DetachError as exc:
        fail(f"sandbox: {exc}")


@sandbox.command()
@click.option("--state-dir", default=None, type=click.Path(file_okay=False), help=STATE_DIR_HELP)
def stop(state_dir: str | None) -> None:
    """Stop the background sandbox."""
    from connector.sandbox.detached import DEFAULT_STATE_DIR, DetachError, stop_detached

    try:
        pid = stop_detached(Path(state_dir or DEFAULT_STATE_DIR).resolve())
    except DetachError as exc:
        fail(f"sandbox: {exc}")
    click.echo(f"sandbox (pid {pid}) stopped", err=True)
