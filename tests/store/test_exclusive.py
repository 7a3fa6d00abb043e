"""One process at a time: migrations run once while others wait; one poller per installation."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from connector.store import open_engine
from connector.store.exclusive import exclusive
from connector.store.migrate import head_revision
from connector.store.migrate import upgrade as migrate


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, object]]]:
    """An empty store (no tables) and the connect_args that reach it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}", {}
        return
    url = os.environ.get("NURTURE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("NURTURE_TEST_POSTGRES_URL is not set")
    schema = f"nurture_fresh_{uuid.uuid4().hex[:10]}"
    admin = open_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_six_processes_starting_together_migrate_once(fresh_url: tuple[str, dict[str, object]]) -> None:
    url, kwargs = fresh_url
    engines = [open_engine(url, **kwargs) for _ in range(6)]  # type: ignore[arg-type]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def boot(engine: Engine) -> None:
        try:
            start.wait()
            migrate(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=boot, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:2]
    with engines[0].connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    for engine in engines:
        engine.dispose()


def test_a_second_poller_skips_its_turn(store_engine: Engine) -> None:
    other = open_engine(str(store_engine.url.render_as_string(hide_password=False)),
                        **({"connect_args": {"options": "-csearch_path=public"}}
                           if store_engine.dialect.name == "postgresql" else {}))
    with exclusive(store_engine, "poller:test", wait=False) as first:
        assert first
        with exclusive(other, "poller:test", wait=False) as second:
            assert not second
    with exclusive(other, "poller:test", wait=False) as again:
        assert again, "released when the holder is done"
    other.dispose()
