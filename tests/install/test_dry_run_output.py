"""The backfill dry run's totals and table, and the gunicorn options that keep two instances apart."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from connector.commands.sync_cmds import _print_plan
from connector.core.pair import HubSpotRecord, SalesforceRecord
from connector.engine.backfill_summary import summarize
from connector.engine.gather import Person
from connector.engine.plan import BatchPlan, Step
from connector.settings.mapping_config import MappingConfig
from connector.store.links import Link

MAPPING = MappingConfig.model_validate({"fields": [
    {"name": "email", "hubspot": "email", "salesforce": "Email"},
    {"name": "industry", "hubspot": "industry", "salesforce": "Industry", "type": "enum",
     "sync": "prefer_salesforce_unless_blank", "values": {"COMPUTER_SOFTWARE": "Technology"}},
    {"name": "lead_source", "hubspot": "hs_analytics_source", "salesforce": "LeadSource", "type": "enum",
     "sync": "hubspot_to_salesforce", "values": {"PAID_SEARCH": "Paid Search"}},
]})


def test_totals_count_creates_links_updates_duplicates_and_unmapped_values() -> None:
    hs = HubSpotRecord("1", {"email": "a@x.com", "industry": "BANKING", "hs_analytics_source": "OFFLINE"})
    sf = SalesforceRecord("Lead", "00Q1", {"Email": "a@x.com", "Industry": "Agriculture", "LeadSource": "Web"})
    lonely = HubSpotRecord("2", {"email": "b@x.com", "industry": "COMPUTER_SOFTWARE"})
    people = [Person(Link(None), hs, sf), Person(Link(7, "3", "00Q3"), HubSpotRecord("3", {}),
                                                 SalesforceRecord("Lead", "00Q3", {})),
              Person(Link(None), lonely)]
    steps = [Step(0, "hubspot", "contact", "1", "update", {"industry": "X"}, {}, {}),
             Step(0, "hubspot", "contact", "1", "update", {"firstname": "Y"}, {}, {}),
             Step(2, "salesforce", "Lead", None, "create", {"Email": "b@x.com"}, {}, {})]
    plan = BatchPlan(people, [], steps, duplicates=[("salesforce", "00Q9", "same email")])
    totals = summarize(plan, MAPPING)
    assert (totals.hubspot.create, totals.hubspot.update, totals.hubspot.link) == (0, 1, 1)
    assert (totals.salesforce.create, totals.salesforce.update, totals.salesforce.link) == (1, 0, 1)
    assert totals.hubspot.calls == 1 and totals.salesforce.calls == 1
    assert totals.duplicates == 1
    # industry is carried both ways: both sides' unmapped values count; lead_source only from HubSpot.
    assert dict(totals.unmapped) == {"industry: HubSpot BANKING": 1, "industry: Salesforce Agriculture": 1,
                                     "lead_source: HubSpot OFFLINE": 1}


def test_the_plan_table_keeps_long_names_apart(capsys: pytest.CaptureFixture[str]) -> None:
    long_name = "Nurture_Engagement_Score_Last_Quarter__c"
    rows: list[dict[str, Any]] = [
        {"crm": "salesforce", "object": "Contact", "id": "0035e0000000001AAA", "action": "update",
         "field": long_name, "before": None, "after": 12, "rule": "writeback"},
        {"crm": "hubspot", "object": "contact", "id": "101", "action": "update", "field": "email", "before": "A@x",
         "after": "a@x", "rule": "two_way"}]
    with CliRunner().isolation() as (out, _err, *_):
        _print_plan(rows, as_json=False)
        text = out.getvalue().decode()
    lines = text.splitlines()
    assert f"0035e0000000001AAA  update  {long_name}  None -> 12" in lines[1]
    assert lines[0].index("FIELD") == lines[1].index(long_name) == lines[2].index("email")


def test_gunicorn_runs_without_a_shared_control_socket() -> None:
    from webhooks.server import WebServer, gunicorn_options

    server = WebServer(lambda: None, gunicorn_options("127.0.0.1", 0, 1))
    assert server.cfg.control_socket_disable is True
