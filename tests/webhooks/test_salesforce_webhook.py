"""POST /webhooks/salesforce with real-shaped outbound messages, and hostile XML."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webhook_helpers import ORG_ID, REFERENCE, Store, with_app

from connector.settings import Settings
from connector.store.models import activity_hints, dirty, engagement, inbox

MESSAGE = (REFERENCE / "salesforce-outbound-message.xml").read_text()
# The acknowledgement Salesforce expects, as the reference file has it (its explanatory comment aside).
EXPECTED_ACK = re.sub(r"<!--.*?-->\n", "", (REFERENCE / "salesforce-outbound-ack.xml").read_text(), flags=re.S)

LEAD = """<sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
 <sf:Id>00Q5e00000Lead{n:04d}</sf:Id><sf:Email>lead{n}@example.com</sf:Email>
 <sf:SystemModstamp>2026-11-20T14:03:11.000Z</sf:SystemModstamp></sObject>"""
CONTACT = """<sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
 <sf:Id>0035e00000Cont{n:04d}</sf:Id><sf:Email>contact{n}@example.com</sf:Email></sObject>"""
TASK = """<sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
 <sf:Id>00T5e00000Task{n:04d}</sf:Id><sf:WhoId>00Q5e00000Lead{n:04d}</sf:WhoId><sf:Status>Completed</sf:Status>
 <sf:TaskSubtype>Call</sf:TaskSubtype><sf:CompletedDateTime>2026-11-20T15:00:00.000Z</sf:CompletedDateTime>
 </sObject>"""
MEMBER = """<sObject xsi:type="sf:CampaignMember" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
 <sf:Id>00v5e00000Memb{n:04d}</sf:Id><sf:ContactId>0035e00000Cont{n:04d}</sf:ContactId>
 <sf:HasResponded>true</sf:HasResponded><sf:CampaignId>7015e000000Camp</sf:CampaignId>
 <sf:LastModifiedDate>2026-11-20T15:00:00.000Z</sf:LastModifiedDate></sObject>"""


def envelope(sobjects: list[str], org: str = ORG_ID, session: str = '<SessionId xsi:nil="true"/>') -> bytes:
    notes = "".join(f"<Notification><Id>04l5e00000N{i:07d}</Id>{s}</Notification>" for i, s in enumerate(sobjects))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId>
<ActionId>04k5e000000AbCdAAA</ActionId>{session}
<EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/59.0/00D</EnterpriseUrl>
<PartnerUrl>https://x.my.salesforce.com/services/Soap/u/59.0/00D</PartnerUrl>{notes}</notifications>
</soapenv:Body></soapenv:Envelope>""".encode()


def post(client: FlaskClient, body: bytes, path: str = "/webhooks/salesforce") -> object:
    return client.post(path, data=body, content_type="text/xml; charset=utf-8", headers={"SOAPAction": '""'})


def test_the_reference_message_is_stored_and_acknowledged_byte_for_byte(client: FlaskClient, store: Store) -> None:
    response = post(client, MESSAGE.encode())
    assert response.status_code == 200
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.get_data(as_text=True) == EXPECTED_ACK.rstrip("\n")
    row = store.rows(inbox)[0]
    assert (row.source, row.object_type, row.object_id) == ("salesforce", "Lead", "00Q5e00000AbCdEEAZ")
    assert row.payload["fields"]["Email"] == "jane.doe@acme-analytics.example"
    assert [(d.system, d.object_id, d.object_type) for d in store.rows(dirty)] == [
        ("salesforce", "00Q5e00000AbCdEEAZ", "Lead")]


def test_100_mixed_notifications_in_one_message(client: FlaskClient, store: Store) -> None:
    sobjects = [[LEAD, CONTACT, TASK, MEMBER][n % 4].format(n=n) for n in range(100)]
    assert post(client, envelope(sobjects)).status_code == 200
    assert store.inbox() == 100
    types = {r.object_type for r in store.rows(inbox)}
    assert types == {"Lead", "Contact", "Task", "CampaignMember"}
    # Activity is only a hint until the worker reads it back from Salesforce: nothing reaches the ledger.
    assert store.count(engagement) == 0
    assert {(r.sobject, r.person_id[:3]) for r in store.rows(activity_hints)} == {("Task", "00Q"),
                                                                                   ("CampaignMember", "003")}
    assert store.count(dirty) == 100  # 25 leads, 25 contacts, and the 50 people the tasks/members point at
    assert post(client, envelope(sobjects)).status_code == 200  # Salesforce's retry: acknowledged, stored once
    assert store.inbox() == 100 and store.count(activity_hints) == 50


def test_the_session_id_is_never_kept(client: FlaskClient, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    secret_session = "00D5e000000AbCd!AQ4AQLive.Session.Token"
    assert post(client, envelope([LEAD.format(n=1)], session=f"<SessionId>{secret_session}</SessionId>"))\
        .status_code == 200
    assert secret_session not in str(store.rows(inbox)) and secret_session not in caplog.text
    assert post(client, envelope([LEAD.format(n=2)], org="00D000000000001AAA",
                                 session=f"<SessionId>{secret_session}</SessionId>")).status_code == 401
    assert secret_session not in caplog.text


def test_other_orgs_are_refused(client: FlaskClient, store: Store) -> None:
    response = post(client, envelope([LEAD.format(n=1)], org="00D000000000001AAA"))
    assert response.status_code == 401 and "not an accepted org" in response.json["message"]
    assert not store.stored_anything()


def test_the_15_character_org_id_matches(client: FlaskClient, store: Store) -> None:
    assert post(client, envelope([LEAD.format(n=1)], org=ORG_ID[:15])).status_code == 200


def test_path_token(make_app: Callable[..., Flask], settings: Settings, store: Store) -> None:
    import dataclasses

    from webhook_helpers import env_for

    from connector.settings import Secrets
    env = env_for(settings.app.store.url, SF_PATH_TOKEN="tok-123")
    custom = dataclasses.replace(with_app(settings, salesforce={"outbound_path_token_env": "SF_PATH_TOKEN"}),
                                 secrets=Secrets(env))
    client = make_app(custom).test_client()
    body = envelope([LEAD.format(n=1)])
    assert post(client, body).status_code == 401
    assert post(client, body, "/webhooks/salesforce/wrong").status_code == 401
    assert post(client, body, "/webhooks/salesforce/tok-123").status_code == 200


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol4;</soapenv:Body>
</soapenv:Envelope>"""


def xxe(path: Path) -> bytes:
    return envelope([LEAD.format(n=1).replace("lead1@example.com", "&xxe;")]).replace(
        b'<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{path}">]>'.encode())


def test_xml_bomb_and_external_entities_are_refused(client: FlaskClient, store: Store, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP-SECRET-FILE-CONTENT")
    for body in (BOMB, xxe(secret_file)):
        response = post(client, body)
        assert response.status_code == 400
        assert "DTD" in response.json["message"]
        assert "TOP-SECRET" not in response.get_data(as_text=True)
    assert not store.stored_anything()


@pytest.mark.parametrize(("body", "message"), [
    (b"not xml", "not well-formed"),
    (b"<a/>", "SOAP 1.1 Envelope"),
    (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>', "no notifications"),
    (envelope([]), "no Notification"),
    (envelope(['<sObject xsi:type="sf:Lead"/>']), "no valid Id"),
    (envelope([LEAD.format(n=1)] * 101), "at most 100"),
])
def test_malformed_messages_are_400(client: FlaskClient, store: Store, body: bytes, message: str) -> None:
    response = post(client, body)
    assert response.status_code == 400 and message in response.json["message"]
    assert not store.stored_anything()
