"""The sync worker: claim a batch of dirty records, reconcile both CRMs, record, release. Repeat.

A crash at any step only repeats work: marks are leased (an expired lease returns them), creates
are upserts, and the merge base and the clearing of marks happen after the writes they reflect.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from connector.crm.errors import BudgetExhausted, CrmError, RetryableError, SessionExpired
from connector.engine.activity_hints import verify_hints
from connector.engine.apply import apply_plan, record_outcome
from connector.engine.clients import Clients
from connector.engine.executors import execute
from connector.engine.fencing import Fence, LeaseLost, fenced
from connector.engine.freshness import moved_people, without
from connector.engine.gather import Gathered, Person, gather
from connector.engine.lookup import LiveLookup, Lookup
from connector.engine.nurture_step import derive_engagement, make_brain, think
from connector.engine.plan import BatchPlan, build_plan
from connector.engine.scheduler import mark_due
from connector.metrics import init as metrics_init
from connector.metrics.worker_hook import batch_done as metrics_batch_done
from connector.settings import Settings
from connector.store.audit_log import write_dead_letter
from connector.store.claims import BUSY_S, Mark, claim_people, release
from connector.store.leases import Lease, close_lease, hold, holds_lease, let_go

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    run_id: str
    claimed: int
    people: int
    writes: int = 0
    creates: int = 0
    dead_letters: int = 0
    retried: int = 0
    touches: int = 0
    tasks: int = 0
    new_problems: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    plan: BatchPlan | None = None
    seconds: float = 0.0


@dataclass
class RunTotals:
    batches: int = 0
    claimed: int = 0
    writes: int = 0
    creates: int = 0
    dead_letters: int = 0
    errors: list[str] = field(default_factory=list)
    new_problems: dict[str, int] = field(default_factory=dict)  # kind -> problems first seen

    def add(self, report: BatchReport) -> None:
        for kind, n in report.new_problems.items():
            self.new_problems[kind] = self.new_problems.get(kind, 0) + n
        self.batches += 1
        self.claimed += report.claimed
        self.writes += report.writes
        self.creates += report.creates
        self.dead_letters += report.dead_letters
        if report.error:
            self.errors.append(report.error)


class Worker:
    def __init__(self, settings: Settings, engine: Engine, clients: Clients, dry_run: bool = False,
                 owner: str | None = None, on_plan: Callable[[BatchPlan], None] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        metrics_init(settings.store_url)  # live metrics into the directory the web's /metrics reads
        self.settings = settings
        self.engine = engine
        self.clients = clients
        self.dry_run = dry_run
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.on_plan = on_plan
        self._lengths: dict[str, dict[str, int]] | None = None
        self.lookup: Lookup = LiveLookup(settings.mapping, clients.hubspot, clients.salesforce)
        self.brain = make_brain(settings)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.problems = ProblemSummary()  # new problems and dead letters, said once a minute while there are any

    def lengths(self) -> dict[str, dict[str, int]]:
        if self._lengths is None:
            self._lengths = {o: self.clients.salesforce.lengths(o) for o in self.settings.mapping.salesforce.objects}
        return self._lengths

    def run_batch(self, urgent_only: bool = False) -> BatchReport | None:
        """Claim people (not records), then reconcile them under a fenced, heart-beaten lease."""
        cfg = self.settings.app.worker
        claimed = claim_people(self.engine, self.owner, cfg.batch_size, cfg.lease_s, urgent_only=urgent_only)
        if claimed is None:
            return None
        lease, marks = claimed
        report = BatchReport(uuid.uuid4().hex, len(marks), 0)
        try:
            if marks:
                heartbeat = min(cfg.heartbeat_s, cfg.lease_s / 3)
                with Fence(self.engine, lease, cfg.lease_s, heartbeat) as fence:
                    self._reconcile(lease, marks, fence, report)
        finally:
            close_lease(self.engine, lease)
        return report

    def _reconcile(self, lease: Lease, marks: list[Mark], fence: Fence, report: BatchReport) -> None:
        started = time.monotonic()
        owner = lease.mark_owner
        clients = fenced(self.clients, fence)
        try:
            if not all(m.urgent for m in marks):
                self.clients.budget.check("salesforce", urgent=False)
            self._verify_hints(marks)
            gathered = gather(self.engine, self.settings.mapping, self.lookup, marks)
            marks = self._hold_people(lease, gathered, marks)
            plan = build_plan(self.settings.mapping, gathered, self.lengths())
            now = self.clock()
            if not self.dry_run:
                derive_engagement(self.settings, self.engine, plan, now)
            nurture = think(self.settings, self.brain, self.engine, plan, now, self.clients)
            report.people, report.plan = len(plan.people), plan
            if self.on_plan:
                self.on_plan(plan)
            if self.dry_run:  # leave them dirty, leases dropped, attempts untouched
                release(self.engine, [], [(m, 0.0) for m in marks], owner=owner, count_attempts=False)
                return
            fence.check("the re-read before writing")
            moved = moved_people(plan, self.lookup)
            for what in moved.values():
                log.info("%s changed since it was read; not overwriting it in this pass", what)
            outcome = apply_plan(without(plan, set(moved)), clients, self.settings.mapping)
            for index in moved:
                outcome.failed_sides.setdefault(index, set()).update({"hubspot", "salesforce"})
            execute(self.settings, clients, plan, nurture, now,
                    write_ok=lambda i: i not in outcome.failed_sides)
            record_outcome(self.engine, report.run_id, plan, outcome, nurture,
                           fence=lambda conn: _still_held(conn, lease))
            report.touches, report.tasks = nurture.touches, nurture.tasks
        except LeaseLost as exc:
            # Another worker holds these people now (or will once the lease lapses): it does the work.
            # Nothing is released: the marks are its, or come back when our lease runs out.
            report.error = f"lease lost: {exc}"
            log.warning("batch abandoned (run %s): %s", report.run_id, exc)
            return
        except Exception as exc:  # a CRM refusal, an outage, or a bug: never lose the marks, never spin
            report.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CrmError) else str(exc)
            if isinstance(exc, CrmError | BudgetExhausted):
                log.warning("batch of %d failed, will retry: %s", len(marks), exc)
            else:
                log.exception("batch of %d failed unexpectedly (run %s), will retry", len(marks), report.run_id)
            self._give_up_or_retry(marks, report.run_id, exc, owner)
            return
        report.writes, report.creates, report.dead_letters = outcome.writes, outcome.creates, outcome.dead_letters
        report.new_problems = dict(outcome.new_problems)
        self.problems.add(report.new_problems, report.dead_letters)
        moved_ids = {i for p in moved for i in _ids(plan, p)}
        retry_ids = {i for p in outcome.retry_people for i in _ids(plan, p)} - moved_ids
        again = [m for m in marks if m.object_id in retry_ids]
        metrics_batch_done(self.engine, marks, report)  # before release: reads the marks' marked_at
        report.retried = len(again) + len([m for m in marks if m.object_id in moved_ids])
        release(self.engine, [m for m in marks if m.object_id not in retry_ids | moved_ids],
                [(m, self._backoff(m)) for m in again], owner=owner)
        # A moved field is no failure of the record: back soon, attempts untouched.
        release(self.engine, [], [(m, BUSY_S) for m in marks if m.object_id in moved_ids], owner=owner,
                count_attempts=False)
        report.seconds = time.monotonic() - started
        log.info("batch done", extra={"ctx_run_id": report.run_id, "ctx_claimed": report.claimed,
                                      "ctx_writes": report.writes, "ctx_creates": report.creates,
                                      "ctx_dead_letters": report.dead_letters})

    def _hold_people(self, lease: Lease, gathered: Gathered, marks: list[Mark]) -> list[Mark]:
        """Hold every key the gathered people are known by (ids found by email, merges, conversions, and
        the email itself). A person another batch holds under one of them is dropped from this batch and
        its marks come back in BUSY_S; the kept marks are returned."""
        keys = [_person_keys(p) for p in gathered.people]
        with self.engine.begin() as conn:
            taken = hold(conn, lease, {k for ks in keys for k in ks}, self.clock())
            keep = [ks <= taken for ks in keys]
            let_go(conn, lease, taken - {k for ks, ok in zip(keys, keep, strict=True) if ok for k in ks})
        if all(keep):
            return marks
        busy_ids = {k.partition(":")[2] for ks, ok in zip(keys, keep, strict=True) if not ok for k in ks}
        gathered.people = [p for p, ok in zip(gathered.people, keep, strict=True) if ok]
        busy = [m for m in marks if m.object_id in busy_ids]
        # Jittered: two batches that each hold a key the other needs must not meet again in lockstep.
        back = BUSY_S * (1 + random.random())
        release(self.engine, [], [(m, back) for m in busy], owner=lease.mark_owner, count_attempts=False)
        log.info("%d people are held by another worker; they come back in %.0f s", keep.count(False), BUSY_S)
        return [m for m in marks if m.object_id not in busy_ids]

    def _verify_hints(self, marks: list[Mark]) -> None:
        """Believe Salesforce activity only once read back from Salesforce (connector/engine/activity_hints.py)."""
        people = [m.object_id for m in marks if m.system == "salesforce"]
        if people:
            verify_hints(self.engine, self.clients.salesforce, people, self.clock())

    def drain(self, max_batches: int = 1_000_000) -> RunTotals:
        """Work until nothing is due (what `worker --once` does)."""
        totals = RunTotals()
        for _ in range(max_batches):
            report = self.run_batch()
            if report is None:
                break
            totals.add(report)
            if report.error or self.dry_run:
                break  # don't spin on a CRM that is failing; a dry run shows one pass
        return totals

    def run_forever(self, stop: threading.Event, poll: Callable[[], Any] | None = None) -> None:
        cfg = self.settings.app.worker
        next_poll = time.monotonic() + cfg.poll_interval_s
        while not stop.is_set():
            if poll is not None and time.monotonic() >= next_poll:
                try:
                    poll()
                except CrmError as exc:
                    log.warning("scheduled poll failed: %s", exc)
                next_poll = time.monotonic() + cfg.poll_interval_s
            try:
                mark_due(self.engine, self.clock())
                report = self.run_batch()
            except Exception:  # the store itself failing: say so, wait, try again; never exit silently
                log.exception("worker loop failed; retrying")
                stop.wait(max(cfg.idle_sleep_s, 5.0))
                continue
            if report is None or report.error:
                stop.wait(cfg.idle_sleep_s)
            elif report.claimed < cfg.batch_size:
                stop.wait(cfg.coalesce_s)

    def _give_up_or_retry(self, marks: list[Mark], run_id: str, exc: Exception, owner: str) -> None:
        """Back off. A budget pause is no failure of the records. A CRM that is down, rate-limiting or
        refusing our credentials fails every record alike: those back off but never become dead letters
        (they would only hide the outage). Anything else that fails a batch max_attempts times is a dead
        letter, so one poison record cannot block the rest forever."""
        if isinstance(exc, BudgetExhausted):  # includes a daily limit and an open circuit: wait what they say
            wait = min(max(float(getattr(exc, "retry_after", None) or 60.0), 1.0), 86_400.0)
            release(self.engine, [], [(m, wait) for m in marks], owner=owner, count_attempts=False)
            return
        limit = self.settings.app.worker.max_attempts
        systemic = isinstance(exc, RetryableError | SessionExpired) or getattr(exc, "status", None) in (401, 403)
        spent = [] if systemic else [m for m in marks if m.attempts + 1 >= limit]
        if spent:
            message = getattr(exc, "message", str(exc))
            with self.engine.begin() as conn:
                for mark in spent:
                    write_dead_letter(conn, run_id, mark.system, mark.object_type, mark.object_id, "reconcile",
                                      {}, getattr(exc, "code", None) or "GAVE_UP",
                                      f"gave up after {mark.attempts + 1} attempts: {message}")
        release(self.engine, spent, [(m, self._backoff(m)) for m in marks if m not in spent], owner=owner)

    def _backoff(self, mark: Mark) -> float:
        return min(3600.0, 5.0 * (2 ** mark.attempts))


def _still_held(conn: Connection, lease: Lease) -> None:
    """The fencing check inside record_outcome's transaction: no outcome is recorded by a lapsed lease."""
    if not holds_lease(conn, lease, datetime.now(UTC)):
        raise LeaseLost(f"lease {lease.id} lapsed before its outcome was recorded")


def _person_keys(person: Person) -> frozenset[str]:
    keys = set()
    for hid in (person.link.hubspot_id, person.hubspot.id if person.hubspot else None):
        if hid:
            keys.add(f"hs:{hid}")
    for sid in (person.link.salesforce_id, person.salesforce.id if person.salesforce else None):
        if sid:
            keys.add(f"sf:{sid}")
    email = (person.link.email or (person.hubspot.properties.get("email") if person.hubspot else None)
             or (person.salesforce.fields.get("Email") if person.salesforce else None))
    if isinstance(email, str) and email.strip():
        keys.add(f"email:{email.strip().lower()}")
    return frozenset(keys)


class ProblemSummary:
    """Counts new problems by kind (and new dead letters) and logs them at most once a minute, so an admin
    watching the worker sees them without a line per contact."""

    def __init__(self, every_s: float = 60.0) -> None:
        self.every_s, self.counts, self.last = every_s, Counter[str](), time.monotonic() - every_s

    def add(self, problems: dict[str, int], dead_letters: int) -> None:
        self.counts.update(problems)
        if dead_letters:
            self.counts["dead letter"] += dead_letters
        if self.counts and time.monotonic() - self.last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        if self.counts:
            log.warning("new problems: %s (see `nurture problems` and `nurture dlq list`)",
                        ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items())))
        self.counts, self.last = Counter(), time.monotonic()


def _ids(plan: BatchPlan, index: int) -> set[str]:
    person = plan.people[index]
    ids = {person.link.hubspot_id, person.link.salesforce_id}
    if person.hubspot:
        ids.add(person.hubspot.id)
    if person.salesforce:
        ids.add(person.salesforce.id)
    return {i for i in ids if i}
