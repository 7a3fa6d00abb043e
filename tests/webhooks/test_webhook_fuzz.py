"""Property-based: arbitrary bodies and headers at every endpoint never cause a 5xx, and nothing is stored
without a valid signature; validly signed arbitrary JSON is a 200 or a 400, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_helpers import ENGAGEMENT_SECRET, HUBSPOT_SECRET, Store, hubspot_event

from webhooks.signatures import sign_engagement, sign_hubspot_v3

PATHS = ["/webhooks/hubspot", "/webhooks/salesforce", "/webhooks/salesforce/x", "/webhooks/engagement", "/healthz",
         "/openapi.json"]
HEADER_NAMES = ["X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature",
                "X-HubSpot-Signature-Version", "X-Nurture-Signature", "X-Nurture-Source", "X-Forwarded-Host",
                "Content-Length"]
CONTENT_TYPES = ["application/json", "text/xml", "application/xml", "text/plain", "", "application/json; charset=x"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
header_value = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(path=st.sampled_from(PATHS), method=st.sampled_from(["POST", "GET", "PUT"]),
       body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
       content_type=st.sampled_from(CONTENT_TYPES),
       headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_value, max_size=4))
def test_unsigned_requests_never_5xx_and_store_nothing(client: FlaskClient, store: Store, path: str, method: str,
                                                       body: bytes, content_type: str, headers: dict[str, str]) -> None:
    headers.pop("Content-Length", None)  # a lying length is the server's business; the test client would hang
    response = client.open(path, method=method, data=body, content_type=content_type, headers=headers)
    assert response.status_code < 500
    assert not store.stored_anything()


hubspot_like = st.lists(
    st.fixed_dictionaries({}, optional={
        "eventId": st.integers(-5, 10**12) | st.text(max_size=5),
        "portalId": st.integers(0, 10**6), "subscriptionId": st.integers(0, 10**6),
        "subscriptionType": st.sampled_from(["contact.creation", "contact.merge", "contact.privacyDeletion",
                                             "contact.associationChange", "deal.creation", "object.creation", "x"]),
        "objectId": st.integers(-1, 10**15) | st.none() | st.text(max_size=5),
        "occurredAt": st.integers(-10, 10**15) | st.floats(allow_nan=False),
        "mergedObjectIds": st.lists(st.integers(0, 10**9), max_size=3) | st.text(max_size=3),
        "primaryObjectId": st.integers(0, 10**9), "objectTypeId": st.sampled_from(["0-1", "0-2"]),
        "associationType": st.sampled_from(["CONTACT_TO_COMPANY", "COMPANY_TO_CONTACT"]),
        "fromObjectId": st.integers(0, 10**9), "toObjectId": st.integers(0, 10**9),
        "propertyValue": json_values,
    }),
    max_size=5,
) | json_values


@FUZZ
@given(payload=hubspot_like)
def test_signed_hubspot_bodies_are_200_or_400(client: FlaskClient, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = sign_hubspot_v3(HUBSPOT_SECRET, "POST", "http://localhost/webhooks/hubspot", body)
    response = client.post("/webhooks/hubspot", data=body, content_type="application/json", headers=headers)
    assert response.status_code in (200, 400), response.json


engagement_like = st.fixed_dictionaries({}, optional={
    "id": st.text(max_size=8), "type": st.sampled_from(["page_view", "Bad Type", ""]) | st.text(max_size=5),
    "occurred_at": st.sampled_from(["2026-11-20T15:00:00Z", "0001-01-01T00:00:00+14:00", "x"]) | st.text(max_size=8),
    "person": st.dictionaries(st.sampled_from(["email", "hubspot_id", "salesforce_id", "x"]),
                              st.text(max_size=20) | st.integers(), max_size=3),
    "content_id": json_values, "properties": json_values,
}) | st.fixed_dictionaries({"events": st.lists(json_values, max_size=3)}) | json_values


@FUZZ
@given(payload=engagement_like)
def test_signed_engagement_bodies_are_200_or_400(client: FlaskClient, payload: Any) -> None:
    body = json.dumps(payload).encode()
    response = client.post("/webhooks/engagement", data=body, content_type="application/json",
                           headers=sign_engagement(ENGAGEMENT_SECRET, body))
    assert response.status_code in (200, 400), response.json


def test_a_valid_event_still_goes_through_after_fuzzing(client: FlaskClient, store: Store) -> None:
    body = json.dumps([hubspot_event(1)]).encode()
    headers = sign_hubspot_v3(HUBSPOT_SECRET, "POST", "http://localhost/webhooks/hubspot", body)
    assert client.post("/webhooks/hubspot", data=body, content_type="application/json",
                       headers=headers).status_code == 200
    assert store.inbox() == 1
