"""One process at a time, across machines: PostgreSQL advisory locks (a lock file beside a SQLite store).

Used for work that must not run twice at once: schema migrations (every `serve` and `worker` runs them at
start; the first migrates, the others wait and then find nothing to do) and the poller (one poller per
installation; the others skip their turn). An advisory lock belongs to a session, so it is released when
its holder's connection closes — a SIGKILLed holder cannot leave it behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from a readable name."""
    return int.from_bytes(hashlib.sha256(f"nurture:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def exclusive(engine: Engine, name: str, wait: bool = True) -> Iterator[bool]:
    """Hold the named lock for the block. With wait=False, yield False at once if another process holds it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = lock_key(name)
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                got = True
            else:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()  # the lock is the session's, not the transaction's; don't sit idle in one
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    database = make_url(engine.url).database
    if not database or database == ":memory:":  # one process by construction
        yield True
        return
    path = Path(database).with_name(Path(database).name + f".{name}.lock")
    with open(path, "ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
