"""End to end over both sandbox CRMs with the real SDKs: creates, updates, silence after our own writes."""

from __future__ import annotations

import time
from typing import Any

import pytest


def test_hubspot_contact_becomes_salesforce_lead(rig: Any) -> None:
    hs_id = rig.hs_create(email="Ada.Lovelace@Analytical.example", firstname="Ada", lastname="Lovelace",
                          company="Analytical Engines", jobtitle="VP Engineering", industry="COMPUTER_SOFTWARE")
    rig.mark("hubspot", hs_id)
    totals = rig.sync()
    assert totals.creates == 1
    link = rig.link(hubspot_id=hs_id)
    assert link.salesforce_type == "Lead" and link.salesforce_id.startswith("00Q")
    lead = rig.sf("Lead", link.salesforce_id)
    assert lead["Email"] == "ada.lovelace@analytical.example"
    assert (lead["FirstName"], lead["LastName"], lead["Company"]) == ("Ada", "Lovelace", "Analytical Engines")
    assert lead["Industry"] == "Technology" and lead["Title"] == "VP Engineering"
    assert lead["HubSpot_Id__c"] == hs_id
    # Once: the Lead's defaulted Status flows back to HubSpot, and the brain's results reach the new Lead.
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", link.salesforce_id, "Lead")
    assert rig.sync().writes == 2
    assert rig.hs(hs_id)["hs_lead_status"] == "NEW"
    assert rig.sf("Lead", link.salesforce_id)["Nurture_Persona__c"] == "executive_buyer"
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", link.salesforce_id, "Lead")
    assert rig.sync().writes == 0


def test_salesforce_lead_becomes_hubspot_contact_and_is_stamped(rig: Any) -> None:
    lead_id = rig.sf_create("Lead", Email="grace@navy.example", FirstName="Grace", LastName="Hopper",
                            Company="US Navy", Industry="Government", Status="Open - Not Contacted")
    rig.mark("salesforce", lead_id, "Lead")
    assert rig.sync().creates == 1
    link = rig.link(salesforce_id=lead_id)
    contact = rig.hs(link.hubspot_id)
    assert (contact["email"], contact["firstname"], contact["company"]) == ("grace@navy.example", "Grace", "US Navy")
    assert contact["industry"] == "GOVERNMENT_ADMINISTRATION"
    assert contact["hs_lead_status"] == "NEW"
    assert rig.sf("Lead", lead_id)["HubSpot_Id__c"] == link.hubspot_id


def test_update_on_either_side_flows_to_the_other(rig: Any) -> None:
    hs_id = rig.hs_create(email="alan@bletchley.example", firstname="Alan", lastname="Turing", company="GCHQ")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.hs_edit(hs_id, jobtitle="Head of Research")
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.sf("Lead", lead_id)["Title"] == "Head of Research"
    rig.sf_edit("Lead", lead_id, {"Phone": "+44 20 7946 0000", "Title": "Chief Scientist"})
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    contact = rig.hs(hs_id)
    assert contact["phone"] == "+44 20 7946 0000" and contact["jobtitle"] == "Chief Scientist"
    changes = [(r.system, r.field, r.after) for r in rig.audit_rows("update")]
    assert ("salesforce", "Title", "Head of Research") in changes
    assert ("hubspot", "jobtitle", "Chief Scientist") in changes


@pytest.mark.parametrize(("field", "hs_prop", "sf_field", "expected"), [
    ("title (two_way: the later edit wins)", "jobtitle", "Title", "sf"),
    ("company (prefer_salesforce_unless_blank)", "company", "Company", "sf"),
])
def test_conflicting_edits_are_settled_by_the_rule(rig: Any, field: str, hs_prop: str, sf_field: str,
                                                   expected: str) -> None:
    hs_id = rig.hs_create(email="conflict@example.org", firstname="Con", lastname="Flict", company="Start",
                          jobtitle="Start")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.hs_edit(hs_id, **{hs_prop: "from hubspot"})
    time.sleep(0.05)  # edits in the same instant are a tie, which HubSpot breaks
    rig.sf_edit("Lead", lead_id, {sf_field: "from salesforce"})  # later than the HubSpot edit
    rig.mark("hubspot", hs_id)
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    want = "from salesforce" if expected == "sf" else "from hubspot"
    assert rig.hs(hs_id)[hs_prop] == want
    assert rig.sf("Lead", lead_id)[sf_field] == want


def test_email_change_keeps_the_link(rig: Any) -> None:
    hs_id = rig.hs_create(email="old@example.org", firstname="Em", lastname="Change", company="X")
    rig.mark("hubspot", hs_id)
    rig.sync()
    lead_id = rig.link(hubspot_id=hs_id).salesforce_id
    rig.hs_edit(hs_id, email="new@example.org")
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.sf("Lead", lead_id)["Email"] == "new@example.org"
    link = rig.link(hubspot_id=hs_id)
    assert link.salesforce_id == lead_id and link.email == "new@example.org"
    assert len(rig.boxes.salesforce.state.records["Lead"]) == 1


def test_existing_records_are_linked_by_email_not_duplicated(rig: Any) -> None:
    lead_id = rig.sf_create("Lead", Email="both@example.org", LastName="Both", Company="Twin Corp")
    hs_id = rig.hs_create(email="both@example.org", firstname="Bo", lastname="Both")
    rig.mark("hubspot", hs_id)
    rig.sync()
    link = rig.link(hubspot_id=hs_id)
    assert link.salesforce_id == lead_id
    assert len(rig.boxes.salesforce.state.records["Lead"]) == 1
    assert rig.hs(hs_id)["company"] == "Twin Corp"  # prefer_salesforce_unless_blank
