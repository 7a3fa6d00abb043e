"""Outbound messages: SOAP shape, batching, and retries until the receiver answers <Ack>true</Ack>."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from defusedxml import ElementTree

from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import SoapReceiver, always_ack, client, start_sandbox

REFERENCE = Path("/work/shared/reference/salesforce-outbound-ack.xml")
NS = {"soapenv": "http://schemas.xmlsoap.org/soap/envelope/", "om": "http://soap.sforce.com/2005/09/outbound",
      "sf": "urn:sobject.enterprise.soap.sforce.com", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
LEAD = {"FirstName": "Jane", "LastName": "Doe", "Company": "Acme Analytics", "Email": "jane@acme.example"}


def reference_ack() -> str:
    if REFERENCE.exists():
        return REFERENCE.read_text(encoding="utf-8")
    from connector.sandbox.salesforce.testing import ACK

    return ACK


@pytest.fixture(scope="module")
def org_receiver() -> Iterator[SoapReceiver]:
    r = SoapReceiver(always_ack).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def org(org_receiver: SoapReceiver) -> Iterator[SalesforceSandbox]:
    sb = start_sandbox(outbound_url=org_receiver.url, outbound_window_s=0.2)
    yield sb
    sb.stop()


@pytest.fixture
def sandbox(org: SalesforceSandbox, org_receiver: SoapReceiver) -> SalesforceSandbox:
    org.reset()
    org_receiver.received.clear()
    org_receiver.script = always_ack
    return org


def test_retries_until_acknowledged(sandbox: SalesforceSandbox, org_receiver: SoapReceiver) -> None:
    answers = [(500, "oops"), (200, "<ok/>"), (200, reference_ack())]
    org_receiver.script = lambda n: answers[min(n, len(answers)) - 1]
    client(sandbox).Lead.create(LEAD)
    assert org_receiver.acked.wait(10), "the sandbox should keep retrying until acknowledged"
    assert sandbox.deliverer.wait_idle(5)
    assert len(org_receiver.received) == 3
    assert [(e.status, e.acknowledged) for e in sandbox.deliverer.log] == [(500, False), (200, False), (200, True)]
    bodies = {r["body"] for r in org_receiver.received}
    assert len(bodies) == 1, "every attempt resends the same notification"


def test_message_shape(sandbox: SalesforceSandbox, org_receiver: SoapReceiver) -> None:
    lead_id = client(sandbox).Lead.create({**LEAD, "HubSpot_Id__c": "42"})["id"]
    sandbox.flush_outbound()
    assert sandbox.deliverer.wait_idle(5)
    request = org_receiver.received[0]
    assert request["headers"]["Soapaction"] == '""'
    assert request["headers"]["Content-Type"] == "text/xml; charset=utf-8"
    root = ElementTree.fromstring(request["body"])
    notifications = root.find("soapenv:Body/om:notifications", NS)
    assert notifications is not None
    assert notifications.findtext("om:OrganizationId", namespaces=NS) == sandbox.org_id
    assert notifications.findtext("om:ActionId", namespaces=NS).startswith("04k")
    session = notifications.find("om:SessionId", NS)
    assert session is not None and session.get(f"{{{NS['xsi']}}}nil") == "true"
    assert notifications.findtext("om:EnterpriseUrl", namespaces=NS).startswith(
        f"{sandbox.instance_url}/services/Soap/c/59.0/")
    assert notifications.findtext("om:PartnerUrl", namespaces=NS).startswith(
        f"{sandbox.instance_url}/services/Soap/u/59.0/")
    [notification] = notifications.findall("om:Notification", NS)
    assert notification.findtext("om:Id", namespaces=NS).startswith("04l")
    sobject = notification.find("om:sObject", NS)
    assert sobject is not None and sobject.get(f"{{{NS['xsi']}}}type") == "sf:Lead"
    assert sobject.findtext("sf:Id", namespaces=NS) == lead_id
    assert sobject.findtext("sf:Email", namespaces=NS) == LEAD["Email"]
    assert sobject.findtext("sf:HubSpot_Id__c", namespaces=NS) == "42"
    assert sobject.findtext("sf:SystemModstamp", namespaces=NS).endswith("Z")


def test_changes_are_batched_per_object(sandbox: SalesforceSandbox, org_receiver: SoapReceiver) -> None:
    sf = client(sandbox)
    sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "Acme"} for n in range(3)]})
    sandbox.flush_outbound()
    assert sandbox.deliverer.wait_idle(5)
    assert len(org_receiver.received) == 1
    assert org_receiver.received[0]["body"].count("<Notification>") == 3


def test_rolled_back_and_seeded_records_send_nothing(sandbox: SalesforceSandbox,
                                                     org_receiver: SoapReceiver) -> None:
    from connector.sandbox.fake_people import generate_people

    sandbox.seed(generate_people(5, seed=1))
    client(sandbox).restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Lead"}, "LastName": "A", "Company": "Acme"},
        {"attributes": {"type": "Lead"}, "LastName": "B"}]})
    assert sandbox.flush_outbound() == 0
    assert org_receiver.received == []


def test_ui_edit_fires_an_outbound_message(sandbox: SalesforceSandbox, org_receiver: SoapReceiver) -> None:
    lead_id = client(sandbox).Lead.create(LEAD)["id"]
    sandbox.flush_outbound()
    sandbox.deliverer.wait_idle(5)
    org_receiver.received.clear()
    answer = sandbox.requests_session().post(f"{sandbox.instance_url}/__sandbox/ui-edit", json={
        "sobject": "Lead", "id": lead_id, "fields": {"Status": "Working - Contacted"}}, timeout=5)
    assert answer.status_code == 200
    sandbox.flush_outbound()
    assert sandbox.deliverer.wait_idle(5)
    assert "<sf:Status>Working - Contacted</sf:Status>" in org_receiver.received[0]["body"]
    bad = sandbox.requests_session().post(f"{sandbox.instance_url}/__sandbox/ui-edit", json={
        "sobject": "Lead", "id": lead_id, "fields": {"Status": "Nope"}}, timeout=5)
    assert bad.status_code == 400
    assert bad.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_more_than_100_changes_split_into_messages(sandbox: SalesforceSandbox,
                                                   org_receiver: SoapReceiver) -> None:
    sf = client(sandbox)
    for chunk in range(2):
        sf.restful("composite/sobjects", method="POST", json={"records": [
            {"attributes": {"type": "Contact"}, "LastName": f"C{chunk}-{n}"} for n in range(75)]})
    sandbox.flush_outbound()
    assert sandbox.deliverer.wait_idle(5)
    counts = sorted(r["body"].count("<Notification>") for r in org_receiver.received)
    assert sum(counts) == 150 and max(counts) <= 100
