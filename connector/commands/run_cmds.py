"""Long-running commands: `nurture serve`, `nurture demo` (`nurture sandbox` is in sandbox_cmds)."""

from __future__ import annotations

import click

from connector.commands.common import EXIT_CONFIG, fail, open_store, settings_from


@click.command()
@click.option("--host", default=None, help="Default: web.host in app.yaml.")
@click.option("--port", type=int, default=None, help="Default: web.port in app.yaml (8000).")
@click.option("--workers", type=int, default=None, help="Gunicorn worker processes (default: web.workers).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the webhook receivers, health checks and dashboard with gunicorn."""
    from connector.commands.preflight_cmds import refuse_unless_ready
    from connector.settings.problems import ConfigError
    from webhooks.security_policy import check_security
    from webhooks.server import serve as run_server

    settings = settings_from(ctx)
    try:
        check_security(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        fail(f"{len(exc.problems)} problem(s) in the configuration; nothing was started.", EXIT_CONFIG)
    refuse_unless_ready(settings)  # the same check as the worker's: refuse before taking webhooks
    open_store(settings, migrate=True)
    web = settings.app.web
    run_server(str(settings.path), host or web.host, port or web.port, workers or web.workers)


@click.command()
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.pass_context
def prune(ctx: click.Context, dry_run: bool) -> None:
    """Delete inbox events, audit rows, engagement facts and resolved dead letters older than
    store.retention in app.yaml (run it daily; docs/DEPLOY.md)."""
    from connector.store.prune import prune as run_prune

    settings = settings_from(ctx, check_env=False)  # the store only: no CRM secret is needed
    engine = open_store(settings, migrate=True)
    report = run_prune(engine, settings.app.store.retention, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    retention = settings.app.store.retention
    click.echo(f"{verb}: " + ", ".join(f"{name} {count}" for name, count in report.deleted.items()))
    click.echo(f"retention: inbox {retention.inbox_days} d, audit {retention.audit_days} d, engagement "
               f"{retention.engagement_days} d, resolved dead letters {retention.dead_letters_days} d", err=True)
