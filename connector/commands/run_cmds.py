"""Long-running commands: `nurture serve`, `nurture demo` (`nurture sandbox` is in sandbox_cmds)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

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
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--seed", default=200, show_default=True, type=int, help="Plausible leads, split between the CRMs.")
@click.pass_context
def demo(ctx: click.Context, port: int, seed: int) -> None:
    """Everything on this machine: seeded sandbox CRMs, the connector (gunicorn) and a worker, with live
    engagement arriving, all on a local SQLite store. Ctrl-C stops it all."""
    import random
    import subprocess
    import sys

    import requests

    from connector.engine.backfill import backfill
    from connector.engine.clients import build_clients
    from connector.engine.nurture_step import setup_hubspot_properties
    from connector.sandbox.launcher import start_sandboxes

    # The sandboxes are new each run, so yesterday's links would point at records that no longer exist.
    for stale in Path(ctx.find_root().obj["config_path"]).resolve().parent.glob("demo.db*"):
        stale.unlink()
    boxes = start_sandboxes(seed=seed, connector_url=f"http://127.0.0.1:{port}", hubspot_port=0, salesforce_port=0)
    os.environ.update(boxes.env())
    os.environ.setdefault("NURTURE_ENGAGEMENT_SECRET", "demo-engagement-secret")
    os.environ.setdefault("NURTURE_STORE_URL", "sqlite:///demo.db")
    os.environ["NURTURE_PORT"] = str(port)
    children: list[subprocess.Popen[bytes]] = []
    try:
        settings = settings_from(ctx)
        engine = open_store(settings)
        clients = build_clients(settings, engine)
        setup_hubspot_properties(settings, clients)
        report = backfill(settings, engine, clients)
        click.echo(f"demo: sandbox HubSpot {boxes.hubspot.url} and Salesforce {boxes.salesforce.instance_url}, "
                   f"{seed} leads; backfill linked {report.people} people ({report.creates} creates)")
        base = [sys.executable, "-m", "connector", "--config", str(settings.path)]
        children.append(subprocess.Popen([*base, "serve", "--port", str(port)]))
        children.append(subprocess.Popen([*base, "worker"]))
        click.echo(f"demo: connector on http://127.0.0.1:{port} (GET /healthz, /readyz, /openapi.json); "
                   f"worker running; Ctrl-C stops everything")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        rng = random.Random(7)
        contacts = list(boxes.hubspot.state.contacts)
        while not stop.wait(2.0):
            if any(child.poll() is not None for child in children):
                fail("demo: a connector process stopped; see its output above")
            # Prospects keep engaging: HubSpot shows it as growing counters, which become ledger facts.
            contact_id = rng.choice(contacts)
            props = boxes.hubspot.state.contacts[contact_id].properties
            bumped = {"hs_email_open": str(int(float(props.get("hs_email_open") or 0)) + 1)}
            requests.post(f"{boxes.hubspot.url}/__sandbox/engagement/contacts/{contact_id}",
                          json={"properties": bumped}, timeout=5)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=15)
        boxes.stop()


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
