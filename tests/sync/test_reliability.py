"""Issue 11 findings over the sandboxes: an edit between read and write wins; outbound activity is a hint."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select

from connector.store.models import activity_hints, engagement
from webhooks import create_app

SOAP = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId>
<ActionId>04k5e000000Actn</ActionId><SessionId xsi:nil="true"/>
<Notification><Id>04l5e00000N{n:07d}</Id><sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
<sf:Id>{task}</sf:Id><sf:WhoId>{who}</sf:WhoId><sf:Status>Completed</sf:Status><sf:TaskSubtype>Call</sf:TaskSubtype>
<sf:LastModifiedDate>2026-11-20T15:00:00.000Z</sf:LastModifiedDate></sObject></Notification>
</notifications></soapenv:Body></soapenv:Envelope>"""


def test_an_edit_between_read_and_write_is_not_overwritten(rig: Any) -> None:
    """The finding: the connector wrote before='Amélie' 0.25 s after a person had changed it."""
    hs_id = rig.hs_create(email="amelie@example.com", firstname="Amelie", lastname="Poulain", company="Deux")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.sf_edit("Lead", lead_id, {"FirstName": "Amy"})  # Salesforce says Amy ...
    edits = []

    def person_edits_hubspot(_plan: Any) -> None:  # ... and, while the worker thinks, a person types Amélie
        if not edits:
            edits.append(1)
            rig.hs_edit(hs_id, firstname="Amélie")

    rig.worker.on_plan = person_edits_hubspot
    rig.mark("salesforce", lead_id, "Lead")
    report = rig.worker.run_batch()
    assert report is not None and report.retried >= 1
    assert rig.hs(hs_id)["firstname"] == "Amélie", "the person's edit must survive the batch that read before it"
    rig.worker.on_plan = None
    rig.mark("hubspot", hs_id)  # the webhook of that edit
    rig.sync()
    assert rig.hs(hs_id)["firstname"] == "Amélie" and rig.sf("Lead", lead_id)["FirstName"] == "Amélie"


def test_outbound_activity_counts_only_once_salesforce_confirms_it(rig: Any) -> None:
    hs_id = rig.hs_create(email="caller@example.com", firstname="Cal", lastname="Ler", company="Phones")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    real = rig.sf_api().Task.create({"WhoId": lead_id, "Subject": "Call", "Status": "Completed",
                                     "TaskSubtype": "Call"})["id"]
    app = create_app(rig.settings, engine=rig.engine)
    org = os.environ["SALESFORCE_ORG_ID"].split(",")[0]
    for n, task in enumerate([real, "00T5e00000Forgd"]):  # the second was never in Salesforce: forged
        body = SOAP.format(org=org, n=n, task=task, who=lead_id)
        token = rig.settings.secrets.get(rig.settings.app.salesforce.outbound_path_token_env)
        path = "/webhooks/salesforce" + (f"/{token}" if token else "")
        response = app.test_client().post(path, data=body, headers={"Content-Type": "text/xml"})
        assert response.status_code == 200, response.get_data(as_text=True)
    with rig.engine.connect() as conn:
        assert conn.execute(select(engagement)).all() == []  # nothing believed yet
        assert len(conn.execute(select(activity_hints)).all()) == 2
    rig.sync()
    with rig.engine.connect() as conn:
        facts = conn.execute(select(engagement.c.event_type, engagement.c.properties)).all()
        assert conn.execute(select(activity_hints)).all() == []
    assert [(f.event_type, f.properties["id"]) for f in facts] == [("call_completed", real)]


def test_a_batch_that_lost_its_lease_writes_nothing(rig: Any, monkeypatch: Any) -> None:
    """Fencing: the store stops answering the heartbeat mid-batch; the worker must not write after its
    lease could have been taken over, nor record an outcome, and the people come back for the next pass."""
    import dataclasses
    import time as clock

    import connector.engine.fencing as fencing

    hs_id = rig.hs_create(email="fenced@example.com", firstname="Fen", lastname="Ced", company="Locks")
    rig.mark("hubspot", hs_id)
    worker = rig.settings.app.worker.model_copy(update={"lease_s": 5, "heartbeat_s": 1})
    rig.worker.settings = dataclasses.replace(rig.settings, app=rig.settings.app.model_copy(update={"worker": worker}))

    def unreachable(*_: Any, **__: Any) -> bool:
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(fencing, "renew", unreachable)
    rig.worker.on_plan = lambda _plan: clock.sleep(4.2)  # the batch outlives its lease minus the margin
    before = rig.hs(hs_id)
    report = rig.worker.run_batch()
    assert report is not None and report.error and report.error.startswith("lease lost")
    assert rig.link(hubspot_id=hs_id) is None, "no outcome recorded"
    assert all(r.action != "create" for r in rig.audit_rows())
    assert rig.hs(hs_id) == before, "no write-back to HubSpot after the fence refused"
    assert not [r for r in rig.boxes.salesforce.state.records.get("Lead", {}).values()
                if r.get("Email") == "fenced@example.com"]
    monkeypatch.undo()
    rig.worker.on_plan = None
    clock.sleep(1.0)  # the abandoned lease lapses; its people are claimable again
    rig.sync()
    assert rig.link(hubspot_id=hs_id).salesforce_id
