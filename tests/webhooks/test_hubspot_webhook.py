"""POST /webhooks/hubspot through the real Flask app and a real SQLite store."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hubspot.utils.signature import Signature
from sqlalchemy import insert
from webhook_helpers import BASE, HUBSPOT_SECRET, Store, env_for, hubspot_event, hubspot_post, with_app

from connector.settings import Secrets, Settings
from connector.store.models import contacts, dirty, engagement, inbox

SUBSCRIPTIONS = ["contact.creation", "contact.propertyChange", "contact.deletion", "contact.restore"]


def test_a_batch_of_100_is_stored_with_dirty_marks(client: FlaskClient, store: Store) -> None:
    events = [hubspot_event(i, object_id=1000 + i % 40) for i in range(100)]
    response = hubspot_post(client, events)
    assert response.status_code == 200, response.json
    assert response.json == {"accepted": 100, "new": 100, "ignored": 0}
    assert store.inbox() == 100
    assert store.count(dirty) == 40
    row = store.rows(inbox)[0]
    assert (row.source, row.object_type, row.kind, row.payload["propertyName"]) == (
        "hubspot", "contact", "updated", "email")
    assert row.source_event_id == "62515:4242:0"


def test_redelivery_is_acknowledged_and_stored_once(client: FlaskClient, store: Store) -> None:
    events = [hubspot_event(i) for i in range(5)]
    assert hubspot_post(client, events).json["new"] == 5
    retry = [e | {"attemptNumber": 1} for e in events]
    second = hubspot_post(client, retry)
    assert second.status_code == 200 and second.json["new"] == 0
    assert store.inbox() == 5
    assert store.counters()["webhooks.hubspot.duplicates"] == 5
    assert store.rows(dirty)[0].version == 2  # one mark per contact per request; a redelivery re-marks


@pytest.mark.parametrize("kind", SUBSCRIPTIONS)
def test_each_contact_subscription_is_stored(client: FlaskClient, store: Store, kind: str) -> None:
    assert hubspot_post(client, [hubspot_event(1, kind=kind)]).status_code == 200
    assert [r.kind for r in store.rows(inbox)] == [
        {"creation": "created", "propertyChange": "updated", "deletion": "deleted", "restore": "restored"}[
            kind.split(".")[1]]]


def test_merge_marks_every_contact_involved(client: FlaskClient, store: Store) -> None:
    merge = hubspot_event(7, object_id=500, kind="contact.merge", primaryObjectId=500, mergedObjectIds=[501, 502],
                          newObjectId=503)
    assert hubspot_post(client, [merge]).status_code == 200
    assert {r.object_id for r in store.rows(dirty)} == {"500", "501", "502", "503"}
    assert store.rows(inbox)[0].kind == "merged"


def test_association_change_marks_the_contact_side(client: FlaskClient, store: Store) -> None:
    event = hubspot_event(8, kind="contact.associationChange", associationType="COMPANY_TO_CONTACT",
                          fromObjectId=77, toObjectId=88, associationRemoved=False, isPrimaryAssociation=True)
    del event["objectId"]
    assert hubspot_post(client, [event]).status_code == 200
    assert [r.object_id for r in store.rows(dirty)] == ["88"]


def test_privacy_deletion_erases_what_the_store_holds(client: FlaskClient, store: Store) -> None:
    with store.engine.begin() as conn:
        now = time.time()
        from datetime import UTC, datetime
        stamp = datetime.fromtimestamp(now, UTC)
        conn.execute(insert(contacts).values(email="gone@example.com", hubspot_id="900", synced={}, brain={},
                                             created_at=stamp, updated_at=stamp))
        conn.execute(insert(engagement).values(event_key="x:1", source="x", event_type="page_view",
                                               occurred_at=stamp, email="gone@example.com", properties={}))
    assert hubspot_post(client, [hubspot_event(1, object_id=900)]).status_code == 200
    deletion = hubspot_event(2, object_id=900, kind="contact.privacyDeletion")
    assert hubspot_post(client, [deletion]).status_code == 200
    assert store.count(engagement) == 0
    assert [(r.email, r.hubspot_id) for r in store.rows(contacts)] == [(None, None)]
    payloads = [r.payload for r in store.rows(inbox)]
    assert payloads == [{"erased": True}, {"erased": True}]
    assert "person900@example.com" not in json.dumps(payloads)


def test_unused_types_and_other_portals_are_acknowledged_and_counted(
        make_app: Callable[..., Flask], settings: Settings, store: Store) -> None:
    client = make_app(with_app(settings, hubspot={"portal_id": 62515})).test_client()
    events = [hubspot_event(1, kind="company.creation"), hubspot_event(2, kind="deal.propertyChange"),
              hubspot_event(3, portalId=999), hubspot_event(4)]
    response = hubspot_post(client, events)
    assert response.status_code == 200 and response.json == {"accepted": 1, "new": 1, "ignored": 3}
    assert store.inbox() == 1
    counts = store.counters()
    assert counts["webhooks.hubspot.ignored.company.creation"] == 1
    assert counts["webhooks.hubspot.ignored.other_portal"] == 1


def test_generic_object_events_for_contacts_are_understood(client: FlaskClient, store: Store) -> None:
    event = hubspot_event(1, kind="object.propertyChange", objectTypeId="0-1")
    assert hubspot_post(client, [event]).status_code == 200
    assert store.inbox() == 1


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "future", "no_timestamp", "no_signature", "uri"])
def test_bad_signatures_are_401_and_store_nothing(client: FlaskClient, store: Store, tamper: str) -> None:
    body = json.dumps([hubspot_event(1)]).encode()
    ts = str(int(time.time() * 1000))
    secret, uri, sent = HUBSPOT_SECRET, BASE + "/webhooks/hubspot", body
    if tamper == "secret":
        secret = "not-the-secret"
    elif tamper == "stale":
        ts = str(int(time.time() * 1000) - 5 * 60_000 - 1000)
    elif tamper == "future":
        ts = str(int(time.time() * 1000) + 10 * 60_000)
    elif tamper == "uri":
        uri = "https://elsewhere.example/webhooks/hubspot"
    elif tamper == "body":
        sent = body.replace(b"email", b"phone")
    headers = {"X-HubSpot-Signature-v3": Signature.get_signature(secret, body.decode(), "v3", uri, "POST", ts),
               "X-HubSpot-Request-Timestamp": ts}
    if tamper == "no_timestamp":
        del headers["X-HubSpot-Request-Timestamp"]
    if tamper == "no_signature":
        del headers["X-HubSpot-Signature-v3"]
    response = client.post("/webhooks/hubspot", data=sent, headers=headers, content_type="application/json")
    assert response.status_code == 401
    assert response.json["error"] == "signature" and response.json["message"]
    assert HUBSPOT_SECRET not in response.get_data(as_text=True)
    assert not store.stored_anything()
    assert store.counters() == {"webhooks.hubspot.rejected.signature": 1}


def test_signed_by_the_sdk_directly_is_accepted(client: FlaskClient, store: Store) -> None:
    body = json.dumps([hubspot_event(1)])
    ts = str(int(time.time() * 1000))
    sig = Signature.get_signature(HUBSPOT_SECRET, body, "v3", "http://localhost/webhooks/hubspot", "POST", ts)
    response = client.post("/webhooks/hubspot", data=body, content_type="application/json",
                           headers={"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": ts})
    assert response.status_code == 200 and store.inbox() == 1


def test_v1_and_v2_only_where_enabled(make_app: Callable[..., Flask], settings: Settings, store: Store) -> None:
    body = json.dumps([hubspot_event(1)])
    v2 = Signature.get_signature(HUBSPOT_SECRET, body, "v2", "http://localhost/webhooks/hubspot", "POST")
    headers = {"X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2"}
    default = make_app().test_client()
    assert default.post("/webhooks/hubspot", data=body, headers=headers,
                        content_type="application/json").status_code == 401
    legacy = make_app(with_app(settings, hubspot={"signature_versions": ["v2", "v3"]})).test_client()
    assert legacy.post("/webhooks/hubspot", data=body, headers=headers,
                       content_type="application/json").status_code == 200
    assert store.inbox() == 1


def test_uri_behind_a_trusted_proxy(make_app: Callable[..., Flask], settings: Settings, store: Store) -> None:
    public = "https://hooks.acme.example/nurture/webhooks/hubspot?x=%2Fy"
    body = json.dumps([hubspot_event(1)]).encode()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.acme.example",
                 "X-Forwarded-Prefix": "/nurture"}
    from webhooks.signatures import sign_hubspot_v3
    headers = {**sign_hubspot_v3(HUBSPOT_SECRET, "POST", public, body), **forwarded}
    untrusted = make_app().test_client()
    assert untrusted.post("/webhooks/hubspot?x=%2Fy", data=body, headers=headers,
                          content_type="application/json").status_code == 401
    trusted = make_app(with_app(settings, web={"trusted_proxies": 1})).test_client()
    assert trusted.post("/webhooks/hubspot?x=%2Fy", data=body, headers=headers,
                        content_type="application/json").status_code == 200
    # A public URL needs the Salesforce outbound path token too (webhooks/security_policy.py).
    public_settings = dataclasses.replace(
        with_app(settings, web={"public_base_url": "https://hooks.acme.example/nurture"}),
        secrets=Secrets(env_for(settings.app.store.url, SALESFORCE_OUTBOUND_TOKEN="path-token-0123456789")))
    base = make_app(public_settings).test_client()
    headers = sign_hubspot_v3(HUBSPOT_SECRET, "POST", public, body.replace(b'"eventId": 1', b'"eventId": 2'))
    assert base.post("/webhooks/hubspot?x=%2Fy", data=body.replace(b'"eventId": 1', b'"eventId": 2'),
                     headers=headers, content_type="application/json").status_code == 200
    assert store.inbox() == 2


@pytest.mark.parametrize(("payload", "message"), [
    ({"eventId": 1}, "expected a JSON array"),
    ([1], "event [0] must be an object"),
    ([{"eventId": 1, "portalId": 1}], "subscriptionType"),
    ([{"eventId": "x", "portalId": 1, "subscriptionType": "contact.creation"}], "eventId must be an integer"),
    ([hubspot_event(1) | {"objectId": None}], "objectId"),
])
def test_malformed_signed_bodies_are_400_with_a_reason(client: FlaskClient, store: Store, payload: object,
                                                       message: str) -> None:
    response = hubspot_post(client, payload)
    assert response.status_code == 400 and message in response.json["message"]
    assert not store.stored_anything()


def test_not_json_is_400(client: FlaskClient) -> None:
    response = hubspot_post(client, None, body=b"[{nope")
    assert response.status_code == 400 and "not valid JSON" in response.json["message"]
    assert hubspot_post(client, None, body=b"[NaN]").status_code == 400
