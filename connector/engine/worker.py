"""The sync worker: claim a batch of dirty records, reconcile both CRMs, record, release. Repeat.

A crash at any step only repeats work: marks are leased (an expired lease returns them), creates
are upserts, and the merge base and the clearing of marks happen after the writes they reflect.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from connector.crm.errors import BudgetExhausted, CrmError, RetryableError, SessionExpired
from connector.engine.apply import apply_plan, record_outcome
from connector.engine.clients import Clients
from connector.engine.executors import execute
from connector.engine.gather import gather
from connector.engine.lookup import LiveLookup, Lookup
from connector.engine.nurture_step import derive_engagement, make_brain, think
from connector.engine.plan import BatchPlan, build_plan
from connector.engine.scheduler import mark_due
from connector.metrics import init as metrics_init
from connector.metrics.worker_hook import batch_done as metrics_batch_done
from connector.settings import Settings
from connector.store.audit_log import write_dead_letter
from connector.store.claims import Mark, claim, release, renew

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

    def add(self, report: BatchReport) -> None:
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

    def lengths(self) -> dict[str, dict[str, int]]:
        if self._lengths is None:
            self._lengths = {o: self.clients.salesforce.lengths(o) for o in self.settings.mapping.salesforce.objects}
        return self._lengths

    def run_batch(self, urgent_only: bool = False) -> BatchReport | None:
        cfg = self.settings.app.worker
        marks = claim(self.engine, self.owner, cfg.batch_size, cfg.lease_s, urgent_only=urgent_only)
        if not marks:
            return None
        started = time.monotonic()
        report = BatchReport(uuid.uuid4().hex, len(marks), 0)
        try:
            if not all(m.urgent for m in marks):
                self.clients.budget.check("salesforce", urgent=False)
            gathered = gather(self.engine, self.settings.mapping, self.lookup, marks)
            plan = build_plan(self.settings.mapping, gathered, self.lengths())
            now = self.clock()
            if not self.dry_run:
                derive_engagement(self.settings, self.engine, plan, now)
            nurture = think(self.settings, self.brain, self.engine, plan, now, self.clients)
            report.people, report.plan = len(plan.people), plan
            if self.on_plan:
                self.on_plan(plan)
            if self.dry_run:  # leave them dirty, leases dropped, attempts untouched
                release(self.engine, [], [(m, 0.0) for m in marks], owner=self.owner, count_attempts=False)
                return report
            if not renew(self.engine, self.owner, marks, cfg.lease_s):
                # The reads took longer than the lease and another worker has these now: let it finish.
                report.error = "lease lost before writing; another worker took the batch"
                return report
            outcome = apply_plan(plan, self.clients, self.settings.mapping)
            execute(self.settings, self.clients, plan, nurture, now,
                    write_ok=lambda i: i not in outcome.failed_sides)
            record_outcome(self.engine, report.run_id, plan, outcome, nurture)
            report.touches, report.tasks = nurture.touches, nurture.tasks
        except Exception as exc:  # a CRM refusal, an outage, or a bug: never lose the marks, never spin
            report.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CrmError) else str(exc)
            if isinstance(exc, CrmError | BudgetExhausted):
                log.warning("batch of %d failed, will retry: %s", len(marks), exc)
            else:
                log.exception("batch of %d failed unexpectedly (run %s), will retry", len(marks), report.run_id)
            self._give_up_or_retry(marks, report.run_id, exc)
            return report
        report.writes, report.creates, report.dead_letters = outcome.writes, outcome.creates, outcome.dead_letters
        retry_ids = {i for p in outcome.retry_people for i in _ids(plan, p)}
        again = [m for m in marks if m.object_id in retry_ids]
        report.retried = len(again)
        metrics_batch_done(self.engine, marks, report)  # before release: reads the marks' marked_at
        release(self.engine, [m for m in marks if m.object_id not in retry_ids],
                [(m, self._backoff(m)) for m in again], owner=self.owner)
        report.seconds = time.monotonic() - started
        log.info("batch done", extra={"ctx_run_id": report.run_id, "ctx_claimed": report.claimed,
                                      "ctx_writes": report.writes, "ctx_creates": report.creates,
                                      "ctx_dead_letters": report.dead_letters})
        return report

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

    def _give_up_or_retry(self, marks: list[Mark], run_id: str, exc: Exception) -> None:
        """Back off. A budget pause is no failure of the records. A CRM that is down, rate-limiting or
        refusing our credentials fails every record alike: those back off but never become dead letters
        (they would only hide the outage). Anything else that fails a batch max_attempts times is a dead
        letter, so one poison record cannot block the rest forever."""
        if isinstance(exc, BudgetExhausted):
            release(self.engine, [], [(m, 60.0) for m in marks], owner=self.owner, count_attempts=False)
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
        release(self.engine, spent, [(m, self._backoff(m)) for m in marks if m not in spent], owner=self.owner)

    def _backoff(self, mark: Mark) -> float:
        return min(3600.0, 5.0 * (2 ** mark.attempts))


def _ids(plan: BatchPlan, index: int) -> set[str]:
    person = plan.people[index]
    ids = {person.link.hubspot_id, person.link.salesforce_id}
    if person.hubspot:
        ids.add(person.hubspot.id)
    if person.salesforce:
        ids.add(person.salesforce.id)
    return {i for i in ids if i}
