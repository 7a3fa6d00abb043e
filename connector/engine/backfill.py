"""Backfill: walk every contact on both sides, pair and reconcile them all in large batches.

The walk's pages are the reads: records are paired from them in memory (SnapshotLookup), so the only
other calls are the writes, each at its endpoint's batch limit. Re-running after a crash repeats the
walk (cheap: 200 or 2,000 records a page) and writes nothing for pairs that already converged, so a
backfill resumes in effect where it stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from connector.core.pair import HubSpotRecord, SalesforceRecord
from connector.engine.apply import apply_plan, record_outcome
from connector.engine.clients import Clients
from connector.engine.executors import execute
from connector.engine.gather import gather
from connector.engine.lookup import LiveLookup, SnapshotLookup, hubspot_properties, salesforce_fields
from connector.engine.nurture_step import derive_engagement, make_brain, think
from connector.engine.plan import BatchPlan, build_plan
from connector.settings import Settings
from connector.store.claims import Mark

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


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
             progress: Callable[[str, int], None] | None = None) -> BackfillReport:
    mapping = settings.mapping
    report = BackfillReport()
    start = since or EPOCH
    hubspot: list[HubSpotRecord] = []
    for record in clients.hubspot.modified_since(start, hubspot_properties(mapping)):
        if limit is not None and len(hubspot) >= limit:
            break
        hubspot.append(record)
        if progress:
            progress("hubspot", 1)
    report.walked["hubspot"] = len(hubspot)
    salesforce: list[SalesforceRecord] = []
    for sobject in mapping.salesforce.objects:
        count = 0
        for record in clients.salesforce.modified_since(sobject, start, salesforce_fields(mapping, sobject),
                                                        include_deleted=False):
            if limit is not None and count >= limit:
                break
            salesforce.append(record)
            count += 1
            if progress:
                progress(f"salesforce.{sobject}", 1)
        report.walked[f"salesforce.{sobject}"] = count

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
