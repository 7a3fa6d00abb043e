"""Closing the loop in the CRMs: a lead that leaves a track leaves its workflows, lists and campaigns;
opt-outs and bounces cross over; v4 flow ids are translated to the legacy ids enrollment takes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from webhooks import create_app
from webhooks.signatures import sign_engagement

START = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # a Monday, inside working hours in New York


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _engage(rig: Any, hs_id: str, email: str) -> None:
    person = {"email": email, "hubspot_id": hs_id}
    at = (START - timedelta(hours=2)).isoformat()
    events = [
        {"id": f"{hs_id}-dl", "type": "content_download", "occurred_at": at, "person": person, "content_id": "guide"},
        {"id": f"{hs_id}-wb", "type": "webinar_attend", "occurred_at": at, "person": person, "content_id": "webinar"},
        {"id": f"{hs_id}-demo", "type": "demo_request", "occurred_at": at, "person": person},
    ]
    body = json.dumps({"events": events}).encode()
    headers = {"Content-Type": "application/json", **sign_engagement("test-engagement-secret", body)}
    answer = create_app(rig.settings, engine=rig.engine).test_client().post("/webhooks/engagement", data=body,
                                                                            headers=headers)
    assert answer.status_code == 200


def _executive_on_track(rig: Any, email: str) -> str:
    rig.worker.clock = Clock(START)
    hs_id = rig.hs_create(email=email, firstname="Dana", lastname="Ng", company="Fintech Co",
                          jobtitle="VP Engineering", industry="FINANCIAL_SERVICES", country="United States",
                          numemployees="100-500")
    rig.mark("hubspot", hs_id)
    rig.sync()
    _engage(rig, hs_id, email)
    for _ in range(2):
        rig.mark("hubspot", hs_id)
        rig.sync()
    assert rig.link(hubspot_id=hs_id).brain["track"] == "executive_decision"
    return hs_id


def _enrollments(rig: Any, email: str) -> list[tuple[int, bool]]:
    return [(int(e["workflowId"]), e["active"]) for e in rig.boxes.hubspot.state.enrollments if e["email"] == email]


def test_reaching_the_goal_unenrolls_from_the_tracks_workflow(rig: Any) -> None:
    hs_id = _executive_on_track(rig, "goal@fintech.example")
    assert _enrollments(rig, "goal@fintech.example") == [(9101, True)]
    rig.hs_edit(hs_id, lifecyclestage="salesqualifiedlead")  # sales took it: the track's goal
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.link(hubspot_id=hs_id).brain["track"] != "executive_decision"
    assert _enrollments(rig, "goal@fintech.example") == [(9101, False)]
    exits = [r.message for r in rig.audit_rows() if r.message and "left track" in r.message]
    assert exits == ["left track executive_decision: goal"]


def test_a_v4_flow_id_is_enrolled_and_unenrolled_by_its_legacy_id(rig: Any) -> None:
    requests.post(f"{rig.boxes.hubspot.url}/__sandbox/workflow-id-mappings",
                  json={"flowId": 9101, "workflowId": 4101}, timeout=5).raise_for_status()
    hs_id = _executive_on_track(rig, "flow@fintech.example")
    assert _enrollments(rig, "flow@fintech.example") == [(4101, True)]  # today: enrolled in 9101, a flow id
    rig.hs_edit(hs_id, lifecyclestage="salesqualifiedlead")
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert _enrollments(rig, "flow@fintech.example") == [(4101, False)]


def test_a_salesforce_opt_out_unsubscribes_the_hubspot_contact_from_all_email(rig: Any) -> None:
    hs_id = rig.hs_create(email="optout@example.org", firstname="Opt", lastname="Out", company="O")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.sf_edit("Lead", lead_id, {"HasOptedOutOfEmail": True})
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    status = requests.get(f"{rig.boxes.hubspot.url}/communication-preferences/v4/statuses/optout@example.org/"
                          "unsubscribe-all", params={"channel": "EMAIL"}, timeout=5,
                          headers={"Authorization": f"Bearer {rig.boxes.hubspot.access_token}"}).json()
    assert [r["status"] for r in status["results"]] == ["UNSUBSCRIBED"]
    assert rig.hs(hs_id)["hs_email_optout"] == "true"


def test_a_hubspot_hard_bounce_opts_the_salesforce_lead_out(rig: Any) -> None:
    hs_id = rig.hs_create(email="bounce@example.org", firstname="Bo", lastname="Unce", company="B")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    contact = rig.boxes.hubspot.state.contacts[hs_id]
    contact.properties["hs_email_hard_bounce_reason"] = "550 mailbox unavailable"  # HubSpot's own mailer sets it
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.sf("Lead", lead_id)["HasOptedOutOfEmail"] is True


def test_a_track_exit_sets_the_campaign_member_status(rig: Any) -> None:
    from connector.engine.nurture_step import NurtureOutcome
    from connector.engine.track_exits import _apply, _Exits

    api = rig.sf_api()
    lead = api.Lead.create({"LastName": "Member", "Company": "Acme", "Email": "member@example.org"})["id"]
    campaign = api.Campaign.create({"Name": "Integrations webinar"})["id"]
    api.CampaignMember.create({"CampaignId": campaign, "LeadId": lead, "Status": "Sent"})
    other = api.Campaign.create({"Name": "Not a member"})["id"]
    outcome = NurtureOutcome()
    _apply(rig.clients, outcome, _Exits(members=[(0, campaign, lead, "Responded"), (0, other, lead, "Responded")]))
    [member] = [m for m in rig.boxes.salesforce.state.records["CampaignMember"].values()]
    assert member["Status"] == "Responded" and member["HasResponded"] is True
    assert not outcome.failed
    _apply(rig.clients, outcome, _Exits(members=[(0, campaign, lead, "Completed")]))  # exhausted
    [member] = [m for m in rig.boxes.salesforce.state.records["CampaignMember"].values()]
    assert member["Status"] == "Completed"
    assert [n[2] for n in outcome.notes] == [f"campaign {campaign} status Responded",
                                            f"campaign {campaign} status Completed"]
