"""Fixtures every test area shares: a copy of the shipped configuration, and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from connector.store import open_engine, upgrade

REPO = Path(__file__).resolve().parent.parent
# Every log record of the run is scanned for the configured secret values (tests/secret_scan.py).
sys.path.insert(0, str(REPO / "tests"))
pytest_plugins = ["secret_scan"]

# Values for every secret the shipped app.yaml names, so tests can load it as an admin would.
SHIPPED_ENV = {
    "HUBSPOT_ACCESS_TOKEN": "pat-test-token-0000",
    "HUBSPOT_CLIENT_SECRET": "test-client-secret-0000",
    "SALESFORCE_CLIENT_ID": "test-client-id",
    "SALESFORCE_CLIENT_SECRET": "test-sf-secret-0000",
    "SALESFORCE_USERNAME": "admin@example.com",
    "SALESFORCE_PASSWORD": "test-password-0000",
    "SALESFORCE_ORG_ID": "00D5e000000AbCdEAA",
    "NURTURE_ENGAGEMENT_SECRET": "test-engagement-secret",
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped app.yaml, mappings/ and config/."""
    target = tmp_path / "cfg"
    target.mkdir()
    shutil.copy(REPO / "app.yaml", target / "app.yaml")
    shutil.copytree(REPO / "mappings", target / "mappings")
    shutil.copytree(REPO / "config", target / "config")
    return target


@pytest.fixture
def shipped_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SHIPPED_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(SHIPPED_ENV)


def postgres_url() -> str | None:
    return os.environ.get("NURTURE_TEST_POSTGRES_URL")


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A migrated PostgreSQL store in a schema of its own, dropped afterwards; skipped without a server."""
    url = postgres_url()
    if not url:
        pytest.skip("NURTURE_TEST_POSTGRES_URL is not set")
    schema = f"nurture_test_{uuid.uuid4().hex[:10]}"
    admin = open_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server here: the SQLite tests still cover the store
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at NURTURE_TEST_POSTGRES_URL: {type(exc).__name__}")
    engine = open_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_engine(request: pytest.FixtureRequest) -> Engine:
    """Each store test runs on SQLite and, where reachable, on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")
