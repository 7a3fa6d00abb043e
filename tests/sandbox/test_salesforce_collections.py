"""sObject Collections: create, update, upsert, retrieve, delete; allOrNone; the 200-record limit."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import client


@pytest.fixture
def sf(sandbox: SalesforceSandbox) -> Salesforce:
    return client(sandbox)


def lead(n: int, **extra: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "Acme", "Email": f"l{n}@acme.example",
            **extra}


def post(sf: Salesforce, records: list[dict[str, Any]], all_or_none: bool) -> list[dict[str, Any]]:
    return sf.restful("composite/sobjects", method="POST", json={"allOrNone": all_or_none, "records": records})


def test_create_partial_success(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    results = post(sf, [lead(1), lead(2, Company=None), lead(3)], all_or_none=False)
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1] == {"id": None, "success": False, "errors": [
        {"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Company]",
         "fields": ["Company"]}]}
    assert len(sandbox.state.records["Lead"]) == 2


def test_create_all_or_none_rolls_back(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    results = post(sf, [lead(1), lead(2, Industry="Rocketry"), lead(3)], all_or_none=True)
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[0]["id"] is None
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert sandbox.state.records["Lead"] == {}
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_update_and_rollback_restores_values(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    ids = [r["id"] for r in post(sf, [lead(1), lead(2)], all_or_none=False)]
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Lead"}, "id": ids[0], "Title": "CEO"},
        {"attributes": {"type": "Lead"}, "id": ids[1], "LastName": None}]})
    assert results[0] == {"id": ids[0], "success": False, "errors": [
        {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
         "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
         "fields": []}]}
    assert sandbox.state.records["Lead"][ids[0]]["Title"] is None
    results = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Lead"}, "id": ids[0], "Title": "CEO"},
        {"attributes": {"type": "Lead"}, "id": "00Q5e0000009999AAA", "Title": "x"}]})
    assert [r["success"] for r in results] == [True, False]
    assert sf.Lead.get(ids[0])["Title"] == "CEO"


def test_upsert_by_external_id(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    sf.Lead.create({"LastName": "Old", "Company": "Acme", "HubSpot_Id__c": "h1"})
    results = sf.restful("composite/sobjects/Lead/HubSpot_Id__c", method="PATCH", json={"allOrNone": False,
        "records": [lead(1, HubSpot_Id__c="h1"), lead(2, HubSpot_Id__c="h2"), lead(3)]})
    assert [(r["success"], r.get("created")) for r in results] == [(True, False), (True, True), (False, None)]
    rows = sf.query("SELECT HubSpot_Id__c, LastName FROM Lead ORDER BY HubSpot_Id__c")["records"]
    assert [(r["HubSpot_Id__c"], r["LastName"]) for r in rows] == [("h1", "L1"), ("h2", "L2")]
    again = sf.restful("composite/sobjects/Lead/HubSpot_Id__c", method="PATCH", json={"records": [
        lead(4, HubSpot_Id__c="h9"), lead(5, HubSpot_Id__c="H9")]})
    assert {e["errors"][0]["statusCode"] for e in again} == {"DUPLICATE_EXTERNAL_ID"}


def test_retrieve_and_delete(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    ids = [r["id"] for r in post(sf, [lead(1), lead(2)], all_or_none=False)]
    missing = "00Q5e0000009999AAA"
    rows = sf.restful("composite/sobjects/Lead", params={"ids": ",".join([*ids, missing]),
                                                         "fields": "Id,Email"})
    assert [r and r["Email"] for r in rows] == ["l1@acme.example", "l2@acme.example", None]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{ids[0]},{missing}"})
    assert [r["success"] for r in deleted] == [True, False]
    assert sf.restful("composite/sobjects/Lead", params={"ids": ids[0], "fields": "Id"}) == [None]


def test_more_than_200_records_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        post(sf, [lead(n) for n in range(201)], all_or_none=False)
    assert raised.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert len(post(sf, [lead(n) for n in range(200)], all_or_none=False)) == 200


def test_mixed_types_and_call_names(sandbox: SalesforceSandbox, sf: Salesforce) -> None:
    lead_id = post(sf, [lead(1)], all_or_none=False)[0]["id"]
    results = post(sf, [{"attributes": {"type": "Task"}, "WhoId": lead_id, "Subject": "Follow up",
                         "Priority": "High", "ActivityDate": "2026-12-01"},
                        {"attributes": {"type": "Task"}, "WhoId": "00Q5e0000009999AAA", "Subject": "x"}],
                   all_or_none=False)
    assert results[0]["success"] and results[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert sandbox.calls.snapshot()["POST /composite/sobjects"] == 2
