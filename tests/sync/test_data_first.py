"""Issue 10 over both sandboxes, as an admin would try it: unmapped values and blanks never wipe a person's data,
problems are visible where an admin looks, and they clear once the mapping is fixed."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from connector.cli import cli


def _run(rig: Any, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(rig.settings.path), *args], catch_exceptions=False)


def test_unmapped_industry_is_kept_listed_and_cleared_by_the_mapping_and_rescore(rig: Any) -> None:
    hs_id = rig.hs_create(email="staff@example.org", firstname="Sta", lastname="Ff", company="S",
                          industry="STAFFING_AND_RECRUITING")
    rig.mark("hubspot", hs_id)
    first = rig.sync()
    assert first.new_problems == {"unmapped": 1}
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    for _ in range(2):  # the second backfill used to write '' to HubSpot
        rig.mark("hubspot", hs_id)
        rig.mark("salesforce", lead_id, "Lead")
        assert rig.sync().new_problems == {}, "a problem found again is counted, not re-filed"
    assert rig.hs(hs_id)["industry"] == "STAFFING_AND_RECRUITING"
    assert not rig.sf("Lead", lead_id).get("Industry")

    listed = _run(rig, "problems")
    assert listed.exit_code == 0
    assert "staff@example.org industry [unmapped] seen 3x" in listed.stdout
    assert "value 'STAFFING_AND_RECRUITING' of hubspot.industry has no mapping to Salesforce Industry; " \
           "add it to mappings/contact.yaml:" in listed.stdout
    assert "problems (values that could not be synced)" in _run(rig, "dlq", "list").stdout

    # The admin adds the mapping and rescores: the value flows, and the problem is resolved.
    path = rig.settings.path.parent / "mappings" / "contact.yaml"
    text = path.read_text()
    path.write_text(text.replace("      CONSTRUCTION: Construction\n",
                                 "      CONSTRUCTION: Construction\n      STAFFING_AND_RECRUITING: Other\n"))
    assert _run(rig, "rescore").exit_code == 0
    assert _run(rig, "worker", "--once").exit_code == 0
    assert rig.sf("Lead", lead_id)["Industry"] == "Other"
    assert "0 problem(s)" in _run(rig, "problems").stderr


def test_unless_blank_and_one_way_blanks_never_clear_values(rig: Any) -> None:
    hs_id = rig.hs_create(email="blank@example.org", firstname="Bl", lastname="Ank", company="Acme",
                          phone="+47 1234")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.sf_edit("Lead", lead_id, {"Phone": None, "LeadSource": "Partner Referral"})  # blank on the preferred side
    rig.mark("salesforce", lead_id, "Lead")
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.hs(hs_id)["phone"] == "+47 1234", "prefer_salesforce_unless_blank: a blank never overwrites"
    assert rig.sf("Lead", lead_id)["Phone"] == "+47 1234", "the blank is refilled from the value"
    assert rig.sf("Lead", lead_id)["LeadSource"] == "Partner Referral", "a blank one-way source clears nothing"
    for _ in range(2):
        rig.mark("salesforce", lead_id, "Lead")
        rig.mark("hubspot", hs_id)
        rig.sync()
    assert rig.sf("Lead", lead_id)["LeadSource"] == "Partner Referral"


def test_two_way_conflict_goes_to_the_field_changed_last(rig: Any) -> None:
    """A Salesforce edit to City made after a HubSpot edit to City wins, although the HubSpot record was
    modified later (another field, as the connector's own write-back does)."""
    import time

    hs_id = rig.hs_create(email="city@example.org", firstname="Ci", lastname="Ty", company="C", city="Oslo")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.hs_edit(hs_id, city="Bergen")
    time.sleep(0.05)
    rig.sf_edit("Lead", lead_id, {"City": "Trondheim"})
    time.sleep(0.05)
    rig.hs_edit(hs_id, jobtitle="Touched later")  # the HubSpot record is now the one modified last
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    assert rig.hs(hs_id)["city"] == "Trondheim"
    assert rig.sf("Lead", lead_id)["City"] == "Trondheim"


def test_backfill_never_clears_lead_source_from_a_blank_one_way_source(rig: Any) -> None:
    """Item 6: 8 of 20 fresh contacts lost LeadSource — a blank HubSpot source under "one-way from HubSpot", and
    Salesforce values with no map entry taken for absent. Three backfills later, every Lead keeps its value."""
    from connector.core.pair import email_valid
    from connector.engine.backfill import backfill
    from connector.sandbox.fake_people import generate_people

    people = [p for p in generate_people(20, seed=11) if email_valid(p.email)]
    rig.boxes.salesforce.seed(people)
    for person in people:  # fresh HubSpot contacts, no source yet
        rig.hs_create(email=person.email, firstname=person.first_name, lastname=person.last_name)
    before = {lead["Email"]: lead.get("LeadSource") for lead in rig.boxes.salesforce.state.records["Lead"].values()}
    assert sum(1 for v in before.values() if v) >= 10
    for _ in range(3):
        backfill(rig.settings, rig.engine, rig.clients)
    after = {lead["Email"]: lead.get("LeadSource") for lead in rig.boxes.salesforce.state.records["Lead"].values()}
    assert after == before


def test_worker_says_new_problems_by_kind_once_a_minute(caplog: Any, monkeypatch: Any) -> None:
    import logging

    from connector.engine import worker as worker_module

    clock = [1000.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: clock[0])
    summary = worker_module.ProblemSummary()
    with caplog.at_level(logging.WARNING, logger="connector.engine.worker"):
        summary.add({"unmapped": 2}, 1)  # the first ones are said at once
        summary.add({"unmapped": 1}, 0)  # then at most once a minute
        summary.add({}, 0)
        clock[0] += 61
        summary.add({"bad_value": 1}, 0)
    said = [r.getMessage() for r in caplog.records if "new problems" in r.getMessage()]
    assert said == ["new problems: 1 dead letter, 2 unmapped (see `nurture problems` and `nurture dlq list`)",
                    "new problems: 1 bad_value, 1 unmapped (see `nurture problems` and `nurture dlq list`)"]
