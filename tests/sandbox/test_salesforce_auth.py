"""OAuth, sessions, limits and faults of the Salesforce emulator, through the unmodified simple-salesforce."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from connector.sandbox.runtime import Faults
from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, client, start_sandbox


def token(sb: SalesforceSandbox, **form: str) -> requests.Response:
    return sb.requests_session().post(sb.token_url, data=form, timeout=5)


@pytest.mark.parametrize("form", [
    {"grant_type": "password", "username": USERNAME, "password": PASSWORD},
    {"grant_type": "client_credentials"},
], ids=["password", "client_credentials"])
def test_token_grant_gives_a_working_session(sandbox: SalesforceSandbox, form: dict[str, str]) -> None:
    answer = token(sandbox, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **form)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox.instance_url
    assert body["id"].startswith(f"{sandbox.instance_url}/id/{sandbox.org_id}/005")
    assert {"access_token", "issued_at", "signature"} <= body.keys()
    sf = Salesforce(instance_url=body["instance_url"], session_id=body["access_token"],
                    session=sandbox.requests_session(), version="59.0")
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_refresh_token_grant(sandbox: SalesforceSandbox) -> None:
    answer = token(sandbox, grant_type="refresh_token", refresh_token=sandbox.refresh_token,
                   client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert answer.status_code == 200
    assert answer.json()["access_token"] != sandbox.access_token


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "password", "username": USERNAME, "password": "wrong",
      "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, "invalid_grant"),
    ({"grant_type": "password", "username": USERNAME, "password": PASSWORD,
      "client_id": "other", "client_secret": CLIENT_SECRET}, "invalid_client_id"),
    ({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "wrong"}, "invalid_client"),
    ({"grant_type": "authorization_code", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
     "unsupported_grant_type"),
])
def test_bad_token_requests(sandbox: SalesforceSandbox, form: dict[str, str], error: str) -> None:
    answer = token(sandbox, **form)
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    if error == "invalid_grant":
        assert answer.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_unknown_token_is_invalid_session(sandbox: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceExpiredSession) as raised:
        client(sandbox, token="not-a-session").query("SELECT Id FROM Lead")
    assert raised.value.status == 401
    assert raised.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_expire_sessions_fault_invalidates_issued_tokens(sandbox: SalesforceSandbox) -> None:
    sf = client(sandbox)
    sf.query("SELECT Id FROM Lead")
    sandbox.faults.update({"expire_sessions": 1})
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Lead")
    assert sandbox.faults.expire_sessions == 0
    fresh = token(sandbox, grant_type="client_credentials", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert client(sandbox, token=fresh.json()["access_token"]).query("SELECT COUNT() FROM Lead")["done"]


def test_expire_sessions_control_endpoint(sandbox: SalesforceSandbox) -> None:
    answer = sandbox.requests_session().post(f"{sandbox.instance_url}/__sandbox/expire-sessions", timeout=5)
    assert answer.json()["expired"] >= 1
    with pytest.raises(SalesforceExpiredSession):
        client(sandbox).Lead.describe()


def test_limit_info_header_feeds_api_usage(sandbox: SalesforceSandbox) -> None:
    sandbox.daily_api_limit = 3
    sf = client(sandbox)
    sf.query("SELECT Id FROM Lead")
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].used == 2
    assert sf.api_usage["api-usage"].total == 3
    sf.limits()
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Lead")
    assert raised.value.status == 403
    assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_rate_limit_fault_answers_request_limit_exceeded(sandbox: SalesforceSandbox) -> None:
    sandbox.faults.update(Faults.parse("storm_429=1").as_dict())
    sf = client(sandbox)
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Lead")
    assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert sf.query("SELECT COUNT() FROM Lead")["done"]  # the storm was one call long


def test_a_fresh_sandbox_per_test_is_possible() -> None:
    with start_sandbox(daily_api_limit=7) as sb:
        client(sb).query("SELECT Id FROM Lead")
        assert sb.state.api_usage == 1


def test_outage_fault_answers_503(sandbox: SalesforceSandbox) -> None:
    sandbox.faults.update({"outage_s": 30})
    with pytest.raises(SalesforceGeneralError) as raised:
        client(sandbox).query("SELECT Id FROM Lead")
    assert raised.value.status == 503
    sandbox.faults.update({"outage_s": 0})
    assert client(sandbox).query("SELECT COUNT() FROM Lead")["done"]


def test_versions_limits_and_call_counter(sandbox: SalesforceSandbox) -> None:
    session = sandbox.requests_session()
    versions = session.get(f"{sandbox.instance_url}/services/data/", timeout=5).json()
    assert {"label": "v59.0", "url": "/services/data/v59.0", "version": "59.0"} in versions
    sf = client(sandbox)
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    calls = session.get(f"{sandbox.instance_url}/__sandbox/calls", timeout=5).json()
    assert calls["by_endpoint"]["GET /limits"] == 1
    session.post(f"{sandbox.instance_url}/__sandbox/calls/reset", timeout=5)
    assert sandbox.calls.total() == 0


def test_faults_control_endpoint(sandbox: SalesforceSandbox) -> None:
    session = sandbox.requests_session()
    answer = session.post(f"{sandbox.instance_url}/__sandbox/faults", json={"latency_ms": 1}, timeout=5)
    assert answer.json()["latency_ms"] == 1
    bad = session.post(f"{sandbox.instance_url}/__sandbox/faults", json={"nope": 1}, timeout=5)
    assert bad.status_code == 400
