"""What the blueprints share: the settings, the store engine and the secrets, resolved once per process;
and the group commit through which every request's write reaches the store.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from _thread import LockType, allocate_lock
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connector.settings import Settings
from connector.store.inbox import DirtyMark, EngagementFact, InboxEvent, erase_person, increment, write_many

log = logging.getLogger("webhooks")


@dataclass(eq=False, slots=True)
class Write:
    """One request's share of a group commit, and the outcome its thread waits for."""

    events: list[InboxEvent]
    marks: list[DirtyMark]
    facts: list[EngagementFact] = field(default_factory=list)
    counts: Mapping[str, float] | None = None
    erase_hubspot_ids: list[str] = field(default_factory=list)
    best_effort: bool = False  # counters only: a failure is logged, never retried alone
    # Held from creation; released once to wake the waiting request (a bare lock: threading.Event's
    # Condition cost 6% of the CPU of a single-event request under load).
    wake: LockType = field(default_factory=lambda: _locked())
    finished: bool = False
    promoted: bool = False
    new: int = 0
    error: BaseException | None = None

    def outcome(self) -> int:
        if self.error is not None:
            raise self.error
        return self.new


def _locked() -> LockType:
    lock = allocate_lock()
    lock.acquire()
    return lock


class GroupCommit:
    """Requests that wait in this process at the same time share one transaction.

    The first request to arrive leads: it takes every write queued so far, runs them in one transaction,
    commits, and wakes their threads; each answers only then, so an acknowledged event is committed.
    Requests arriving meanwhile queue up; when the leader is done, the oldest of them leads the next
    group, with everything queued by then. No thread of our own, no timer: a lone request commits at
    once, and under load a group grows to as many requests as arrived during the previous commit.

    Each write keeps its own statements (and its own count of new events) inside the shared transaction;
    the counters of the whole group are one upsert. If a group fails, each of its writes is retried in a
    transaction of its own, so one bad request cannot fail the others.

    On a SQLite file the leaders of all processes also take an exclusive `flock` on a file beside the
    database around their transaction. SQLite's own busy handler makes a blocked writer sleep in growing
    steps (1, 2, 5, 10 ms...), long after the lock is free; the flock hands the database over the moment
    the other process commits, and its own queue meanwhile grows into the next group.
    """

    def __init__(self, engine: Engine, lock_path: str | None = None) -> None:
        self.engine = engine
        self.lock_path = lock_path
        self._mutex = threading.Lock()
        self._queue: list[Write] = []
        self._leading = False
        self._lock_file: IO[bytes] | None = None
        self._lock_pid = 0

    @classmethod
    def for_engine(cls, engine: Engine) -> GroupCommit:
        url = engine.url
        lock_path = None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and \
                not url.database.startswith("file:"):
            lock_path = f"{url.database}.webhooks-lock"
        return cls(engine, lock_path)

    def submit(self, item: Write) -> int:
        with self._mutex:
            self._queue.append(item)
            lead = not self._leading
            self._leading = True
        if not lead:
            item.wake.acquire()
            if item.finished:
                return item.outcome()
            # Woken unfinished: the previous leader handed the lead to this request.
        group: list[Write] = []
        try:
            with self._mutex:
                group, self._queue = self._queue, []
            self._commit_group(group)
        finally:
            for other in group:  # only if interrupted (a BaseException): no thread may wait forever
                if not other.finished:
                    self._finish(other, RuntimeError("the group commit was interrupted"))
            with self._mutex:
                if self._queue:
                    self._queue[0].promoted = True
                    self._queue[0].wake.release()
                else:
                    self._leading = False
        return item.outcome()

    def _commit_group(self, group: list[Write]) -> None:
        try:
            self._run(group)
        except Exception as exc:  # handed to the waiting requests, which answer 500
            if len(group) == 1:
                self._finish(group[0], exc)
                return
            for item in group:  # one transaction each: only the write that fails answers 500
                if item.best_effort:
                    self._finish(item, exc)
                    continue
                try:
                    self._run([item])
                except Exception as single:
                    self._finish(item, single)
                else:
                    self._finish(item, None)
        else:
            for item in group:
                self._finish(item, None)

    @staticmethod
    def _finish(item: Write, error: BaseException | None) -> None:
        item.error = error
        item.finished = True
        if not item.promoted:  # a promoted request leads, so nobody waits on its lock
            item.wake.release()

    def _run(self, group: list[Write]) -> None:
        now = datetime.now(UTC)
        counts: dict[str, float] = {}
        for item in group:
            for name, value in (item.counts or {}).items():
                counts[name] = counts.get(name, 0) + value
        batches = [(item.events, item.marks, item.facts) for item in group]
        lock = self._file_lock()
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if lock is not None and not any(item.erase_hubspot_ids for item in group):
                # SQLite without erasure: the driver's connection straight from the pool, no Connection.
                raw = self.engine.raw_connection()
                try:
                    news = write_many(raw.driver_connection, batches, counts=counts, now=now)
                    increment(raw.driver_connection, counts, now)
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
                finally:
                    raw.close()
            else:
                with self.engine.begin() as conn:
                    news = write_many(conn, batches, counts=counts, now=now)
                    for item in group:
                        for hubspot_id in item.erase_hubspot_ids:
                            erase_person(conn, hubspot_id=hubspot_id)
                    increment(conn, counts, now)
        finally:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)
        for item, new in zip(group, news, strict=True):
            item.new = new

    def _file_lock(self) -> IO[bytes] | None:
        if self.lock_path is None:
            return None
        if self._lock_file is None or self._lock_pid != os.getpid():  # opened in the process that uses it
            self._lock_file = open(self.lock_path, "ab")  # noqa: SIM115 - held for the life of the process
            self._lock_pid = os.getpid()
        return self._lock_file


@dataclass
class Edge:
    settings: Settings
    engine: Engine
    hubspot_secrets: list[str]
    salesforce_org_ids: frozenset[str]
    salesforce_path_token: str | None
    engagement_secrets: dict[str, list[str]] = field(default_factory=dict)  # source name -> secrets
    commits: GroupCommit | None = None

    def __post_init__(self) -> None:
        if self.commits is None:
            self.commits = GroupCommit.for_engine(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> Edge:
        app, secrets = settings.app, settings.secrets
        # Salesforce sends 18-character org ids; admins often paste the 15-character form.
        org_ids = frozenset(o[:15] for o in secrets.get_list(app.salesforce.org_ids_env))
        return cls(
            settings=settings,
            engine=engine,
            hubspot_secrets=secrets.get_list(app.hubspot.client_secret_env),
            salesforce_org_ids=org_ids,
            salesforce_path_token=secrets.get(app.salesforce.outbound_path_token_env),
            engagement_secrets={s.name: secrets.get_list(s.secret_env) for s in app.engagement.sources},
        )

    def store(
        self,
        events: list[InboxEvent],
        marks: list[DirtyMark],
        *,
        facts: Iterable[EngagementFact] = (),
        counts: Mapping[str, float] | None = None,
        erase_hubspot_ids: Iterable[str] = (),
    ) -> int:
        """Committed when this returns (in a group with concurrent requests): only then may the request answer."""
        assert self.commits is not None
        return self.commits.submit(Write(events, marks, list(facts), counts, list(erase_hubspot_ids)))

    def count(self, counts: Mapping[str, float]) -> None:
        """Best effort: a counter must never turn a rejection into a 500."""
        assert self.commits is not None
        try:
            self.commits.submit(Write([], [], counts=counts, best_effort=True))
        except SQLAlchemyError as exc:
            log.error("could not update counters %s: %s", sorted(counts), type(exc).__name__)
