"""SOQL through /query and /queryAll: filters, ordering, paging with nextRecordsUrl, deleted rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connector.sandbox.fake_people import generate_people
from connector.sandbox.salesforce import SalesforceSandbox
from connector.sandbox.salesforce.testing import client

ROWS = [
    {"LastName": "Alpha", "Company": "A", "Email": "a@x.example", "NumberOfEmployees": 10, "Industry": "Technology",
     "HasOptedOutOfEmail": False, "Nurture_Next_Touch__c": "2026-11-20"},
    {"LastName": "Bravo", "Company": "B", "Email": "b@x.example", "NumberOfEmployees": 250, "Industry": "Finance",
     "HasOptedOutOfEmail": True, "Nurture_Next_Touch__c": "2026-12-01"},
    {"LastName": "charlie", "Company": "C", "Email": None, "NumberOfEmployees": 50, "Industry": "Technology",
     "HasOptedOutOfEmail": False},
    {"LastName": "Delta", "Company": "D", "Email": "d@y.example", "NumberOfEmployees": None, "Industry": None,
     "HasOptedOutOfEmail": False},
]


@pytest.fixture
def sf(org: SalesforceSandbox) -> Salesforce:
    org.reset()
    sf = client(org)
    for row in ROWS:
        sf.Lead.create({k: v for k, v in row.items() if v is not None})
    return sf


def names(sf: Salesforce, soql: str) -> list[str]:
    return [r["LastName"] for r in sf.query(soql)["records"]]


@pytest.mark.parametrize(("where", "expected"), [
    ("Email = 'A@X.EXAMPLE'", ["Alpha"]),  # string equality ignores case, as in SOQL
    ("Email != null", ["Alpha", "Bravo", "Delta"]),
    ("Email = null", ["charlie"]),
    ("NumberOfEmployees > 10", ["Bravo", "charlie"]),
    ("NumberOfEmployees >= 10 AND NumberOfEmployees <= 50", ["Alpha", "charlie"]),
    ("NumberOfEmployees < 100", ["Alpha", "charlie"]),
    ("Industry IN ('Finance', 'Retail')", ["Bravo"]),
    ("Industry NOT IN ('Technology')", ["Bravo", "Delta"]),
    ("HasOptedOutOfEmail = true", ["Bravo"]),
    ("NOT (Industry = 'Technology' OR Industry = null)", ["Bravo"]),
    ("(Industry = 'Technology' AND NumberOfEmployees > 20) OR LastName = 'Delta'", ["charlie", "Delta"]),
    ("Email LIKE '%@x.example'", ["Alpha", "Bravo"]),
    ("Nurture_Next_Touch__c > 2026-11-20", ["Bravo"]),
    ("Nurture_Next_Touch__c = 2026-11-20", ["Alpha"]),
    ("CreatedDate > 2020-01-01T00:00:00Z", ["Alpha", "Bravo", "charlie", "Delta"]),
    ("SystemModstamp = LAST_N_DAYS:1", ["Alpha", "Bravo", "charlie", "Delta"]),
    ("CreatedDate < 2020-01-01T00:00:00.000+0000", []),
])
def test_where(sf: Salesforce, where: str, expected: list[str]) -> None:
    assert names(sf, f"SELECT LastName FROM Lead WHERE {where} ORDER BY LastName") == expected


def test_order_by_several_fields_and_limit(sf: Salesforce) -> None:
    soql = "SELECT LastName, Industry FROM Lead ORDER BY Industry DESC NULLS LAST, LastName ASC LIMIT 3"
    assert names(sf, soql) == ["Alpha", "charlie", "Bravo"]
    assert names(sf, "SELECT LastName FROM Lead ORDER BY NumberOfEmployees") == ["Delta", "Alpha", "charlie", "Bravo"]


def test_selected_fields_and_count(sf: Salesforce) -> None:
    record = sf.query("SELECT Id, email FROM Lead WHERE LastName = 'Alpha'")["records"][0]
    assert list(record) == ["attributes", "Id", "Email"]
    assert sf.query("SELECT COUNT() FROM Lead WHERE Industry = 'Technology'")["totalSize"] == 2


def test_datetime_high_water_mark(sf: Salesforce) -> None:
    rows = sf.query("SELECT Id, SystemModstamp FROM Lead ORDER BY SystemModstamp DESC LIMIT 1")["records"]
    mark = datetime.strptime(rows[0]["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    later = (mark + timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sf.query(f"SELECT Id FROM Lead WHERE SystemModstamp > {later}")["totalSize"] == 0


@pytest.mark.parametrize(("soql", "code"), [
    ("SELECT FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Id Lead", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE Email = 'x' GROUP BY Email", "MALFORMED_QUERY"),
    ("SELECT Id, Owner.Name FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Nope__c FROM Lead", "INVALID_FIELD"),
    ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
    ("SELECT Id FROM Lead WHERE NumberOfEmployees = '10'", "INVALID_QUERY_FILTER_OPERATOR"),
])
def test_bad_queries(sf: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(soql)
    assert raised.value.content[0]["errorCode"] == code


def test_query_all_pages_through_next_records_url(org: SalesforceSandbox, sf: Salesforce) -> None:
    org.seed(generate_people(450, seed=2))
    first = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert (first["totalSize"], first["done"], len(first["records"])) == (454, False, 200)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    org.calls.reset()
    everything = sf.query_all("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert everything["totalSize"] == 454
    assert len({r["Id"] for r in everything["records"]}) == 454
    assert org.calls.snapshot() == {"GET /query": 1, "GET /query/{locator}": 2}
    assert len(sf.query("SELECT Id FROM Lead")["records"]) == 454  # default batch is 2,000


def test_query_all_includes_deleted_rows(sf: Salesforce) -> None:
    alpha = sf.query("SELECT Id FROM Lead WHERE LastName = 'Alpha'")["records"][0]["Id"]
    sf.Lead.delete(alpha)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 3
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in deleted["records"]] == [(alpha, True)]
    assert sf.query_all("SELECT Id FROM Lead", include_deleted=True)["totalSize"] == 4
