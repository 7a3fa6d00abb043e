"""Issue 10's reproductions at the core: no sync rule blanks or reverts a value a person set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector.core.merge import MISSING, Unmapped, merge_field
from connector.core.pair import HubSpotRecord, SalesforceRecord, plan_pair
from connector.settings.mapping_config import MappingConfig

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
INDUSTRY = {"COMPUTER_SOFTWARE": "Technology", "BANKING": "Banking"}


def _mapping(**extra: object) -> MappingConfig:
    return MappingConfig.model_validate({"fields": [
        {"name": "email", "hubspot": "email", "salesforce": "Email"},
        {"name": "industry", "hubspot": "industry", "salesforce": {"Lead": "Industry"}, "type": "enum",
         "sync": "prefer_salesforce_unless_blank", "values": INDUSTRY, **extra},
        {"name": "lead_source", "hubspot": "hs_analytics_source", "salesforce": "LeadSource", "type": "enum",
         "sync": "hubspot_to_salesforce", "values": {"ORGANIC_SEARCH": "Web"}},
        {"name": "city", "hubspot": "city", "salesforce": "City"},
    ]})


def _hs(**props: str) -> HubSpotRecord:
    return HubSpotRecord("101", props, T0)


def _sf(**fields: object) -> SalesforceRecord:
    return SalesforceRecord("Lead", "00Q000000000001AAA", fields, T0)


def test_item1_unmapped_hubspot_value_never_blanks_or_reverts_across_runs() -> None:
    """STAFFING_AND_RECRUITING had no entry: a second backfill wrote '' to HubSpot. Now nothing is written, run
    after run, and the problem is named with where to add the mapping."""
    mapping = _mapping()
    base: dict[str, object] = {}
    for _ in range(3):
        plan = plan_pair(mapping, _hs(industry="STAFFING_AND_RECRUITING"), _sf(Industry=None), base)
        assert plan.hubspot == [] and plan.salesforce == []
        (problem,) = plan.problems
        assert problem.kind == "unmapped" and "STAFFING_AND_RECRUITING" in problem.message
        assert "hubspot.industry has no mapping to Salesforce Industry" in problem.message
        base = plan.base
    # LEGAL_SERVICES replaced a synced value in HubSpot: never reverted to Salesforce's old value.
    plan = plan_pair(mapping, _hs(industry="LEGAL_SERVICES"), _sf(Industry="Technology"),
                     {"industry": "COMPUTER_SOFTWARE"})
    again = plan_pair(mapping, _hs(industry="LEGAL_SERVICES"), _sf(Industry="Technology"), plan.base)
    assert again.hubspot == [] and again.salesforce == [] and again.problems


def test_item1_policies_skip_error_and_default() -> None:
    plan = plan_pair(_mapping(unmapped="skip"), _hs(industry="LEGAL"), _sf(Industry="Banking"), {"industry": "BANKING"})
    assert plan.problems == [] and plan.salesforce == [] and plan.hubspot == []
    plan = plan_pair(_mapping(unmapped="error"), _hs(industry="LEGAL", city="Oslo"), _sf(Industry="Banking"),
                     {"industry": "BANKING"})
    assert plan.held and plan.salesforce == [] and plan.problems, "error holds the whole contact"
    plan = plan_pair(_mapping(default="BANKING"), _hs(industry="LEGAL"), _sf(Industry="Technology"),
                     {"industry": "COMPUTER_SOFTWARE"})
    assert [(c.crm_field, c.after) for c in plan.salesforce] == [("Industry", "Banking")]
    with pytest.raises(ValueError, match="not a key of `values`"):
        _mapping(default="NOPE")


@pytest.mark.parametrize("path", ["one-sided", "conflict", "first link"])
def test_item2_blank_on_the_preferred_side_never_overwrites(path: str) -> None:
    rule = "prefer_salesforce_unless_blank"
    base = {"one-sided": "Acme", "conflict": "Old", "first link": MISSING}[path]
    hub = "Acme" if path == "one-sided" else "New in HubSpot"
    merged = merge_field(rule, hub, None, base)
    assert merged.value == hub and not merged.write_hubspot, merged.reason


def test_item2_blank_from_the_other_side_is_refilled_not_copied() -> None:
    merged = merge_field("prefer_salesforce_unless_blank", None, "Acme", "Acme")
    assert (merged.value, merged.write_salesforce, merged.write_hubspot) == ("Acme", False, True)


def test_item2_creation_carries_no_blank_and_remembers_only_what_it_wrote() -> None:
    from connector.engine.gather import Gathered, Person
    from connector.engine.plan import build_plan
    from connector.store.links import Link

    mapping = _mapping()
    person = Person(Link(None, "101"), _hs(email="a@b.co", industry="STAFFING_AND_RECRUITING", city="Oslo"))
    plan = build_plan(mapping, Gathered([person]), {})
    (step,) = plan.steps
    assert step.action == "create" and "Industry" not in step.fields and step.fields["City"] == "Oslo"
    assert "industry" not in plan.pairs[0].base, "not written, so not remembered as synced"


def test_item6_one_way_blank_source_never_clears_the_target() -> None:
    mapping = _mapping()
    for base in ({}, {"lead_source": None}):
        plan = plan_pair(mapping, _hs(hs_analytics_source=""), _sf(LeadSource="Web"), base)
        assert plan.salesforce == [], base
        again = plan_pair(mapping, _hs(hs_analytics_source=""), _sf(LeadSource="Web"), plan.base)
        assert again.salesforce == [], "the kept value must not look like a person's change next run"
    # A person blanking the source does clear it: that is what one-way means.
    plan = plan_pair(mapping, _hs(hs_analytics_source=""), _sf(LeadSource="Web"), {"lead_source": "ORGANIC_SEARCH"})
    assert [(c.crm_field, c.after) for c in plan.salesforce] == [("LeadSource", None)]


def test_item6_unmapped_salesforce_value_is_not_absent() -> None:
    plan = plan_pair(_mapping(), _hs(hs_analytics_source=""), _sf(LeadSource="Trade Show"), {})
    assert plan.salesforce == [] and plan.hubspot == []
    assert isinstance(merge_field("hubspot_to_salesforce", None, Unmapped("Trade Show")).value, Unmapped)


def test_item3_two_way_decides_by_field_time_not_record_time() -> None:
    """HubSpot's record was touched later (our write-back), but its City changed before Salesforce's did."""
    mapping = _mapping()
    hs = HubSpotRecord("101", {"city": "Bergen"}, T0 + timedelta(minutes=5), {"city": T0})
    sf = SalesforceRecord("Lead", "00Q000000000001AAA", {"City": "Trondheim"}, T0 + timedelta(seconds=1.5))
    plan = plan_pair(mapping, hs, sf, {"city": "Oslo"}, now=T0 + timedelta(minutes=6))
    assert [(c.crm_field, c.after) for c in plan.hubspot] == [("city", "Trondheim")]
    assert plan.salesforce == []


def test_item8_match_key_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="`match:` is not supported"):
        MappingConfig.model_validate({"match": ["email", "phone"], "fields": [{"name": "email", "hubspot": "email"}]})
