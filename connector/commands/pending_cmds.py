"""Commands whose work later issues build. Each says so plainly and exits 4; none pretends to work."""

from __future__ import annotations

import click

from connector.commands.common import not_built


@click.command()
@click.option("--once", is_flag=True, help="Drain the dirty marks and exit.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing to any CRM.")
def worker(once: bool, dry_run: bool) -> None:
    """[not built yet] Claim dirty contacts, reconcile both CRMs, run the brain, apply the plan."""
    not_built("worker", "the sync engine issue")


@click.command()
@click.option("--dry-run", is_flag=True)
def poll(dry_run: bool) -> None:
    """[not built yet] Mark contacts changed since the stored cursors (catches missed webhooks)."""
    not_built("poll", "the sync engine issue")


@click.command()
@click.option("--limit", type=int)
@click.option("--since")
@click.option("--dry-run", is_flag=True)
def backfill(limit: int | None, since: str | None, dry_run: bool) -> None:
    """[not built yet] Walk every contact on both sides, resumably."""
    not_built("backfill", "the sync engine issue")


@click.command()
@click.argument("action", type=click.Choice(["list", "replay"]))
def dlq(action: str) -> None:
    """[not built yet] Dead letters: writes a CRM refused for good."""
    not_built(f"dlq {action}", "the sync engine issue")


@click.command()
def duplicates() -> None:
    """[not built yet] Report records that may be the same person."""
    not_built("duplicates", "the sync engine issue")


@click.command()
@click.option("--contact", "email", required=True)
def audit(email: str) -> None:
    """[not built yet] A contact's history of writes."""
    not_built("audit", "the sync engine issue")


@click.command()
@click.argument("email")
def explain(email: str) -> None:
    """[not built yet] Why a contact has its score, segments, stage, track and alerts."""
    not_built("explain", "the nurture brain issue")


COMMANDS = [worker, poll, backfill, dlq, duplicates, audit, explain]
