"""Backfill: walk every contact on both sides, pair and reconcile them all in large batches.

The walk's pages are the reads: records are paired from them in memory (SnapshotLookup), so the only
other calls are the writes, each at its endpoint's batch limit. The walk is spooled (backfill_spool): an
interrupted walk resumes from its cursor (every source, so nothing planned is older than this walk); the
spool is dropped once the walk is whole, so a run stopped while writing walks afresh and writes nothing
for pairs that already converged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from connector.core.pair import HubSpotRecord, SalesforceRecord
from connector.engine.apply import apply_plan, record_outcome
from connector.engine.backfill_spool import Record, WalkSpool
from connector.engine.clients import Clients
from connector.engine.executors import execute
from connector.engine.gather import gather
from connector.engine.lookup import LiveLookup, SnapshotLookup, hubspot_properties, salesforce_fields
from connector.engine.nurture_step import derive_engagement, make_brain, think
from connector.engine.plan import BatchPlan, build_plan
from connector.settings import Settings
from connector.store.claims import Mark

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _walk(source: str, fetch: Callable[[datetime], Iterable[Record]], start: datetime, limit: int | None,
          spool: WalkSpool | None, progress: Callable[[str, int], None] | None) -> list[Record]:
    """One source's records, oldest change first; with a spool, what an interrupted run walked is kept and
    the walk continues from its cursor."""
    records: dict[str, Record] = spool.load(source) if spool else {}
    if records and progress:
        progress(source, len(records))
    # Even a source walked to its end last time continues from its cursor: what changed since is read again,
    # so no plan is ever made from a copy older than this walk.
    begin = (spool.resume_from(source) if spool else None) or start
    count = 0
    last: datetime | None = None
    try:
        for record in fetch(begin):
            if limit is not None and count >= limit:
                break
            if record.id not in records and progress:
                progress(source, 1)
            records[record.id] = record  # a record changed meanwhile is walked again: the newer copy wins
            count += 1
            last = record.updated_at or last
            if spool is not None:
                spool.add(source, record)
    except BaseException:
        if spool is not None:
            spool.flush(source, last)  # interrupted: keep what was walked, for the next run
        raise
    if spool is not None:
        spool.flush(source, last, complete=True)
    return list(records.values())


@dataclass
class BackfillReport:
    walked: dict[str, int] = field(default_factory=dict)
    people: int = 0
    writes: int = 0
    creates: int = 0
    dead_letters: int = 0
    plans: list[BatchPlan] = field(default_factory=list)


def backfill(settings: Settings, engine: Engine, clients: Clients, since: datetime | None = None,
             limit: int | None = None, dry_run: bool = False, lengths: dict[str, dict[str, int]] | None = None,
             progress: Callable[[str, int], None] | None = None, spool_dir: Path | None = None) -> BackfillReport:
    mapping = settings.mapping
    report = BackfillReport()
    start = since or EPOCH
    # A limited or dry run is a look, not a job to resume: only a real, whole backfill keeps a spool.
    spool = WalkSpool(spool_dir, start) if spool_dir is not None and limit is None and not dry_run else None
    hubspot = [r for r in _walk("hubspot", lambda s: clients.hubspot.modified_since(s, hubspot_properties(mapping)),
                                start, limit, spool, progress) if isinstance(r, HubSpotRecord)]
    report.walked["hubspot"] = len(hubspot)
    salesforce: list[SalesforceRecord] = []
    for sobject in mapping.salesforce.objects:
        fields = salesforce_fields(mapping, sobject)
        walked = [r for r in _walk(f"salesforce.{sobject}",
                                   lambda s, o=sobject, f=fields: clients.salesforce.modified_since(
                                       o, s, f, include_deleted=False),
                                   start, limit, spool, progress) if isinstance(r, SalesforceRecord)]
        salesforce.extend(walked)
        report.walked[f"salesforce.{sobject}"] = len(walked)

    if spool is not None:
        # The walk is whole. From here a stop means "walk again": a plan must never come from records an
        # earlier run saw, once writes may have happened since.
        spool.clear()
    lookup = SnapshotLookup(hubspot, salesforce, LiveLookup(mapping, clients.hubspot, clients.salesforce))
    lengths = lengths or {o: clients.salesforce.lengths(o) for o in mapping.salesforce.objects}
    marks = [Mark("hubspot", r.id, "contact", 0, 0, False) for r in hubspot]
    marks += [Mark("salesforce", r.id, r.type, 0, 0, False) for r in salesforce]
    # One plan for everyone: pairing sees every record at once (no person is paired twice across
    # chunks), and each kind of write goes out at its endpoint's full batch size.
    gathered = gather(engine, mapping, lookup, marks)
    plan = build_plan(mapping, gathered, lengths)
    now = datetime.now(UTC)
    if not dry_run:
        derive_engagement(settings, engine, plan, now)
    nurture = think(settings, make_brain(settings), engine, plan, now, clients)  # write-back joins the same batches
    report.people = len(plan.people)
    report.plans.append(plan)
    if dry_run:
        return report
    # Like the worker's batches, a backfill is non-urgent: its writes wait while Salesforce usage is above the
    # daily share (the walk itself has updated the usage the org reports).
    clients.budget.check("salesforce", urgent=False)
    outcome = apply_plan(plan, clients, mapping)
    execute(settings, clients, plan, nurture, now, write_ok=lambda i: i not in outcome.failed_sides)
    record_outcome(engine, uuid.uuid4().hex, plan, outcome, nurture)
    report.writes, report.creates, report.dead_letters = outcome.writes, outcome.creates, outcome.dead_letters
    if progress:
        progress("reconciled", len(plan.people))
    return report
