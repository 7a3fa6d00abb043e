"""webhooks.edge.GroupCommit: concurrent requests share a transaction, each learns its own outcome, and a
failing request fails alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from connector.store.inbox import DirtyMark, InboxEvent
from connector.store.models import counters, inbox
from webhooks.edge import GroupCommit, Write

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def one(event_id: str, payload: object = None) -> Write:
    return Write([InboxEvent("hubspot", event_id, "contact", "7", "updated", NOW, payload or {"id": event_id})],
                 [DirtyMark("hubspot", "7", "contact")])


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())


def test_concurrent_requests_are_all_committed_once(store_engine: Engine) -> None:
    commits = GroupCommit.for_engine(store_engine)
    results: list[int] = []
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            for i in range(40):
                # Every event is sent twice, by two different threads: stored once, "new" once.
                results.append(commits.submit(one(f"{(n // 2)}:{i}")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 320 and sum(results) == 160 == stored(store_engine)
    with store_engine.connect() as conn:
        duplicates = conn.execute(select(counters.c.value).where(counters.c.name == "webhooks.hubspot.duplicates"))
        assert duplicates.scalar_one() == 160


def test_a_failing_request_fails_alone(store_engine: Engine) -> None:
    commits = GroupCommit.for_engine(store_engine)
    group = [one("a"), one("b", payload={"bad": object()}), one("c")]  # not JSON: the store refuses it
    commits._commit_group(group)
    assert [w.finished for w in group] == [True, True, True]
    assert group[0].outcome() == 1 and group[2].outcome() == 1
    assert group[1].error is not None
    assert stored(store_engine) == 2


def test_a_lone_request_commits_at_once(store_engine: Engine) -> None:
    commits = GroupCommit.for_engine(store_engine)
    assert commits.submit(one("x")) == 1
    assert stored(store_engine) == 1
    assert commits.submit(one("x")) == 0
    assert not commits._leading and not commits._queue
