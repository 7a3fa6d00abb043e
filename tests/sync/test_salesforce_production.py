"""The Salesforce adapter against what a real org does: stalled sockets, the JWT bearer grant, rotated
refresh tokens, fuzzy duplicate rules, and calls processed and then answered 503. Real simple-salesforce
over HTTPS to the sandbox."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.crm.breaker import CircuitOpen
from connector.crm.errors import FatalError, RetryableError
from connector.crm.salesforce import Credentials, SalesforceClient
from connector.crm.salesforce_auth import JWT_GRANT, refresh_token_file_store
from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import CLIENT_ID, CLIENT_SECRET, TOKEN, USERNAME, client, start_sandbox

PLACEHOLDERS = {"LastName": "[not provided]", "Company": "[not provided]"}


@pytest.fixture(scope="module")
def org() -> Iterator[SalesforceSandbox]:
    sandbox = start_sandbox(rotate_refresh_token=True)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sb(org: SalesforceSandbox) -> SalesforceSandbox:
    org.reset()
    return org


def adapter(sb: SalesforceSandbox, flow: str = "session", read_timeout: float = 5, **kw: object) -> SalesforceClient:
    credentials = Credentials(flow=flow, token_url=sb.token_url, access_token=TOKEN, client_id=CLIENT_ID,
                              client_secret=CLIENT_SECRET, username=USERNAME,
                              private_key=str(sb.jwt_private_key_file))
    for name, value in kw.items():
        setattr(credentials, name, value)
    client_ = SalesforceClient(sb.instance_url, credentials, ca_bundle=str(sb.ca_bundle), timeout_s=read_timeout,
                               connect_timeout_s=2, max_wait_s=0.2)
    client_.placeholders = dict(PLACEHOLDERS)
    return client_


# -- item 2: timeouts ----------------------------------------------------------------------------


def test_a_stalled_call_times_out_and_is_retried(sb: SalesforceSandbox) -> None:
    lead = client(sb).Lead.create({"LastName": "Stall", "Company": "Acme", "Email": "stall@example.com"})["id"]
    # seed 13: the first call hangs (held 30 s, never answered), the next ones do not
    sb.faults.update({"hang_s": 30, "hang_rate": 0.5, "seed": 13})
    sb.calls.reset()
    started = time.monotonic()
    found = adapter(sb, read_timeout=0.5).read("Lead", [lead], ["Email"])
    elapsed = time.monotonic() - started
    sb.faults.clear()
    assert found[lead].fields["Email"] == "stall@example.com"
    assert sb.calls.snapshot()["POST /composite/sobjects/Lead"] == 2  # the stalled call, then the retry
    assert elapsed < 5, f"a stalled call held the worker {elapsed:.1f} s"


def test_a_call_that_always_stalls_ends_as_retryable(sb: SalesforceSandbox) -> None:
    sb.faults.update({"hang_s": 30, "hang_rate": 1})
    started = time.monotonic()
    with pytest.raises((RetryableError, CircuitOpen)):  # stalls in a row may open the breaker
        adapter(sb, read_timeout=0.3).find_by("Lead", "Email", ["x@example.com"], ["Email"])
    sb.faults.clear()
    assert time.monotonic() - started < 10


def test_app_yaml_timeouts_keep_the_old_key() -> None:
    from connector.settings.app_config import SalesforceConnection

    assert SalesforceConnection().read_timeout_s == 30 and SalesforceConnection().connect_timeout_s == 10
    assert SalesforceConnection(timeout_s=12).read_timeout_s == 12
    assert SalesforceConnection(timeout_s=12, read_timeout_s=7).read_timeout_s == 7


# -- item 8: sign-in ---------------------------------------------------------------------------------


def test_jwt_bearer_flow_signs_in_with_the_private_key(sb: SalesforceSandbox) -> None:
    sf = adapter(sb, flow="jwt")
    assert sf.find_by("Lead", "Email", ["nobody@example.com"], ["Email"]) == {}
    assert sb.sessions.grants == [JWT_GRANT]
    sb.sessions.expire_all()  # a lapsed session signs in again the same way
    assert sf.find_by("Lead", "Email", ["nobody@example.com"], ["Email"]) == {}
    assert sb.sessions.grants == [JWT_GRANT, JWT_GRANT]


def test_jwt_private_key_can_be_the_pem_itself(sb: SalesforceSandbox) -> None:
    assert sb.jwt_private_key_file is not None
    sf = adapter(sb, flow="jwt", private_key=sb.jwt_private_key_file.read_text().replace("\n", "\\n"))
    assert sf.find_by("Lead", "Email", ["a@example.com"], ["Email"]) == {}


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize(("change", "error", "description"), [
    ({"key": "other"}, "invalid_grant", "invalid assertion"),
    ({"iss": "someone-else"}, "invalid_client_id", "client identifier invalid"),
    ({"aud": "https://test.salesforce.com"}, "invalid_grant", "audience is invalid"),
    ({"exp": -10}, "invalid_grant", "expired authorization code"),
    ({"exp": 3600}, "invalid_grant", "invalid assertion"),
    ({"sub": "someone@else.example"}, "invalid_grant", "user hasn't approved this consumer"),
], ids=["wrong-key", "wrong-iss", "wrong-aud", "expired", "exp-too-far", "unapproved-user"])
def test_sandbox_refuses_what_salesforce_refuses(sb: SalesforceSandbox, change: dict[str, object], error: str,
                                                 description: str) -> None:
    assert sb.jwt_private_key_file is not None
    claims = {"iss": CLIENT_ID, "sub": USERNAME, "aud": "https://login.salesforce.com",
              "exp": int(time.time()) + int(change.pop("exp", 120))}  # type: ignore[call-overload]
    key = _other_key() if change.pop("key", None) else sb.jwt_private_key_file.read_text()
    claims.update(change)
    assertion = jwt.encode(claims, key, algorithm="RS256")
    answer = sb.requests_session().post(sb.token_url, data={"grant_type": JWT_GRANT, "assertion": assertion},
                                        timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"error": error, "error_description": description}


def test_a_refused_jwt_is_fatal_with_salesforces_words(sb: SalesforceSandbox) -> None:
    sf = adapter(sb, flow="jwt", private_key=_other_key())
    with pytest.raises(FatalError, match="invalid assertion"):
        sf.find_by("Lead", "Email", ["a@example.com"], ["Email"])


def test_a_rotated_refresh_token_is_kept(sb: SalesforceSandbox, tmp_path: Path) -> None:
    read, write = refresh_token_file_store(str(tmp_path / "sf" / "refresh-token"))
    kept: list[str] = []

    def keep(token: str) -> None:
        kept.append(token)
        write(token)

    sf = adapter(sb, flow="refresh_token", refresh_token=sb.refresh_token)
    sf._on_refresh_token = keep
    sf.find_by("Lead", "Email", ["a@example.com"], ["Email"])
    sb.sessions.expire_all()
    sf.find_by("Lead", "Email", ["a@example.com"], ["Email"])  # signs in with the rotated token
    assert len(kept) == 2 and kept[0] != kept[1] and kept[-1] == sb.sessions.refresh_token
    assert read() == kept[-1]
    assert stat.S_IMODE((tmp_path / "sf" / "refresh-token").stat().st_mode) == 0o600
    stale = adapter(sb, flow="refresh_token", refresh_token=sb.refresh_token)  # the first, now revoked
    with pytest.raises(FatalError, match="expired access/refresh token"):
        stale.find_by("Lead", "Email", ["a@example.com"], ["Email"])


# -- item 9: duplicate rules ----------------------------------------------------------------------------


def test_duplicate_rule_matches_fuzzy_name_and_company(sb: SalesforceSandbox) -> None:
    from simple_salesforce.exceptions import SalesforceError

    api = client(sb)
    first = api.Lead.create({"FirstName": "Ann", "LastName": "Lee", "Company": "Acme Inc.", "Email": "ann@acme.com"})
    with pytest.raises(SalesforceError) as refused:
        api.Lead.create({"FirstName": "ann", "LastName": "LEE", "Company": "ACME", "Email": "a.lee@gmail.com"})
    body = refused.value.content[0]
    assert body["errorCode"] == "DUPLICATES_DETECTED"
    ids = [m["record"]["Id"] for r in body["duplicateResult"]["matchResults"] for m in r["matchRecords"]]
    assert ids == [first["id"]]
    # blank first names never match, and the header saves past the rule
    api.Lead.create({"LastName": "Lee", "Company": "Acme", "Email": "x@acme.com"})
    saved = api.Lead.create({"FirstName": "Ann", "LastName": "Lee", "Company": "Acme", "Email": "y@acme.com"},
                            headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
    assert saved["success"]


def test_placeholder_name_and_company_do_not_make_every_lead_a_duplicate(sb: SalesforceSandbox) -> None:
    sf = adapter(sb)
    rows = {str(100 + n): {"FirstName": "Ann", "Email": f"ann{n}@example.com", **PLACEHOLDERS} for n in range(3)}
    outcome = sf.upsert("Lead", "HubSpot_Id__c", rows)
    assert outcome.errors == [] and len(outcome.done) == 3
    assert len([r for r in sb.state.records["Lead"].values() if r["FirstName"] == "Ann"]) == 3


def test_a_real_duplicate_is_reported_or_saved_as_configured(sb: SalesforceSandbox) -> None:
    existing = client(sb).Lead.create({"FirstName": "Ann", "LastName": "Lee", "Company": "Acme Inc.",
                                       "Email": "ann@acme.com"})["id"]
    row = {"FirstName": "Ann", "LastName": "Lee", "Company": "Acme", "Email": "ann.lee@gmail.com"}
    reported = adapter(sb).upsert("Lead", "HubSpot_Id__c", {"201": row})
    assert [e.code for e in reported.errors] == ["DUPLICATES_DETECTED"]
    assert existing in reported.errors[0].message
    sf = adapter(sb)
    sf._create_headers = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}  # salesforce.duplicate_rule: allow_save
    saved = sf.upsert("Lead", "HubSpot_Id__c", {"201": row})
    assert saved.errors == [] and "201" in saved.done


def test_a_placeholder_lead_whose_email_is_taken_is_still_refused(sb: SalesforceSandbox) -> None:
    client(sb).Lead.create({"FirstName": "Bo", "LastName": "Ng", "Company": "Initech", "Email": "bo@initech.com"})
    outcome = adapter(sb).upsert("Lead", "HubSpot_Id__c", {"301": {"FirstName": "Bo", "Email": "bo@initech.com",
                                                                   **PLACEHOLDERS}})
    assert [e.code for e in outcome.errors] == ["DUPLICATES_DETECTED"]


# -- item 4: processed, then 503 -----------------------------------------------------------------------


def test_task_and_campaign_member_stay_single_when_a_processed_call_answers_503(sb: SalesforceSandbox) -> None:
    api = client(sb)
    lead = api.Lead.create({"LastName": "Once", "Company": "Acme", "Email": "once@example.com"})["id"]
    campaign = api.Campaign.create({"Name": "Nurture"})["id"]
    sf = adapter(sb)
    for call in ("task", "member", "lead"):
        sb.faults.update({"after_error_rate": 0.5, "seed": 13})  # the first call is processed, then 503
        if call == "task":
            outcome = sf.upsert("Task", "Nurture_Alert_Key__c", {f"{lead}:mql": {
                "WhoId": lead, "Subject": "New MQL", "Status": "Not Started", "Priority": "High"}})
            assert outcome.errors == []
        elif call == "member":
            outcome = sf.create("CampaignMember", [{"CampaignId": campaign, "LeadId": lead, "Status": "Sent"}])
            assert [e.code for e in outcome.errors] == ["DUPLICATE_VALUE"]  # the retry found the first
        else:
            outcome = sf.upsert("Lead", "HubSpot_Id__c", {"901": {"LastName": "New", "Company": "Acme",
                                                                  "Email": "new@example.com"}})
            assert outcome.errors == []
    sb.faults.clear()
    assert len([t for t in sb.state.records["Task"].values() if not t["IsDeleted"]]) == 1
    assert len(sb.state.records["CampaignMember"]) == 1
    assert len([r for r in sb.state.records["Lead"].values() if r.get("HubSpot_Id__c") == "901"]) == 1


def test_a_worker_facing_stalls_and_lost_answers_converges_without_twins(rig: Any) -> None:
    """hang_s + after_error_rate + error_rate on Salesforce: every create still lands once."""
    rig.clients.salesforce._session.timeout = (2, 0.5)  # app.yaml's read_timeout_s, shortened for the test
    ids = [rig.hs_create(email=f"chaos{n}@example.org", firstname=f"Chaos{n}", lastname="Monkey",
                         company=f"Chaos {n} Inc") for n in range(8)]
    rig.boxes.salesforce.faults.update({"hang_s": 30, "hang_rate": 0.15, "after_error_rate": 0.2,
                                        "error_rate": 0.1, "seed": 7})
    for _ in range(8):  # redelivered webhooks bring failed contacts back before their backoff ends
        for hs_id in ids:
            rig.mark("hubspot", hs_id)
        rig.worker.drain()
    upserts = rig.boxes.salesforce.calls.snapshot().get("PATCH /composite/sobjects/Lead/HubSpot_Id__c", 0)
    rig.boxes.salesforce.faults.clear()
    assert upserts >= 1, "the creates went out while the faults were on"
    for hs_id in ids:
        rig.mark("hubspot", hs_id)
    rig.worker.drain()
    leads = [r for r in rig.boxes.salesforce.state.records["Lead"].values() if not r["IsDeleted"]]
    by_hubspot_id = sorted(r["HubSpot_Id__c"] for r in leads)
    assert by_hubspot_id == sorted(ids), "one Lead per HubSpot contact, none twice"
    assert all(rig.link(hubspot_id=h).salesforce_id for h in ids)


def test_build_clients_keeps_a_rotated_refresh_token_in_the_configured_file(rig: Any, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from connector.engine.clients import build_salesforce

    box = rig.boxes.salesforce
    box.sessions.rotate_refresh_token = True
    monkeypatch.setenv("SALESFORCE_REFRESH_TOKEN", box.sessions.refresh_token)
    kept = tmp_path / "refresh-token"
    sf_config = rig.settings.app.salesforce
    auth = sf_config.auth.model_copy(update={"flow": "refresh_token", "refresh_token_file": str(kept)})
    app = rig.settings.app.model_copy(update={"salesforce": sf_config.model_copy(update={"auth": auth})})
    settings = replace(rig.settings, app=app)
    build_salesforce(settings).find_by("Lead", "Email", ["a@example.com"], ["Email"])
    assert kept.read_text() == box.sessions.refresh_token  # the new one; the env's is revoked now
    box.sessions.expire_all()
    again = build_salesforce(settings)  # a restart: reads the kept token, not the revoked one in the env
    again.find_by("Lead", "Email", ["a@example.com"], ["Email"])
    assert kept.read_text() == box.sessions.refresh_token
    assert again.signed_in_user_id == box.store.api_user_id
