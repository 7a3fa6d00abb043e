"""Claims by person: one worker per person, short leases that a heartbeat keeps, revocation, no deadlocks."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from connector.engine.fencing import Fence, LeaseLost, fenced
from connector.store.claims import BUSY_S, claim_people, release
from connector.store.inbox import DirtyMark, record
from connector.store.leases import close_lease, hold, open_lease, renew
from connector.store.models import contacts, dirty, holds, leases

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _mark(engine: Engine, *records: tuple[str, str]) -> None:
    with engine.begin() as conn:
        record(conn, [], [DirtyMark(s, i, "contact" if s == "hubspot" else "Lead") for s, i in records], now=NOW)


def _link(engine: Engine, hubspot_id: str, salesforce_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(contacts).values(hubspot_id=hubspot_id, salesforce_id=salesforce_id, synced={},
                                             brain={}, created_at=NOW, updated_at=NOW))


def test_both_marks_of_one_person_go_to_one_worker(store_engine: Engine) -> None:
    """The finding: an engagement event (HubSpot) and a Salesforce edit of one person went to two workers."""
    _link(store_engine, "101", "00Q000000000001")
    _mark(store_engine, ("hubspot", "101"))
    first = claim_people(store_engine, "a", 1, 15, now=NOW)  # room for one mark only ...
    _mark(store_engine, ("salesforce", "00Q000000000001"))  # ... the other side's mark arrives meanwhile
    second = claim_people(store_engine, "b", 10, 15, now=NOW)
    assert first is not None and second is not None
    assert [m.key for m in first[1]] == [("hubspot", "101")]
    assert second[1] == [], "b must not think about a person a holds"
    with store_engine.connect() as conn:
        row = conn.execute(select(dirty).where(dirty.c.system == "salesforce")).one()
    assert row.lease_owner is None and row.due_at.replace(tzinfo=UTC) == NOW + timedelta(seconds=BUSY_S)
    close_lease(store_engine, second[0])
    # Once a lets go, the next claim takes the person with every mark it has.
    release(store_engine, first[1], owner=first[0].mark_owner)
    close_lease(store_engine, first[0])
    _mark(store_engine, ("hubspot", "101"))
    third = claim_people(store_engine, "c", 10, 15, now=NOW + timedelta(seconds=3))
    assert third is not None
    assert {m.key for m in third[1]} == {("hubspot", "101"), ("salesforce", "00Q000000000001")}


def test_a_lapsed_lease_is_revoked_and_can_never_be_renewed(store_engine: Engine) -> None:
    _mark(store_engine, ("hubspot", "1"))
    claimed = claim_people(store_engine, "a", 10, 15, now=NOW)
    assert claimed is not None
    lease, marks = claimed
    assert renew(store_engine, lease, 15, now=NOW + timedelta(seconds=5))  # heartbeat: held until +20 s
    assert claim_people(store_engine, "b", 10, 15, now=NOW + timedelta(seconds=19)) is None
    taken = claim_people(store_engine, "b", 10, 15, now=NOW + timedelta(seconds=21))
    assert taken is not None and [m.key for m in taken[1]] == [("hubspot", "1")]
    # a's late heartbeat finds its lease revoked (not merely expired): it stays lost for good.
    assert not renew(store_engine, lease, 15, now=NOW + timedelta(seconds=21))
    assert not renew(store_engine, lease, 15, now=NOW + timedelta(seconds=10))
    release(store_engine, marks, owner=lease.mark_owner)  # a's release must not clear b's claim
    with store_engine.connect() as conn:
        assert conn.execute(select(dirty.c.lease_owner)).scalar_one() == taken[0].mark_owner


def test_a_dead_workers_people_return_at_once(store_engine: Engine) -> None:
    """SIGKILL: the lease still has 14 s to run, but its process on this host is gone."""
    _mark(store_engine, ("hubspot", "7"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    claimed = claim_people(store_engine, "victim", 10, 15, now=NOW)
    assert claimed is not None
    with store_engine.begin() as conn:
        conn.execute(leases.update().values(pid=int(dead.stdout)))
    _mark(store_engine, ("hubspot", "7"))  # a new event for the person
    taken = claim_people(store_engine, "b", 10, 15, now=NOW + timedelta(seconds=1))
    assert taken is not None and [m.key for m in taken[1]] == [("hubspot", "7")]


def test_holds_are_try_locks_in_key_order(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        a = open_lease(conn, "a", 15, NOW)
        b = open_lease(conn, "b", 15, NOW)
    with store_engine.begin() as conn:
        assert hold(conn, a, ["email:x@y", "hs:1"], NOW) == {"email:x@y", "hs:1"}
    with store_engine.begin() as conn:
        assert hold(conn, b, ["sf:2", "hs:1"], NOW) == {"sf:2"}
        assert hold(conn, a, ["hs:1"], NOW) == {"hs:1"}  # holding again is idempotent
    close_lease(store_engine, a)
    with store_engine.begin() as conn:
        assert hold(conn, b, ["hs:1"], NOW) == {"hs:1"}
        assert {r.person: r.lease_id for r in conn.execute(select(holds))} == {"sf:2": b.id, "hs:1": b.id}


def test_a_fence_refuses_writes_once_the_lease_is_lost(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        lease = open_lease(conn, "a", 15, datetime.now(UTC))
    calls: list[str] = []

    class Adapter:
        def read(self) -> str:
            calls.append("read")
            return "ok"

        def update(self) -> str:
            calls.append("update")
            return "ok"

    from connector.engine.clients import Clients

    with Fence(store_engine, lease, 15, 0.05) as fence:
        clients = fenced(Clients(Adapter(), Adapter(), None), fence)  # type: ignore[arg-type]
        clients.hubspot.update()
        with store_engine.begin() as conn:  # someone revokes it (as a claim does once it lapsed)
            conn.execute(leases.update().values(lease_until=None))
        deadline = threading.Event()
        for _ in range(100):
            if fence.lost:
                break
            deadline.wait(0.02)
        assert fence.lost
        assert clients.salesforce.read() == "ok"  # reads go on
        with pytest.raises(LeaseLost):
            clients.salesforce.update()
    assert calls == ["update", "read"]


def test_a_fence_stops_at_its_local_deadline_when_the_store_is_unreachable(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        lease = open_lease(conn, "a", 15, datetime.now(UTC))

    def unreachable(*_: object, **__: object) -> bool:
        raise ConnectionError("store down")

    fence = Fence(store_engine, lease, 0.3, 0.05, margin_s=0.1, renew_fn=unreachable)
    with fence:
        fence.check()
        threading.Event().wait(0.35)
        with pytest.raises(LeaseLost, match="margin"):
            fence.check()


def test_concurrent_claimers_never_deadlock_or_share_a_person(store_engine: Engine) -> None:
    """8 threads claim 60 linked people (120 marks) while an edge keeps re-marking them, in random orders."""
    people = [(str(1000 + n), f"00Q{n:012d}") for n in range(60)]
    for hs, sf in people:
        _link(store_engine, hs, sf)
    errors: list[BaseException] = []
    seen: dict[str, set[str]] = {}
    lock = threading.Lock()

    def edge() -> None:
        try:
            for round_ in range(10):
                batch = people[round_ * 6:] + people[:round_ * 6]
                with store_engine.begin() as conn:
                    record(conn, [], [DirtyMark("salesforce", sf, "Lead") for _, sf in batch]
                           + [DirtyMark("hubspot", hs, "contact") for hs, _ in reversed(batch)])
        except BaseException as exc:
            errors.append(exc)

    def worker(name: str) -> None:
        try:
            for _ in range(15):
                claimed = claim_people(store_engine, name, 7, 15)
                if claimed is None:
                    continue
                lease, marks = claimed
                with lock:
                    for m in marks:
                        owner = {o for o, ids in seen.items() if m.object_id in ids}
                        assert not owner - {name}, f"{m.key} claimed by {owner} and {name} at once"
                        seen.setdefault(name, set()).add(m.object_id)
                with lock:
                    for m in marks:
                        seen[name].discard(m.object_id)
                release(store_engine, marks, owner=lease.mark_owner)
                close_lease(store_engine, lease)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=edge)] + [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
