"""The store on SQLite and PostgreSQL: migrations, constraints the inbox relies on, WAL on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from connector.store import open_engine, upgrade
from connector.store.migrate import current_revision, head_revision, is_current
from connector.store.models import contacts, cursors, inbox, metadata

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_migrations_create_every_table(store_engine: Engine) -> None:
    assert is_current(store_engine)
    assert set(inspect(store_engine).get_table_names()) >= set(metadata.tables)


def test_upgrade_is_idempotent(store_engine: Engine) -> None:
    upgrade(store_engine)
    assert current_revision(store_engine) == head_revision()


def test_migrations_match_models(store_engine: Engine) -> None:
    """A model change without a migration would make production differ from tests; catch it here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def _event(event_id: str) -> dict[str, object]:
    return {"source": "hubspot", "source_event_id": event_id, "object_type": "contact", "object_id": "101",
            "kind": "updated", "occurred_at": NOW, "received_at": NOW, "payload": {"eventId": event_id}}


def test_inbox_keeps_one_row_per_source_event(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        conn.execute(insert(inbox), [_event("1"), _event("2")])
    with pytest.raises(IntegrityError), store_engine.begin() as conn:
        conn.execute(insert(inbox), [_event("1")])
    with store_engine.connect() as conn:
        rows = conn.execute(select(inbox.c.source_event_id, inbox.c.payload).order_by(inbox.c.id)).all()
    assert [(r.source_event_id, r.payload) for r in rows] == [("1", {"eventId": "1"}), ("2", {"eventId": "2"})]


def test_contact_ids_are_unique_per_crm(store_engine: Engine) -> None:
    row = {"email": "a@example.com", "hubspot_id": "1", "salesforce_id": "00Q000000000001", "synced": {},
           "brain": {}, "created_at": NOW, "updated_at": NOW}
    with store_engine.begin() as conn:
        conn.execute(insert(contacts), [row])
    with pytest.raises(IntegrityError), store_engine.begin() as conn:
        conn.execute(insert(contacts), [{**row, "salesforce_id": "00Q000000000002"}])


def test_timestamps_round_trip_with_zone(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        conn.execute(insert(cursors), [{"name": "hubspot", "value": "x", "updated_at": NOW}])
        stored = conn.execute(select(cursors.c.updated_at)).scalar_one()
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == NOW


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_postgres_urls_use_psycopg3() -> None:
    from connector.store import normalize_url

    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
