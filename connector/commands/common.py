"""What every command shares: exit codes, loading settings with readable errors, opening the store."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import NoReturn

import click
from sqlalchemy import Engine

from connector.logs import setup_logging
from connector.settings import ConfigError, Settings, load_settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def settings_from(ctx: click.Context, check_env: bool = True) -> Settings:
    """Load and validate the configuration; on any problem print each as file:line and exit 3."""
    path = ctx.find_root().obj["config_path"]
    try:
        settings = load_settings(path, check_env=check_env)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        fail(f"{len(exc.problems)} problem(s) in the configuration; nothing was started.", EXIT_CONFIG)
    setup_logging(settings.app.logging.level, settings.app.logging.format, settings.secret_values())
    return settings


def open_store(settings: Settings, migrate: bool = True) -> Engine:
    from connector.store import open_engine, upgrade
    from connector.store.migrate import is_current

    url = settings.store_url
    try:
        engine = open_engine(url, pool_size=settings.app.store.pool_size)
        # Alembic logs its context at INFO whenever it looks at a store: look quietly, and let it speak only
        # when a migration actually runs.
        if migrate and not _quietly(lambda: is_current(engine)):
            upgrade(engine)
    except Exception as exc:
        fail(f"cannot open the store at {_safe_url(url)}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    return engine


def _quietly(check: Callable[[], bool]) -> bool:
    log = logging.getLogger("alembic.runtime.migration")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        return check()
    finally:
        log.setLevel(level)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
