"""`nurture demo`: the whole product on this machine, telling its story (connector.demo)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import click

from connector.commands.common import fail


@click.command()
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--seed", default=200, show_default=True, type=int, help="Plausible leads, split between the CRMs.")
@click.option("--story-seed", default=7, show_default=True, type=int, help="Seed of what the leads and sales do.")
@click.option("--speed", default=10800.0, show_default=True,
              help="Simulated seconds per second (10800: three hours).")
@click.option("--days", default=14.0, show_default=True, help="Days of story, played from that long ago to now.")
@click.pass_context
def demo(ctx: click.Context, port: int, seed: int, story_seed: int, speed: float, days: float) -> None:
    """Seeded sandbox CRMs, the connector (gunicorn) with its dashboard, a worker, and leads that engage over
    accelerated time: they move through the funnel, tracks enroll them (with A/B variants), sales gets
    tasks. Prints the dashboard URL and login. Ctrl-C stops everything."""
    from connector.demo.stack import DemoOptions, DemoStack

    config = Path(ctx.find_root().obj["config_path"]).resolve()
    if not config.exists():
        fail(f"{config}: no such file — run `nurture demo` where app.yaml is, or pass --config", 3)
    stack = DemoStack(DemoOptions(config, port=port, people=seed, seed=story_seed, speed=speed, days=days,
                                  workdir=config.parent / ".demo"))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        click.echo(f"demo: starting sandbox CRMs with {seed} leads, the connector on port {port} and a worker…")
        stack.start()
        click.echo(f"demo: dashboard  {stack.base_url}/dashboard   login token: {stack.env['NURTURE_ADMIN_TOKEN']}")
        click.echo(f"demo: metrics    {stack.base_url}/metrics")
        click.echo(f"demo: playing {days:g} days of leads and sales at {speed:g}x; Ctrl-C stops everything")
        _play(stack, stop)
    except RuntimeError as exc:
        fail(f"demo: {exc}")
    finally:
        stack.stop()
        click.echo("demo: stopped")


def _play(stack: object, stop: threading.Event) -> None:
    from sqlalchemy import func, select

    from connector.store.models import audit

    player = stack.player  # type: ignore[attr-defined]
    engine = stack.engine  # type: ignore[attr-defined]
    last = 0.0
    while not stop.wait(0.5):
        player.play_due()
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            with engine.connect() as conn:
                counts = dict(conn.execute(select(audit.c.action, func.count()).group_by(audit.c.action)).all())
            stages = _stages(engine)
            click.echo(f"demo: {stack.clock.now():%b %d %H:%M} (simulated)  events {player.tally.events}  "  # type: ignore[attr-defined]
                       f"sales moves {sum(player.tally.sales.values())}  tasks {counts.get('task', 0)}  "
                       f"enrolments {counts.get('enroll', 0)}  stages {stages}"
                       + ("  — story told; still watching" if player.done() else ""))


def _stages(engine: object) -> str:
    from collections import Counter

    from sqlalchemy import select

    from connector.core.history import SHORT
    from connector.store.models import contacts

    with engine.connect() as conn:  # type: ignore[attr-defined]
        found = Counter((r.brain or {}).get("lifecycle") or "-" for r in conn.execute(select(contacts.c.brain)))
    return ", ".join(f"{SHORT.get(k, k)} {v}" for k, v in sorted(found.items(), key=lambda kv: -kv[1]))
