"""The brain over the sandboxes: engagement drives a lead from lead to MQL, it is enrolled and moved through
its track at the configured pace (a fake clock), and sales gets exactly one task per reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.engine.scheduler import mark_due
from webhooks import create_app
from webhooks.signatures import sign_engagement

# Monday 2026-11-16, 10:00 in New York (the portal's default time zone): inside working hours.
START = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _post_engagement(rig: Any, events: list[dict[str, Any]]) -> None:
    app = create_app(rig.settings, engine=rig.engine)
    body = json.dumps({"events": events}).encode()
    headers = {"Content-Type": "application/json", **sign_engagement("test-engagement-secret", body)}
    response = app.test_client().post("/webhooks/engagement", data=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def _tasks(rig: Any, lead_id: str) -> list[dict[str, Any]]:
    return [t for t in rig.boxes.salesforce.state.records.get("Task", {}).values() if t.get("WhoId") == lead_id]


def test_engagement_drives_a_lead_to_mql_tracks_and_one_task(rig: Any) -> None:
    clock = Clock(START)
    rig.worker.clock = clock
    hs_id = rig.hs_create(email="dana@fintech.example", firstname="Dana", lastname="Ng", company="Fintech Co",
                          jobtitle="VP Engineering", industry="FINANCIAL_SERVICES", country="United States",
                          numemployees="100-500")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.hs(hs_id)["lifecyclestage"] == "lead"
    assert rig.hs(hs_id)["nurture_fit_score"] == "40"

    person = {"email": "dana@fintech.example", "hubspot_id": hs_id}
    at = (START - timedelta(hours=2)).isoformat()
    events = [
        {"id": "dl-1", "type": "content_download", "occurred_at": at, "person": person, "content_id": "guide"},
        {"id": "wb-1", "type": "webinar_attend", "occurred_at": at, "person": person, "content_id": "webinar"},
        {"id": "demo-1", "type": "demo_request", "occurred_at": at, "person": person},
    ]
    _post_engagement(rig, events)
    _post_engagement(rig, events)  # redelivered: stored once
    for _ in range(3):  # however often the contact is reconciled
        rig.mark("hubspot", hs_id)
        rig.sync()

    contact = rig.hs(hs_id)
    assert contact["lifecyclestage"] == "marketingqualifiedlead"
    assert contact["nurture_journey_stage"] == "decision"
    assert contact["nurture_track"] == "executive_decision"
    assert rig.sf("Lead", lead_id)["Lifecycle_Stage__c"] == "marketingqualifiedlead"
    subjects = sorted(t["Subject"] for t in _tasks(rig, lead_id))
    assert subjects == ["Demo requested", "New MQL: follow up"], "exactly one task per reason"
    mql_task = next(t for t in _tasks(rig, lead_id) if t["Subject"] == "New MQL: follow up")
    assert mql_task["Priority"] == "High" and "demo_request" in mql_task["Description"]
    enrolled = [e for e in rig.boxes.hubspot.state.enrollments if e.get("email") == "dana@fintech.example"]
    assert [e["workflowId"] for e in enrolled] == ["9101"] or [int(e["workflowId"]) for e in enrolled] == [9101]

    # The next touch (an executive call, 2 days' wait, 3 days' gap) is not due tomorrow...
    clock.now = START + timedelta(days=1)
    mark_due(rig.engine, clock.now)
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert len(_tasks(rig, lead_id)) == 2
    # ...but is on Thursday, when the scheduler wakes the contact without any CRM change.
    clock.now = START + timedelta(days=3, hours=1)
    assert mark_due(rig.engine, clock.now) == 1
    rig.sync()
    subjects = sorted(t["Subject"] for t in _tasks(rig, lead_id))
    assert subjects == ["Demo requested", "Executive follow-up call", "New MQL: follow up"]
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert len(_tasks(rig, lead_id)) == 3, "nothing is sent twice"


def test_explain_prints_the_reasons(rig: Any, config_dir: Any) -> None:
    from click.testing import CliRunner

    from connector.cli import cli

    hs_id = rig.hs_create(email="eli@bank.example", firstname="Eli", lastname="Bank", company="Bank",
                          jobtitle="Head of Data", industry="BANKING")
    rig.mark("hubspot", hs_id)
    rig.sync()
    result = CliRunner().invoke(cli, ["--config", str(rig.settings.path), "explain", "eli@bank.example"])
    assert result.exit_code == 0, result.output
    text = result.output.lower()
    assert "eli@bank.example" in text and "senior title" in text
    for word in ("fit", "engagement", "persona", "journey", "lifecycle", "track"):
        assert word in text, word


def test_hubspot_alert_tasks_are_looked_up_before_they_are_created(rig: Any) -> None:
    """With sales working in HubSpot, a task per lead and reason, even if the brain's state is lost."""
    from dataclasses import replace

    from connector.engine.executors import _create_tasks
    from connector.engine.gather import gather
    from connector.engine.nurture_step import NurtureOutcome
    from connector.engine.plan import BatchPlan
    from connector.store.claims import Mark

    hs_id = rig.hs_create(email="hs-sales@example.org", firstname="Hs", lastname="Sales", company="H")
    rig.mark("hubspot", hs_id)
    rig.sync()
    marks = [Mark("hubspot", hs_id, "contact", 1, 0, True)]
    gathered = gather(rig.engine, rig.settings.mapping, rig.worker.lookup, marks)
    plan = BatchPlan(gathered.people, [])
    settings = replace(rig.settings, alerts=rig.settings.alerts.model_copy(update={"target": "hubspot"}))

    class Alert:
        subject, priority, body, key, owner_id = "Demo requested", "High", "why", "demo_request", None
        due_at = START

    for _ in range(2):  # the second time, the task is found and not created again
        _create_tasks(settings, rig.clients, plan, NurtureOutcome(), [(0, Alert(), Alert.subject)], START)
    tasks = [t for t in rig.boxes.hubspot.state.tasks.values()
             if t.properties.get("nurture_alert_key") == f"{hs_id}:demo_request"]
    assert len(tasks) == 1
