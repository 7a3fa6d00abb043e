"""`nurture validate` and `nurture schema`."""

from __future__ import annotations

from pathlib import Path

import click

from connector.commands.common import EXIT_FAILURE, EXIT_USAGE, fail, settings_from


@click.command()
@click.option("--skip-env", is_flag=True, help="Do not require the secrets' environment variables (CI on the repo).")
@click.option("--online", is_flag=True, help="Then connect to each CRM and run preflight's checks too.")
@click.pass_context
def validate(ctx: click.Context, skip_env: bool, online: bool) -> None:
    """Check app.yaml and every file it names; print each problem as file:line:column. Besides the schema it
    catches what would fail at run time: times and time zones, unreachable thresholds, unknown event types,
    lifecycle stages, duplicate touches, store URLs, placeholder ids."""
    if online and skip_env:
        fail("--online needs the secrets: drop --skip-env", EXIT_USAGE)
    settings = settings_from(ctx, check_env=not skip_env)
    m = settings.mapping
    click.echo(f"configuration OK: {settings.path.name} ({settings.app.name})")
    click.echo(f"  HubSpot {'on' if settings.app.hubspot.enabled else 'off'}, Salesforce "
               f"{'on' if settings.app.salesforce.enabled else 'off'} ({', '.join(m.salesforce.objects)}), "
               f"store {settings.app.store.url.split(':', 1)[0]}")
    click.echo(f"  {len(m.fields)} mapped fields, paired by link, then email")
    click.echo(f"  scoring: {len(settings.scoring.fit.rules)} fit rules, "
               f"{sum(len(g.rules) for g in settings.scoring.engagement.groups)} engagement rules")
    click.echo(f"  {len(settings.segments.personas)} personas, {len(settings.segments.segments)} segments, "
               f"{len(settings.lifecycle.journey)} journey stages")
    click.echo(f"  {len(settings.nurture.tracks)} nurture tracks, {len(settings.alerts.alerts)} sales alerts")
    if online:
        from connector.commands.preflight_cmds import preflight_checks, print_checklist

        checks = preflight_checks(settings)
        print_checklist(checks, as_json=False)
        if any(not c.ok for c in checks):
            raise SystemExit(EXIT_FAILURE)


@click.command()
@click.option("--out", "out_dir", default="schemas", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write <file>.schema.json into.")
def schema(out_dir: str) -> None:
    """Write JSON Schemas of every config file, for editors and CI."""
    from connector.settings.json_schema import write_schemas

    for path in write_schemas(Path(out_dir)):
        click.echo(f"wrote {path}")
