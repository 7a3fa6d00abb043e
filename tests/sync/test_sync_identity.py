"""Identity over time: Lead conversion, HubSpot merges, deletions and duplicate emails."""

from __future__ import annotations

from typing import Any

import requests


def _linked_pair(rig: Any, email: str) -> tuple[str, str]:
    hs_id = rig.hs_create(email=email, firstname="Pat", lastname="Person", company="Acme")
    rig.mark("hubspot", hs_id)
    rig.sync()
    return hs_id, rig.link(hubspot_id=hs_id).salesforce_id


def test_converted_lead_continues_as_its_contact(rig: Any) -> None:
    hs_id, lead_id = _linked_pair(rig, "convert@example.org")
    contact_id = rig.boxes.salesforce.convert_lead(lead_id)
    rig.mark("salesforce", lead_id, "Lead")
    rig.sync()
    link = rig.link(hubspot_id=hs_id)
    assert (link.salesforce_id, link.salesforce_type) == (contact_id, "Contact")
    rig.hs_edit(hs_id, jobtitle="Buyer")
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert rig.sf("Contact", contact_id)["Title"] == "Buyer"
    assert any("was converted" in (r.message or "") for r in rig.audit_rows("link"))


def test_hubspot_merge_moves_the_link_to_the_survivor(rig: Any) -> None:
    hs_id, lead_id = _linked_pair(rig, "merged-away@example.org")
    survivor = rig.hs_create(email="survivor@example.org", firstname="Sur", lastname="Vivor")
    r = requests.post(f"{rig.boxes.hubspot.url}/__sandbox/merge",
                      json={"primaryObjectId": survivor, "objectIdToMerge": hs_id}, timeout=10)
    r.raise_for_status()
    rig.mark("hubspot", survivor)  # the contact.merge webhook marks the survivor and the merged ids
    rig.mark("hubspot", hs_id)
    rig.sync()
    link = rig.link(salesforce_id=lead_id)
    assert link.hubspot_id == survivor
    assert len(rig.boxes.salesforce.state.records["Lead"]) == 1, "no twin Lead for the survivor"


def test_hubspot_deletion_is_marked_not_propagated_and_not_recreated(rig: Any) -> None:
    hs_id, lead_id = _linked_pair(rig, "deleted@example.org")
    requests.delete(f"{rig.boxes.hubspot.url}/__sandbox/ui/contacts/{hs_id}", timeout=10).raise_for_status()
    rig.mark("hubspot", hs_id)
    rig.sync()
    assert lead_id in rig.boxes.salesforce.state.records["Lead"]  # deletions: mark keeps the Lead
    link = rig.link(salesforce_id=lead_id)
    assert link.hubspot_id is None
    rig.mark("salesforce", lead_id, "Lead")
    assert rig.sync().creates == 0, "a deleted HubSpot contact must not come back"


def test_duplicate_salesforce_emails_link_one_and_report_the_other(rig: Any) -> None:
    rig.boxes.salesforce.store.duplicate_rule = False  # an org without the duplicate rule lets twins in
    first = rig.sf_create("Lead", Email="twin@example.org", LastName="One", Company="A")
    second = rig.sf_create("Lead", Email="Twin@example.org", LastName="Two", Company="B")
    rig.mark("salesforce", first, "Lead")
    rig.mark("salesforce", second, "Lead")
    rig.sync()
    linked = rig.link(email="twin@example.org")
    assert linked.salesforce_id == first  # the oldest
    reported = {r.object_id for r in rig.audit_rows("duplicate")}
    assert second in reported
    contacts = [c for c in rig.boxes.hubspot.state.contacts.values() if c.properties.get("email") == "twin@example.org"]
    assert len(contacts) == 1
