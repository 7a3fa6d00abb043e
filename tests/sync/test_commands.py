"""The sync and brain commands as an admin runs them, over the sandbox CRMs."""

from __future__ import annotations

import json
from typing import Any

import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from connector.cli import cli
from connector.store.models import engagement


def _run(rig: Any, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(rig.settings.path), *args], catch_exceptions=False)


def test_worker_dry_run_prints_the_plan_and_writes_nothing(rig: Any) -> None:
    hs_id = rig.hs_create(email="dry@example.org", firstname="Dry", lastname="Run", company="D")
    rig.mark("hubspot", hs_id)
    calls_before = rig.boxes.salesforce.calls.snapshot()
    result = _run(rig, "worker", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"crm": "salesforce", "object": "Lead", "id": "(new)", "action": "create", "field": "LastName",
            "before": None, "after": "Run", "rule": "create: HubSpot contact has no Salesforce record"} in rows
    assert not rig.boxes.salesforce.state.records["Lead"]
    writes = [k for k in rig.boxes.salesforce.calls.snapshot() if k.startswith(("PATCH", "POST /composite"))]
    assert writes == [k for k in calls_before if k.startswith(("PATCH", "POST /composite"))]
    table = _run(rig, "worker", "--dry-run")
    assert "salesforce" in table.stdout and "'Run'" in table.stdout and "->" in table.stdout


def test_worker_once_then_audit_and_dead_letters(rig: Any) -> None:
    hs_id = rig.hs_create(email="audit@example.org", firstname="Au", lastname="Dit", company="A")
    rig.mark("hubspot", hs_id)
    assert _run(rig, "worker", "--once").exit_code == 0
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    history = _run(rig, "audit", "--contact", "audit@example.org")
    assert history.exit_code == 0 and "create" in history.stdout and "LastName: None -> 'Dit'" in history.stdout

    rig.hs_edit(hs_id, lastname="")  # Salesforce refuses a Lead without LastName
    rig.mark("hubspot", hs_id)
    _run(rig, "worker", "--once")
    listing = _run(rig, "dlq", "list")
    assert "REQUIRED_FIELD_MISSING" in listing.stdout and lead_id in listing.stdout
    rig.hs_edit(hs_id, lastname="Fixed")
    replay = _run(rig, "dlq", "replay")
    assert "replaying 1 dead letter(s)" in replay.stdout
    _run(rig, "worker", "--once")
    assert rig.sf("Lead", lead_id)["LastName"] == "Fixed"
    assert "0 dead letter(s)" in _run(rig, "dlq", "list").stderr


def test_one_way_rule_puts_the_source_value_back(rig: Any) -> None:
    """lead_status is salesforce_to_hubspot: an edit in HubSpot is overwritten by Salesforce's value."""
    hs_id = rig.hs_create(email="oneway@example.org", firstname="One", lastname="Way", company="O")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.sf_edit("Lead", lead_id, {"Status": "Working - Contacted"})
    rig.hs_edit(hs_id, hs_lead_status="UNQUALIFIED")
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    assert rig.hs(hs_id)["hs_lead_status"] == "IN_PROGRESS"
    assert rig.sf("Lead", lead_id)["Status"] == "Working - Contacted"


def test_hubspot_engagement_counters_become_ledger_facts_once(rig: Any) -> None:
    hs_id = rig.hs_create(email="opens@example.org", firstname="Op", lastname="Ens", company="E")
    requests.post(f"{rig.boxes.hubspot.url}/__sandbox/engagement/contacts/{hs_id}", timeout=10,
                  json={"properties": {"hs_email_open": "3", "num_conversion_events": "1",
                                       "recent_conversion_event_name": "Pricing guide"}}).raise_for_status()
    for _ in range(2):  # read twice: the same counter values are the same facts
        rig.mark("hubspot", hs_id)
        rig.sync()
    with rig.engine.connect() as conn:
        rows = dict(conn.execute(select(engagement.c.event_type, func.count()).where(engagement.c.hubspot_id == hs_id)
                                 .group_by(engagement.c.event_type)).all())
    assert rows == {"email_open": 3, "form_submit": 1}
    assert int(rig.hs(hs_id)["nurture_engagement_score"]) > 0


def test_rescore_marks_everyone_and_writes_only_changes(rig: Any) -> None:
    hs_id = rig.hs_create(email="rescore@example.org", firstname="Re", lastname="Score", company="R")
    rig.mark("hubspot", hs_id)
    rig.sync()
    rig.mark("hubspot", hs_id)
    rig.sync()
    result = _run(rig, "rescore")
    assert "marked 1 contacts" in result.stdout
    assert rig.sync().writes == 0, "unchanged rules: nothing to write"


def test_sales_recycle_clears_then_sets_the_earlier_stage(rig: Any) -> None:
    hs_id = rig.hs_create(email="recycle@example.org", firstname="Re", lastname="Cycle", company="C",
                          jobtitle="Director")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.sf_edit("Lead", lead_id, {"Status": "Working - Contacted"})  # sales took it: SQL
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    assert rig.hs(hs_id)["lifecyclestage"] == "salesqualifiedlead"
    rig.sf_edit("Lead", lead_id, {"Status": "Closed - Not Converted"})  # sales rejected it
    for _ in range(3):  # the clear and the earlier stage go out in two passes (HubSpot's rule)
        rig.mark("salesforce", lead_id, "Lead")
        rig.mark("hubspot", hs_id)
        rig.sync()
    assert rig.hs(hs_id)["lifecyclestage"] == "lead"
    assert rig.sf("Lead", lead_id)["Lifecycle_Stage__c"] == "lead"


def test_poll_catches_a_change_whose_webhook_was_missed(rig: Any) -> None:
    hs_id = rig.hs_create(email="missed@example.org", firstname="Mis", lastname="Sed", company="M")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.hs_edit(hs_id, jobtitle="Changed while the webhook was lost")  # nobody marks it
    result = _run(rig, "poll")
    assert result.exit_code == 0 and "hubspot: " in result.stdout
    rig.sync()
    assert rig.sf("Lead", lead_id)["Title"] == "Changed while the webhook was lost"


def test_opportunity_and_closed_won_move_the_lifecycle_forward(rig: Any) -> None:
    hs_id = rig.hs_create(email="buyer@example.org", firstname="Bu", lastname="Yer", company="Buy Co")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    conversion = rig.boxes.salesforce.convert(lead_id, create_opportunity=True)
    for _ in range(2):
        rig.mark("salesforce", lead_id, "Lead")
        rig.mark("hubspot", hs_id)
        rig.sync()
    assert rig.hs(hs_id)["lifecyclestage"] == "opportunity"
    rig.sf_edit("Opportunity", conversion.opportunity_id, {"StageName": "Closed Won"})
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.hs(hs_id)["lifecyclestage"] == "customer"
    assert rig.sf("Contact", conversion.contact_id)["Lifecycle_Stage__c"] == "customer"
