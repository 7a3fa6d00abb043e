"""Backfill over seeded sandboxes: every person ends up on both sides once, and a re-run writes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from connector.engine.backfill import backfill
from connector.sandbox.fake_people import generate_people


def test_backfill_pairs_creates_and_converges(rig: Any) -> None:
    people = generate_people(120, seed=7)
    rig.boxes.hubspot.seed(people[:60])
    rig.boxes.salesforce.seed(people[60:])
    first = backfill(rig.settings, rig.engine, rig.clients)
    assert first.walked["hubspot"] == 60 and first.walked["salesforce.Lead"] == 60
    assert first.creates > 60
    backfill(rig.settings, rig.engine, rig.clients)  # the Leads' defaulted Status flows back once
    calls_before = rig.api_calls()
    third = backfill(rig.settings, rig.engine, rig.clients)
    assert third.writes == 0, "converged data must not be written again"
    assert rig.api_calls() - calls_before <= 4, "a converged re-run is only the walk"

    leads = rig.boxes.salesforce.state.records["Lead"].values()
    stamped = Counter(lead.get("HubSpot_Id__c") for lead in leads if lead.get("HubSpot_Id__c"))
    assert stamped and max(stamped.values()) == 1, "no HubSpot contact has two Leads"
    emails = Counter(str(c.properties.get("email") or "").lower()
                     for c in rig.boxes.hubspot.state.contacts.values() if not c.archived and c.properties.get("email"))
    assert max(emails.values()) == 1


def test_backfill_dry_run_writes_nothing(rig: Any) -> None:
    rig.boxes.hubspot.seed(generate_people(10, seed=3))
    report = backfill(rig.settings, rig.engine, rig.clients, dry_run=True)
    assert report.plans and any(plan.steps for plan in report.plans)
    assert not rig.boxes.salesforce.state.records["Lead"]
    assert rig.boxes.salesforce.calls.snapshot().get("PATCH /composite/sobjects/{type}/{field}", 0) == 0


def test_a_limited_backfill_never_takes_an_unwalked_record_for_deleted(rig: Any) -> None:
    from datetime import UTC, datetime, timedelta

    hs_id = rig.hs_create(email="partial@example.org", firstname="Par", lastname="Tial", company="P")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    import time

    time.sleep(1.1)  # SOQL compares SystemModstamp in whole seconds
    since = datetime.now(UTC) - timedelta(milliseconds=100)
    rig.hs_edit(hs_id, jobtitle="Only HubSpot changed")  # the Lead is not in a walk --since now
    report = backfill(rig.settings, rig.engine, rig.clients, since=since)
    assert report.walked["salesforce.Lead"] == 0
    link = rig.link(hubspot_id=hs_id)
    assert link.salesforce_id == lead_id, "still linked"
    assert rig.sf("Lead", lead_id)["Title"] == "Only HubSpot changed"
