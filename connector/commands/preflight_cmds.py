"""`nurture preflight`: connect to each CRM and print a checklist, every failure with its fix."""

from __future__ import annotations

import json
from typing import Any

import click

from connector.commands.common import EXIT_CONFIG, EXIT_FAILURE, fail, settings_from
from connector.engine.preflight import Check, summary
from connector.settings import Settings

MARKS = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}


def print_checklist(checks: list[Check], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([c.as_dict() for c in checks], indent=1))
        return
    for check in checks:
        mark = MARKS["fail" if not check.ok else "skip" if check.skipped else "ok"]
        click.echo(f"[{mark}] {check.name}: {check.message}")
        if check.fix and (not check.ok or check.skipped):
            click.echo(f"       fix: {check.fix}")
    good, bad, skip = summary(checks)
    click.echo(f"{good} passed, {bad} failed, {skip} skipped", err=True)


def scratch_clients(settings: Settings) -> Any:
    """CRM clients for commands that need no store (preflight, install): the API budget's counters live in an
    in-memory database instead."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from connector.engine.clients import build_clients
    from connector.settings import MissingSecret
    from connector.store.models import metadata

    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    try:
        return build_clients(settings, engine)
    except (MissingSecret, ValueError) as exc:
        fail(str(exc), EXIT_CONFIG)


def preflight_checks(settings: Settings, cheap: bool = False) -> list[Check]:
    from connector.engine.preflight import run_preflight

    clients = scratch_clients(settings)
    # A checklist answers quickly or says so; at a service's start, a CRM that is down must not hold it up.
    clients.hubspot.max_wait_s = clients.salesforce.max_wait_s = 0.5 if cheap else 2.0
    return run_preflight(settings, clients, cheap=cheap)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One object per check: name, ok, message, fix, skipped.")
@click.pass_context
def preflight(ctx: click.Context, as_json: bool) -> None:
    """Connect to each CRM and check credentials, scopes, permissions, mapped fields and their types, picklist
    values, ids in config, the External ID field, write-back properties, the public URL and API headroom."""
    settings = settings_from(ctx)
    checks = preflight_checks(settings)
    print_checklist(checks, as_json)
    if any(not c.ok for c in checks):
        raise SystemExit(EXIT_FAILURE)


def refuse_unless_ready(settings: Settings) -> None:
    """The cheap preflight, for `serve` and `worker` at start: refuse (exit 3) when a write-back property or a
    mapped field is missing, since every write would then be refused. A CRM that does not answer is not a
    reason to refuse: the worker backs off and retries, as it does later."""
    checks = preflight_checks(settings, cheap=True)
    blocking = [c for c in checks if not c.ok and not c.name.endswith(": reachable")]
    if not blocking:
        return
    for check in blocking:
        click.echo(f"{check.name}: {check.message} — {check.fix}", err=True)
    fail(f"{len(blocking)} preflight problem(s); nothing was started. `nurture preflight` shows the full checklist, "
         "`nurture install` creates what is missing.", EXIT_CONFIG)
