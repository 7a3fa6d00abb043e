"""Fixtures for the webhook edge: the shipped app.yaml with test secrets, a fresh migrated SQLite store per
test (copied from one migrated template, much faster than migrating each time), an app and a client."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

# With tests/ on sys.path this directory would be found as a namespace package named `webhooks` before
# the editable install's finder runs, shadowing the real package: put the repository first. And pytest
# imports a conftest before it puts the test directory on sys.path; the helpers live beside it.
sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parent)]
if getattr(sys.modules.get("webhooks"), "__file__", "") is None:
    del sys.modules["webhooks"]

from webhook_helpers import REPO, Store, env_for  # noqa: E402

from connector.settings import Settings, load_settings  # noqa: E402
from connector.store import open_engine, upgrade  # noqa: E402
from webhooks import create_app  # noqa: E402


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def store_url(tmp_path: Path, template_db: Path) -> str:
    path = tmp_path / "store.db"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(store_url: str) -> Settings:
    return load_settings(REPO / "app.yaml", env=env_for(store_url), check_env=False)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = open_engine(settings.app.store.url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_app(engine: Engine, settings: Settings) -> Callable[..., Flask]:
    def make(custom: Settings | None = None) -> Flask:
        return create_app(custom or settings, engine=engine)
    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine)


