"""Claims: leases, versions, and who may release what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from connector.store.claims import claim, release, renew
from connector.store.inbox import DirtyMark, record
from connector.store.models import dirty

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _mark(engine: Engine, *ids: str) -> None:
    with engine.begin() as conn:
        record(conn, [], [DirtyMark("hubspot", i, "contact") for i in ids], now=NOW)


def test_a_claim_is_exclusive_until_its_lease_expires(store_engine: Engine) -> None:
    _mark(store_engine, "1", "2")
    mine = claim(store_engine, "a", 10, 60, now=NOW)
    assert {m.object_id for m in mine} == {"1", "2"}
    assert claim(store_engine, "b", 10, 60, now=NOW + timedelta(seconds=30)) == []
    theirs = claim(store_engine, "b", 10, 60, now=NOW + timedelta(seconds=61))
    assert {m.object_id for m in theirs} == {"1", "2"}
    assert not renew(store_engine, "a", mine, 60, now=NOW + timedelta(seconds=62)), "a lost its lease"
    release(store_engine, mine, owner="a")  # a's late release must not clear b's claim
    with store_engine.connect() as conn:
        assert {r.lease_owner for r in conn.execute(select(dirty))} == {"b"}


def test_a_mark_renewed_while_claimed_stays_dirty(store_engine: Engine) -> None:
    _mark(store_engine, "1")
    (mark,) = claim(store_engine, "a", 10, 60, now=NOW)
    _mark(store_engine, "1")  # a webhook arrives while the worker works
    release(store_engine, [mark], owner="a")
    with store_engine.connect() as conn:
        (row,) = conn.execute(select(dirty)).all()
    assert row.lease_owner is None and row.version == mark.version + 1


def test_failures_back_off_and_count_unless_told_not_to(store_engine: Engine) -> None:
    _mark(store_engine, "1", "2")
    first, second = sorted(claim(store_engine, "a", 10, 60, now=NOW), key=lambda m: m.object_id)
    release(store_engine, [], [(first, 30.0)], now=NOW, owner="a")
    release(store_engine, [], [(second, 30.0)], now=NOW, owner="a", count_attempts=False)
    with store_engine.connect() as conn:
        rows = {r.object_id: r for r in conn.execute(select(dirty))}
    assert (rows["1"].attempts, rows["2"].attempts) == (1, 0)
    assert claim(store_engine, "a", 10, 60, now=NOW + timedelta(seconds=10)) == []
    assert len(claim(store_engine, "a", 10, 60, now=NOW + timedelta(seconds=31))) == 2
