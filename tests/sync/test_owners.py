"""Task owners across the CRMs: the integration user is nobody, owner ids are translated by email, and an
owner id of one CRM is never written into the other."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connector.engine.executors import _create_tasks
from connector.engine.gather import gather
from connector.engine.nurture_step import NurtureOutcome
from connector.engine.plan import BatchPlan
from connector.store.claims import Mark

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


class Alert:
    subject, priority, body, key = "New MQL: follow up", "High", "why", "became_mql"
    due_at = NOW

    def __init__(self, owner_id: str | None) -> None:
        self.owner_id = owner_id


def _mark(hs_id: str) -> Mark:
    return Mark("hubspot", hs_id, "contact", 1, 0, True)


def _synced(rig: Any, **props: str) -> tuple[str, str, BatchPlan]:
    hs_id = rig.hs_create(**props)
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    gathered = gather(rig.engine, rig.settings.mapping, rig.worker.lookup, [_mark(hs_id)])
    return hs_id, lead_id, BatchPlan(gathered.people, [])


def _settings(rig: Any, target: str, **pools: list[str]) -> Any:
    owners = rig.settings.alerts.owners.model_copy(update=pools)
    return replace(rig.settings, alerts=rig.settings.alerts.model_copy(update={"target": target, "owners": owners}))


def _sf_tasks(rig: Any, lead_id: str) -> list[dict[str, Any]]:
    return [t for t in rig.boxes.salesforce.state.records["Task"].values() if t.get("WhoId") == lead_id]


def test_a_lead_the_integration_user_owns_goes_to_the_round_robin(rig: Any) -> None:
    _, lead_id, plan = _synced(rig, email="rr@example.org", firstname="Rr", lastname="Robin", company="R")
    integration = rig.boxes.salesforce.store.api_user_id
    assert rig.sf("Lead", lead_id)["OwnerId"] == integration  # the connector created it
    reps = rig.boxes.salesforce.owner_ids()
    settings = _settings(rig, "salesforce", round_robin_salesforce=[integration, reps[1], reps[2]])
    outcome = NurtureOutcome()
    _create_tasks(settings, rig.clients, plan, outcome, [(0, Alert(integration), Alert.subject)], NOW)
    assert not outcome.failed, outcome.notes
    [task] = _sf_tasks(rig, lead_id)
    assert task["OwnerId"] in (reps[1], reps[2])  # never the integration user, even when listed in the pool


def test_a_hubspot_owner_becomes_the_salesforce_user_with_the_same_email(rig: Any) -> None:
    hubspot_owner = rig.boxes.hubspot.state.owners[2]  # Jordan Lee in both sandboxes
    _, lead_id, plan = _synced(rig, email="mapped@example.org", firstname="Map", lastname="Ped", company="M",
                               hubspot_owner_id=hubspot_owner["id"])
    integration = rig.boxes.salesforce.store.api_user_id
    settings = _settings(rig, "salesforce", round_robin_salesforce=[])
    _create_tasks(settings, rig.clients, plan, NurtureOutcome(), [(0, Alert(integration), Alert.subject)], NOW)
    [task] = _sf_tasks(rig, lead_id)
    users = rig.boxes.salesforce.state.records["User"]
    assert users[task["OwnerId"]]["Email"] == hubspot_owner["email"]


def test_a_salesforce_owner_is_never_sent_as_hubspot_owner_id(rig: Any) -> None:
    hs_id, lead_id, plan = _synced(rig, email="sfowner@example.org", firstname="Sf", lastname="Owner", company="S")
    rep = rig.boxes.salesforce.owner_ids()[1]  # Sam Rivera
    rig.sf_edit("Lead", lead_id, {"OwnerId": rep})
    gathered = gather(rig.engine, rig.settings.mapping, rig.worker.lookup, [_mark(hs_id)])
    plan = BatchPlan(gathered.people, [])
    settings = _settings(rig, "hubspot", round_robin_hubspot=[])
    outcome = NurtureOutcome()
    _create_tasks(settings, rig.clients, plan, outcome, [(0, Alert(rep), Alert.subject)], NOW)
    assert not outcome.failed, outcome.notes  # today: INVALID_OPTION for a 005… id
    [task] = [t for t in rig.boxes.hubspot.state.tasks.values()
              if t.properties.get("nurture_alert_key") == f"{hs_id}:became_mql"]
    sam = next(o for o in rig.boxes.hubspot.state.owners if o["email"] == "sam.rivera@example-sales.com")
    assert task.properties["hubspot_owner_id"] == sam["id"]


def test_an_unknown_owner_leaves_the_hubspot_task_unassigned_not_refused(rig: Any) -> None:
    hs_id, _, plan = _synced(rig, email="nobody@example.org", firstname="No", lastname="Body", company="N")
    settings = _settings(rig, "hubspot", round_robin_hubspot=["123456"])  # not an owner of this portal
    outcome = NurtureOutcome()
    _create_tasks(settings, rig.clients, plan, outcome, [(0, Alert("005000000000009AAA"), Alert.subject)], NOW)
    assert not outcome.failed, outcome.notes
    [task] = [t for t in rig.boxes.hubspot.state.tasks.values()
              if t.properties.get("nurture_alert_key") == f"{hs_id}:became_mql"]
    assert not task.properties.get("hubspot_owner_id")
