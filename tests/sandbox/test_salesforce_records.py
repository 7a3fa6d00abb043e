"""Single-record REST calls, validation errors, duplicate rule, upsert, conversion and describe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connector.sandbox.fake_people import generate_people
from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import client, start_sandbox

LEAD = {"FirstName": "Jane", "LastName": "Doe", "Company": "Acme Analytics", "Email": "jane@acme.example"}


@pytest.fixture
def sf(sandbox: SalesforceSandbox) -> Salesforce:
    return client(sandbox)


def error_of(raised: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    return dict(raised.value.content[0])


def test_create_get_update_delete(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    created = sf.Lead.create(LEAD)
    assert created["success"] and created["errors"] == [] and created["id"].startswith("00Q")
    lead = sf.Lead.get(created["id"])
    assert lead["attributes"]["type"] == "Lead"
    assert lead["Status"] == "Open - Not Contacted" and lead["IsConverted"] is False
    assert lead["Name"] == "Jane Doe"
    assert dict(sf.Lead.get(created["id"], params={"fields": "Email,Company"})) == {
        "attributes": lead["attributes"], "Email": "jane@acme.example", "Company": "Acme Analytics"}
    before = lead["SystemModstamp"]
    assert sf.Lead.update(created["id"], {"Title": "VP Marketing", "Nurture_Score__c": 42}) == 204
    updated = sf.Lead.get(created["id"])
    assert updated["Title"] == "VP Marketing" and updated["Nurture_Score__c"] == 42
    assert updated["SystemModstamp"] >= before
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Lead.get(created["id"])
    assert error_of(raised)["errorCode"] == "ENTITY_IS_DELETED"
    assert sandbox.state.records["Lead"][created["id"]]["IsDeleted"] is True


def test_unknown_id_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Lead.get("00Q5e0000009999AAA")
    assert error_of(raised)["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize(("body", "code", "fields"), [
    ({"FirstName": "Jane"}, "REQUIRED_FIELD_MISSING", ["LastName", "Company"]),
    ({**LEAD, "Company": "x" * 256}, "STRING_TOO_LONG", ["Company"]),
    ({**LEAD, "Industry": "Rocketry"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Industry"]),
    ({**LEAD, "Status": "Maybe"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["Status"]),
    ({**LEAD, "Favourite_Color__c": "blue"}, "INVALID_FIELD", ["Favourite_Color__c"]),
    ({**LEAD, "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
    ({**LEAD, "IsConverted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsConverted"]),
    ({**LEAD, "NumberOfEmployees": "many"}, "JSON_PARSER_ERROR", []),
])
def test_validation_errors(sf: Salesforce, body: dict[str, Any], code: str, fields: list[str]) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create(body)
    error = error_of(raised)
    assert raised.value.status == 400
    assert error["errorCode"] == code
    assert error["fields"] == fields
    assert error["message"]


def test_string_too_long_message_names_the_limit(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({**LEAD, "Nurture_Segments__c": "s" * 300})
    assert error_of(raised)["message"].endswith("(max length=255)")


def test_duplicate_rule_blocks_same_email(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    first = sf.Lead.create(LEAD)["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Doe", "Email": "JANE@acme.example"})
    error = error_of(raised)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["message"] == "Use one of these records?"
    match = error["duplicateResult"]["matchResults"][0]
    assert match["entityType"] == "Lead" and match["matchRecords"][0]["record"]["Id"] == first
    allowed = sf.Contact.create({"LastName": "Doe", "Email": "jane@acme.example"},
                                headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
    assert allowed["success"]
    sandbox.store.duplicate_rule = False
    assert sf.Lead.create(LEAD)["success"]


def test_upsert_by_hubspot_id(sf: Salesforce) -> None:
    created = sf.Lead.upsert("HubSpot_Id__c/501", LEAD, raw_response=True)
    assert created.status_code == 201 and created.json()["created"] is True
    assert sf.Lead.upsert("HubSpot_Id__c/501", {"Title": "CTO"}) == 204
    fetched = sf.Lead.get_by_custom_id("HubSpot_Id__c", "501")
    assert fetched["Title"] == "CTO" and fetched["Id"] == created.json()["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:  # HubSpot_Id__c is unique
        sf.Lead.create({**LEAD, "Email": "other@acme.example", "HubSpot_Id__c": "501"})
    assert error_of(raised)["errorCode"] == "DUPLICATE_VALUE"


def test_upsert_with_several_matches_answers_300(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    sandbox.add_custom_field("Lead", "Legacy_Id__c", "string", length=32, external_id=True)
    try:
        sf.Lead.create({**LEAD, "Legacy_Id__c": "L-1"})
        # the same name and company is a duplicate to the standard rule: save it anyway
        sf.Lead.create({**LEAD, "Email": "b@acme.example", "Legacy_Id__c": "L-1"},
                       headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"})
        with pytest.raises(SalesforceMoreThanOneRecord) as raised:
            sf.Lead.upsert("Legacy_Id__c/L-1", {"Title": "x"})
        assert raised.value.status == 300 and len(raised.value.content) == 2
    finally:
        sandbox.schema.get("Lead").fields.pop("Legacy_Id__c")  # type: ignore[union-attr]


def test_conversion(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    lead_id = sf.Lead.create({**LEAD, "HubSpot_Id__c": "777", "Industry": "Technology"})["id"]
    task_id = sf.Task.create({"WhoId": lead_id, "Subject": "Call"})["id"]
    contact_id = sandbox.convert_lead(lead_id)
    lead = sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True and lead["ConvertedContactId"] == contact_id
    assert lead["Status"] == "Closed - Converted" and lead["ConvertedAccountId"].startswith("001")
    contact = sf.Contact.get(contact_id)
    assert contact["HubSpot_Id__c"] == "777" and contact["Email"] == LEAD["Email"]
    assert sf.Account.get(lead["ConvertedAccountId"])["Industry"] == "Technology"
    assert sf.Task.get(task_id)["WhoId"] == contact_id
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.update(lead_id, {"Title": "x"})
    assert error_of(raised)["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_convert_lead_control_endpoint(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    lead_id = sf.Lead.create(LEAD)["id"]
    answer = sandbox.requests_session().post(f"{sandbox.instance_url}/__sandbox/convert-lead",
                                             json={"lead_id": lead_id, "create_opportunity": True}, timeout=5)
    body = answer.json()
    assert body["contact_id"].startswith("003") and body["opportunity_id"].startswith("006")


def test_describe_has_connector_fields(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    hubspot_id = fields["HubSpot_Id__c"]
    assert (hubspot_id["type"], hubspot_id["length"], hubspot_id["externalId"], hubspot_id["unique"]) == (
        "string", 64, True, True)
    assert fields["Status"]["restrictedPicklist"] is True
    assert [p["value"] for p in fields["Status"]["picklistValues"]] == [
        "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
    assert fields["LastName"]["nillable"] is False and fields["Company"]["createable"] is True
    assert fields["Nurture_Next_Touch__c"]["type"] == "date"
    assert fields["Nurture_Journey_Stage__c"]["type"] == "picklist"
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Lead", "Contact", "Task", "Campaign", "CampaignMember", "User", "Account", "Opportunity"} <= names


def test_updated_and_deleted_windows(sf: Salesforce) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    keep = sf.Lead.create(LEAD)["id"]
    gone = sf.Lead.create({**LEAD, "FirstName": "Gone", "Email": "gone@acme.example"})["id"]
    sf.Lead.delete(gone)
    end = datetime.now(UTC) + timedelta(minutes=1)
    assert sf.Lead.updated(start, end)["ids"] == [keep]
    assert [d["id"] for d in sf.Lead.deleted(start, end)["deletedRecords"]] == [gone]


def test_campaign_membership(sf: Salesforce) -> None:
    campaign = sf.Campaign.create({"Name": "Nurture - Early"})["id"]
    lead = sf.Lead.create(LEAD)["id"]
    member = sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})["id"]
    assert sf.CampaignMember.get(member)["Status"] == "Sent"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})
    assert error_of(raised)["errorCode"] == "DUPLICATE_VALUE"
    sf.CampaignMember.update(member, {"Status": "Responded"})
    assert sf.CampaignMember.get(member)["HasResponded"] is True


def test_seed_maps_people_to_leads(sandbox: SalesforceSandbox) -> None:
    people = generate_people(40, seed=5)
    ids = sandbox.seed(people)
    assert len(ids) == 40
    leads = [sandbox.state.records["Lead"][i] for i in ids]
    assert all(lead["Industry"] for lead in leads)
    assert {lead["OwnerId"] for lead in leads} <= set(sandbox.owner_ids())
    assert sandbox.outbound.messages_sent == 0


def test_state_file_survives_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sf.json"
    with start_sandbox(state_file=state_file) as sb:
        lead_id = client(sb).Lead.create({**LEAD, "HubSpot_Id__c": "9"})["id"]
    with start_sandbox(state_file=state_file) as sb:
        sf = client(sb)
        assert sf.Lead.get(lead_id)["Email"] == LEAD["Email"]
        assert sf.Lead.upsert("HubSpot_Id__c/9", {"Title": "x"}) == 204  # indexes rebuilt on load
        assert sf.Lead.create({**LEAD, "FirstName": "New", "Email": "new@acme.example"})["id"] != lead_id
