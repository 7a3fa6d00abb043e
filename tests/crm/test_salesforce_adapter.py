"""The Salesforce adapter's error mapping and retries, at the HTTP level with `responses` (simple-salesforce
speaks requests, so `responses` sees every call; the HubSpot SDK uses urllib3 and is tested against the sandbox
in tests/sync/test_hubspot_truth.py)."""

from __future__ import annotations

import json

import pytest
import responses

from connector.crm.errors import FatalError, RetryableError
from connector.crm.salesforce import SalesforceClient
from connector.crm.salesforce_auth import Credentials

INSTANCE = "https://acme.my.salesforce.com"
TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
DATA = f"{INSTANCE}/services/data/v59.0"
USAGE = {"Sforce-Limit-Info": "api-usage=10/15000"}


def _client(flow: str = "session") -> SalesforceClient:
    credentials = Credentials(flow=flow, token_url=TOKEN_URL, client_id="id", client_secret="secret",
                              access_token="00D-session")
    return SalesforceClient(INSTANCE, credentials, max_wait_s=0.01)


@responses.activate
def test_a_5xx_is_retried_and_the_answer_used() -> None:
    responses.post(f"{DATA}/composite/sobjects/Lead", status=503, json=[{"errorCode": "SERVER_UNAVAILABLE",
                                                                        "message": "busy"}])
    responses.post(f"{DATA}/composite/sobjects/Lead", status=200, headers=USAGE,
                   json=[{"attributes": {"type": "Lead"}, "Id": "00Q1", "Email": "a@example.com"}])
    found = _client().read("Lead", ["00Q1"], ["Email"])
    assert found["00Q1"].fields["Email"] == "a@example.com"
    assert len(responses.calls) == 2


@responses.activate
def test_request_limit_exceeded_is_retryable_with_a_long_wait() -> None:
    responses.post(f"{DATA}/composite/sobjects/Lead", status=403,
                   json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])
    client = _client()
    client.max_wait_s = 0.0
    with pytest.raises(RetryableError) as exc:
        client.read("Lead", ["00Q1"], ["Email"])
    assert exc.value.code == "REQUEST_LIMIT_EXCEEDED" and exc.value.retry_after == 60.0


@responses.activate
def test_a_refused_request_is_fatal_with_salesforces_words_and_not_retried() -> None:
    responses.post(f"{DATA}/composite/sobjects/Lead", status=400,
                   json=[{"errorCode": "INVALID_FIELD", "message": "No such column 'Bogus__c' on entity 'Lead'."}])
    with pytest.raises(FatalError) as exc:
        _client().read("Lead", ["00Q1"], ["Bogus__c"])
    assert exc.value.code == "INVALID_FIELD" and "Bogus__c" in exc.value.message
    assert len(responses.calls) == 1


@responses.activate
def test_an_expired_session_signs_in_again_once_then_retries() -> None:
    responses.post(f"{DATA}/composite/sobjects/Lead", status=401,
                   json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])
    responses.post(TOKEN_URL, json={"access_token": "00D-new", "instance_url": INSTANCE, "token_type": "Bearer"})
    responses.post(f"{DATA}/composite/sobjects/Lead", status=200, headers=USAGE,
                   json=[{"attributes": {"type": "Lead"}, "Id": "00Q1"}])
    client = _client("client_credentials")
    client._credentials.access_token = None
    found = client.read("Lead", ["00Q1"], [])
    assert "00Q1" in found
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer 00D-new"


@responses.activate
def test_per_record_errors_land_on_their_own_record_with_the_fields_named() -> None:
    responses.patch(f"{DATA}/composite/sobjects", status=200, headers=USAGE, json=[
        {"id": "00Q1", "success": True, "errors": []},
        {"success": False, "errors": [{"statusCode": "STRING_TOO_LONG", "message": "Title: data value too large",
                                       "fields": ["Title"]}]},
        {"id": "00Q3", "success": True, "errors": []},
    ])
    outcome = _client().update("Lead", {"00Q1": {"Title": "a"}, "00Q2": {"Title": "b" * 300}, "00Q3": {}})
    assert set(outcome.done) == {"00Q1", "00Q3"}
    [error] = outcome.errors
    assert (error.key, error.code, error.fields) == ("00Q2", "STRING_TOO_LONG", ("Title",))
    sent = json.loads(responses.calls[0].request.body)
    assert sent["allOrNone"] is False and [r["Id"] for r in sent["records"]] == ["00Q1", "00Q2", "00Q3"]


@responses.activate
def test_a_token_request_that_is_refused_is_fatal_and_says_why() -> None:
    responses.post(TOKEN_URL, status=400,
                   json={"error": "invalid_client_id", "error_description": "client identifier invalid"})
    client = _client("client_credentials")
    client._credentials.access_token = None
    with pytest.raises(FatalError) as exc:
        client.read("Lead", ["00Q1"], [])
    assert "client identifier invalid" in exc.value.message
