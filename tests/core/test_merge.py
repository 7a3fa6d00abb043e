"""The three-way merge and the pair planner, pinned rule by rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.core.merge import MISSING, merge_field
from connector.core.pair import HubSpotRecord, SalesforceRecord, plan_pair, salesforce_create_fields
from connector.settings.mapping_config import MappingConfig

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def test_change_on_one_side_wins_whatever_the_rule() -> None:
    for rule in ("two_way", "prefer_hubspot", "prefer_salesforce", "prefer_salesforce_unless_blank"):
        merged = merge_field(rule, "new", "old", "old", T0, T1)
        assert (merged.value, merged.write_salesforce, merged.write_hubspot) == ("new", True, False), rule
        merged = merge_field(rule, "old", "new", "old", T1, T0)
        assert (merged.value, merged.write_hubspot, merged.write_salesforce) == ("new", True, False), rule


@pytest.mark.parametrize(("rule", "hub_at", "sf_at", "expected"), [
    ("two_way", T1, T0, "hub"),
    ("two_way", T0, T1, "sf"),
    ("two_way", T0, T0, "hub"),
    ("prefer_hubspot", T0, T1, "hub"),
    ("prefer_salesforce", T1, T0, "sf"),
    ("prefer_salesforce_unless_blank", T1, T0, "sf"),
    ("prefer_hubspot_unless_blank", T0, T1, "hub"),
])
def test_conflict_settled_by_rule(rule: str, hub_at: datetime, sf_at: datetime, expected: str) -> None:
    merged = merge_field(rule, "hub", "sf", "base", hub_at, sf_at)
    assert merged.value == expected
    assert merged.write_salesforce == (expected == "hub")
    assert merged.write_hubspot == (expected == "sf")


def test_unless_blank_falls_back_to_the_other_side() -> None:
    assert merge_field("prefer_salesforce_unless_blank", "hub", None, "base").value == "hub"
    assert merge_field("prefer_hubspot_unless_blank", None, "sf", "base").value == "sf"


def test_one_way_rules_never_write_their_source() -> None:
    merged = merge_field("hubspot_to_salesforce", "a", "b", "a")  # Salesforce edited: overwritten
    assert (merged.value, merged.write_salesforce, merged.write_hubspot) == ("a", True, False)
    merged = merge_field("salesforce_to_hubspot", "a", "b", "b")
    assert (merged.value, merged.write_hubspot, merged.write_salesforce) == ("b", True, False)


def test_none_never_writes() -> None:
    merged = merge_field("none", "a", "b", "c")
    assert not merged.write_hubspot and not merged.write_salesforce


def test_in_sync_writes_nothing() -> None:
    merged = merge_field("two_way", "x", "x", MISSING)
    assert not merged.write_hubspot and not merged.write_salesforce


MAPPING = MappingConfig.model_validate({
    "fields": [
        {"name": "email", "hubspot": "email", "salesforce": "Email", "transform": ["trim", "lowercase"]},
        {"name": "company", "hubspot": "company", "salesforce": {"Lead": "Company"},
         "sync": "prefer_salesforce_unless_blank"},
        {"name": "industry", "hubspot": "industry", "salesforce": {"Lead": "Industry"}, "type": "enum",
         "values": {"COMPUTER_SOFTWARE": "Technology", "BANKING": "Banking"}},
        {"name": "employees", "hubspot": "numemployees", "salesforce": {"Lead": "NumberOfEmployees"},
         "type": "integer"},
        {"name": "tags", "hubspot": "tags", "salesforce": "Tags__c", "type": "multiselect",
         "values": {"a": "A", "b": "B"}},
        {"name": "optout", "hubspot": "hs_email_optout", "salesforce": "HasOptedOutOfEmail", "type": "boolean"},
        {"name": "title", "hubspot": "jobtitle", "salesforce": "Title"},
    ]
})


def _hs(**props: str) -> HubSpotRecord:
    return HubSpotRecord("101", props, T0)


def _sf(**fields: object) -> SalesforceRecord:
    return SalesforceRecord("Lead", "00Q000000000001AAA", fields, T0)


def test_representations_compare_equal_without_writes() -> None:
    plan = plan_pair(MAPPING, _hs(email=" Jane@Acme.com", company="Acme", industry="COMPUTER_SOFTWARE",
                                  numemployees="250", tags="b;a", hs_email_optout="false", jobtitle="CTO"),
                     _sf(Email="jane@acme.com", Company="Acme", Industry="Technology", NumberOfEmployees=250,
                         Tags__c="A;B", HasOptedOutOfEmail=False, Title="CTO"))
    assert plan.hubspot == [] and plan.salesforce == [] and plan.problems == []
    assert plan.canonical["tags"] == ("a", "b")
    assert plan.canonical["email_valid"] is True


def test_truncated_value_is_not_a_change() -> None:
    long_title = "Vice President of Revenue Operations and Strategy"
    base = {"title": long_title}
    plan = plan_pair(MAPPING, _hs(jobtitle=long_title), _sf(Title=long_title[:20]), base, {"Title": 20})
    assert plan.hubspot == [] and plan.salesforce == []
    plan = plan_pair(MAPPING, _hs(jobtitle=long_title), _sf(Title="CTO"), {}, {"Title": 20})
    (change,) = plan.salesforce  # first link, two_way tie: HubSpot wins, and Salesforce gets it truncated
    assert (change.crm_field, change.before, change.after) == ("Title", "CTO", long_title[:20])
    assert plan.hubspot == [] and plan.base["title"] == long_title


def test_unmapped_picklist_value_is_a_problem_not_a_crash() -> None:
    plan = plan_pair(MAPPING, _hs(industry="RETAIL"), _sf(Industry="Technology"), {"industry": "COMPUTER_SOFTWARE"})
    assert [(p.field, p.kind, p.message) for p in plan.problems] == [
        ("industry", "unmapped", "value 'RETAIL' of hubspot.industry has no mapping to Salesforce Industry; "
                                 "add it to the field's `values` map in the mappings file")]
    assert plan.salesforce == [] and plan.hubspot == []
    assert plan.base["industry"] == "COMPUTER_SOFTWARE"  # not synced: the HubSpot change is seen again next run
    plan = plan_pair(MAPPING, _hs(industry="BANKING"), _sf(Industry="Alien Tech"), {"industry": "BANKING"})
    assert plan.problems and plan.hubspot == []


def test_create_fields_fill_required_defaults_and_external_id() -> None:
    fields, problems = salesforce_create_fields(MAPPING, {"email": "a@b.com", "industry": "BANKING"}, "101")
    assert fields == {"Email": "a@b.com", "Industry": "Banking", "LastName": "[not provided]",
                      "Company": "[not provided]", "HubSpot_Id__c": "101"}
    assert problems == []
