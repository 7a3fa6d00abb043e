"""`nurture install` and `nurture uninstall`: make (or remove) what the connector needs in each CRM."""

from __future__ import annotations

from pathlib import Path

import click

from connector.commands.common import settings_from
from connector.commands.preflight_cmds import scratch_clients
from connector.engine.install import InstallPlan
from connector.settings import Settings


def _show(plan: InstallPlan) -> None:
    for obj, props in plan.hubspot_create.items():
        for name, kind in props.items():
            click.echo(f"would create HubSpot {obj} property {name} ({kind}) in group 'nurture'")
    for obj, names in plan.hubspot_remove.items():
        for name in names:
            click.echo(f"would archive HubSpot {obj} property {name} (the brain's values in it go with it)")
    for path in plan.files:
        click.echo(f"would write {path}")


def _out_dir(settings: Settings, out: str | None) -> Path:
    return Path(out) if out else settings.root / "install"


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what would be created or written; change nothing.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Where to write the Salesforce package and the HubSpot steps (default: install/ beside app.yaml).")
@click.pass_context
def install(ctx: click.Context, dry_run: bool, out: str | None) -> None:
    """Create what is missing and safe to create: the HubSpot property group and write-back properties; write
    the HubSpot webhook subscriptions to add and a Salesforce metadata package with step-by-step instructions.
    Running it twice changes nothing."""
    from connector.engine.install import apply_plan, plan_install

    settings = settings_from(ctx)
    clients = scratch_clients(settings) if settings.app.hubspot.enabled or settings.app.salesforce.enabled else None
    auth = settings.app.salesforce.auth
    user = settings.secrets.get(auth.username_env) if auth.flow == "password" else None
    token_env = settings.app.salesforce.outbound_path_token_env
    token = settings.secrets.get(token_env) if token_env else None
    out_dir = _out_dir(settings, out)
    plan = plan_install(settings, clients, out_dir, user, token)
    if plan.empty():
        click.echo("install: nothing to do — everything is in place"
                   + (f" ({len(plan.unchanged)} file(s) unchanged)" if plan.unchanged else ""))
    elif dry_run:
        _show(plan)
        click.echo("dry run: nothing changed", err=True)
        return
    else:
        for line in apply_plan(plan, clients):
            click.echo(line)
    if settings.app.hubspot.enabled:
        click.echo(f"next: add the HubSpot webhook subscriptions listed in {out_dir / 'hubspot-webhooks.md'}")
    if settings.app.salesforce.enabled:
        click.echo(f"next: deploy the Salesforce package as {out_dir / 'salesforce' / 'INSTRUCTIONS.md'} says")
    click.echo("then: nurture preflight")


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what would be removed; change nothing.")
@click.option("--remove-properties", is_flag=True,
              help="Also archive the HubSpot properties install created (the brain's values in them go too).")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Where to write the Salesforce removal package (default: install/ beside app.yaml).")
@click.pass_context
def uninstall(ctx: click.Context, dry_run: bool, remove_properties: bool, out: str | None) -> None:
    """Remove what install set up: webhook subscriptions (steps for HubSpot, a removal package for Salesforce's
    outbound messages) and, when asked, the HubSpot properties it created. Never contacts or any other data."""
    from connector.engine.install import apply_plan, plan_uninstall, subscribed_properties

    settings = settings_from(ctx)
    clients = scratch_clients(settings) if settings.app.hubspot.enabled else None
    out_dir = _out_dir(settings, out)
    plan = plan_uninstall(settings, clients, out_dir, remove_properties)
    if dry_run:
        _show(plan)
        click.echo("dry run: nothing changed", err=True)
    elif plan.empty():
        click.echo("uninstall: nothing to do")
    else:
        for line in apply_plan(plan, clients):
            click.echo(line)
    if settings.app.hubspot.enabled:
        click.echo(f"HubSpot: in the private app's Webhooks tab, delete the {4 + len(subscribed_properties(settings))} "
                   "contact subscriptions install listed (private apps' subscriptions are not editable by API).")
    if settings.app.salesforce.enabled:
        click.echo(f"Salesforce: sf project deploy start --metadata-dir {out_dir / 'salesforce-uninstall'} removes the "
                   "outbound messages and workflow rules; custom fields and their data stay.")
