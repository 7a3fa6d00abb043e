"""`nurture db upgrade|current`."""

from __future__ import annotations

import click

from connector.commands.common import open_store, settings_from


@click.group()
def db() -> None:
    """The store's schema (Alembic migrations)."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create or upgrade the store's tables to the newest schema."""
    from connector.store.migrate import current_revision

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings, migrate=True)
    click.echo(f"store at revision {current_revision(engine)} (current)")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the store's schema revision; exit 1 if it is behind."""
    from connector.store.migrate import current_revision, head_revision

    settings = settings_from(ctx, check_env=False)
    engine = open_store(settings, migrate=False)
    have, want = current_revision(engine), head_revision()
    click.echo(f"store at revision {have or 'none'}; newest is {want}")
    if have != want:
        raise click.exceptions.Exit(1)
