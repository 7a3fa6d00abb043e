"""POST /webhooks/engagement: the documented schema, per-source signatures, exactly-once ledger."""

from __future__ import annotations

import json

import jsonschema
import pytest
from flask.testing import FlaskClient
from webhook_helpers import Store, engagement_post

from connector.store.models import dirty, engagement, inbox
from webhooks.openapi import document

EVENT = {"id": "wbn-2026-11-20-jane", "type": "webinar_attend", "occurred_at": "2026-11-20T15:00:00Z",
         "person": {"email": "Jane.Doe@Example.com", "hubspot_id": "901"}, "content_id": "webinar-q4",
         "properties": {"minutes": 48}}


def validator() -> jsonschema.Draft202012Validator:
    doc = document()
    schema = {"$ref": "#/components/schemas/Root", "components": {"schemas": {
        **doc["components"]["schemas"],
        "Root": doc["paths"]["/webhooks/engagement"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    }}}
    return jsonschema.Draft202012Validator(schema)


def test_one_event_goes_to_the_ledger_once(client: FlaskClient, store: Store) -> None:
    assert validator().is_valid(EVENT)
    first = engagement_post(client, EVENT)
    assert first.status_code == 200 and first.json == {"accepted": 1, "new": 1}
    assert engagement_post(client, EVENT).json == {"accepted": 1, "new": 0}
    [fact] = store.rows(engagement)
    assert (fact.event_key, fact.event_type, fact.email, fact.hubspot_id, fact.content_id) == (
        "default:wbn-2026-11-20-jane", "webinar_attend", "jane.doe@example.com", "901", "webinar-q4")
    assert store.inbox() == 1
    assert [(d.system, d.object_id) for d in store.rows(dirty)] == [("hubspot", "901")]


def test_a_batch_of_mixed_channels(client: FlaskClient, store: Store) -> None:
    kinds = ["survey_answer", "ad_click", "social_click", "call_completed", "meeting_booked", "content_download",
             "page_view"]
    events = [{"id": f"e{i}", "type": kind, "occurred_at": "2026-11-20T15:00:00+01:00",
               "person": {"salesforce_id": "00Q5e00000AbCdEEAZ"} if i % 2 else {"email": f"p{i}@example.com"}}
              for i, kind in enumerate(kinds)]
    assert validator().is_valid({"events": events})
    assert engagement_post(client, {"events": events}).json == {"accepted": 7, "new": 7}
    assert {r.event_type for r in store.rows(engagement)} == set(kinds)
    assert {r.kind for r in store.rows(inbox)} == set(kinds)
    assert [(d.system, d.object_type) for d in store.rows(dirty)] == [("salesforce", "Lead")]


BAD = [
    ({**EVENT, "id": ""}, "id must be"),
    ({**EVENT, "type": "Webinar Attend"}, "type must be"),
    ({**EVENT, "occurred_at": "yesterday"}, "RFC 3339"),
    ({**EVENT, "occurred_at": "2026-11-20T15:00:00"}, "time zone"),
    ({**EVENT, "person": {}}, "person must be"),
    ({**EVENT, "person": {"email": "no-at-sign"}}, "email address"),
    ({**EVENT, "person": {"salesforce_id": "short"}}, "Salesforce"),
    ({**EVENT, "colour": "red"}, "unknown fields"),
    ({"events": []}, "1 to 100"),
    ([EVENT], "expected a JSON object"),
]


@pytest.mark.parametrize(("payload", "message"), BAD, ids=[m for _, m in BAD])
def test_invalid_events_are_400_with_the_reason_and_the_schema_agrees(
        client: FlaskClient, store: Store, payload: object, message: str) -> None:
    response = engagement_post(client, payload)
    assert response.status_code == 400 and message in response.json["message"], response.json
    assert not store.stored_anything()
    if message not in ("RFC 3339", "time zone", "email address"):  # formats are annotations in JSON Schema
        assert not validator().is_valid(payload)


def test_signatures_per_source(client: FlaskClient, store: Store) -> None:
    assert engagement_post(client, EVENT, secret="wrong").status_code == 401
    assert engagement_post(client, EVENT, headers={"X-Nurture-Source": "nope"}).status_code == 401
    raw = json.dumps(EVENT).encode()
    assert client.post("/webhooks/engagement", data=raw, content_type="application/json").status_code == 401
    assert not store.stored_anything()
    assert store.counters() == {"webhooks.engagement.rejected.signature": 3}
