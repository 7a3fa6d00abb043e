"""The store: SQLite by default, PostgreSQL by URL; schema managed by Alembic migrations."""

from connector.store.database import is_sqlite, normalize_url, open_engine
from connector.store.migrate import is_current, upgrade

__all__ = ["is_current", "is_sqlite", "normalize_url", "open_engine", "upgrade"]
