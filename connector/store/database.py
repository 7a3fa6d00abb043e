"""Opening the store: one SQLAlchemy engine per URL, tuned for SQLite (WAL) or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Accept the URLs admins write (postgresql://, postgres://) and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def open_engine(url: str, pool_size: int = 5, **kwargs: Any) -> Engine:
    """An engine for the store. Open it in the process that uses it (after gunicorn's fork, not before):
    pooled connections must not cross a fork.

    PostgreSQL: at most 2 × pool_size connections per process (pool plus as many overflow), so an
    installation needs (serve processes + worker processes) × 2 × store.pool_size under the server's
    max_connections (docs/DEPLOY.md)."""
    url = normalize_url(url)
    # hide_parameters: a failed statement's message must not carry payloads (or secrets) into logs.
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                             pool_recycle=1800, **kwargs)
    memory = make_url(url).database in (None, "", ":memory:")
    # A file database keeps a small pool: closing the last connection of a WAL database checkpoints it,
    # about 1 ms, which at webhook rates costs more than the insert itself. An in-memory database must
    # keep its single connection or it vanishes.
    pooling: dict[str, Any] = {} if memory else {"pool_size": pool_size, "max_overflow": pool_size}
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pooling, **kwargs)
    event.listen(engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets webhook writers and the worker's readers run at once; NORMAL sync is durable in WAL
    # mode against a process crash (SIGKILL), which is what the "never lose an acked event" promise needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
