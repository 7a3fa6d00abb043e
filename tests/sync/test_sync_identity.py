"""Identity over time: Lead conversion, HubSpot merges, deletions and duplicate emails."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests

from connector.engine.worker import Worker


def _linked_pair(rig: Any, email: str, last: str = "Person", company: str = "Acme") -> tuple[str, str]:
    hs_id = rig.hs_create(email=email, firstname="Pat", lastname=last, company=company)
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
    new_id = r.json()["id"]
    assert new_id not in (survivor, hs_id)
    for contact_id in (survivor, hs_id, new_id):  # the contact.merge webhook marks all three ids
        rig.mark("hubspot", contact_id)
    rig.sync()
    link = rig.link(salesforce_id=lead_id)
    assert link.hubspot_id == new_id
    assert len(rig.boxes.salesforce.state.records["Lead"]) == 1, "no twin Lead for the survivor"
    assert rig.sf("Lead", lead_id)["HubSpot_Id__c"] == new_id, "the Lead names the surviving contact"


def test_merging_two_linked_contacts_retires_one_link_and_deletes_nothing(rig: Any) -> None:
    mapping = rig.settings.mapping
    propagating = mapping.model_copy(update={"hubspot": mapping.hubspot.model_copy(update={"deletions": "propagate"})})
    rig.settings = replace(rig.settings, mapping=propagating)  # even then a merge is no deletion
    rig.worker = Worker(rig.settings, rig.engine, rig.clients)
    first, lead_a = _linked_pair(rig, "first@example.org")
    second, lead_b = _linked_pair(rig, "second@example.org", "Other", "Globex")  # not a duplicate-rule match
    r = requests.post(f"{rig.boxes.hubspot.url}/__sandbox/merge",
                      json={"primaryObjectId": first, "objectIdToMerge": second}, timeout=10)
    r.raise_for_status()
    new_id = r.json()["id"]
    for contact_id in (first, second, new_id):
        rig.mark("hubspot", contact_id)
    rig.sync()
    leads = rig.boxes.salesforce.state.records["Lead"]
    assert lead_a in leads and lead_b in leads, "nothing is deleted"
    stamped = sorted(str(leads[i].get("HubSpot_Id__c")) for i in (lead_a, lead_b))
    assert new_id in stamped
    holders = [link for link in (rig.link(salesforce_id=lead_a), rig.link(salesforce_id=lead_b))
               if link.hubspot_id == new_id]
    assert len(holders) == 1, "one link holds the surviving contact, the other is retired"
    assert any("merged into" in (row.rule or "") + (row.message or "") for row in rig.audit_rows())
    assert rig.sync().creates == 0, "no contact is re-created for the retired link"


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


def _erase_in_hubspot(rig: Any, hs_id: str) -> None:
    """A HubSpot privacy deletion, as the contact.privacyDeletion webhook has the edge apply it."""
    from connector.store.inbox import erase_person

    requests.post(f"{rig.boxes.hubspot.url}/__sandbox/gdpr-delete", json={"objectId": hs_id}, timeout=10)
    with rig.engine.begin() as conn:
        erase_person(conn, hubspot_id=hs_id)


def test_a_privacy_deletion_is_propagated_to_salesforce_when_configured(rig: Any) -> None:
    hs_id, lead_id = _linked_pair(rig, "forget-me@example.org", "Forget", "Erased Co")
    mapping = rig.settings.mapping
    propagating = mapping.model_copy(update={"hubspot": mapping.hubspot.model_copy(update={"deletions": "propagate"})})
    rig.settings = replace(rig.settings, mapping=propagating)
    rig.worker = Worker(rig.settings, rig.engine, rig.clients)
    _erase_in_hubspot(rig, hs_id)
    rig.sync()  # the erase marked the linked Lead; the worker applies hubspot.deletions to it
    lead = rig.boxes.salesforce.state.records["Lead"].get(lead_id)
    assert lead is None or lead["IsDeleted"], "the linked Lead is deleted"
    assert any(row.action == "delete" and "privacy" in (row.rule or "") for row in rig.audit_rows())
    assert rig.sync().creates == 0


def test_a_privacy_deletion_keeps_the_salesforce_record_under_mark_and_never_recreates_it(rig: Any) -> None:
    hs_id, lead_id = _linked_pair(rig, "forget-me-not@example.org", "Keep", "Kept Co")
    _erase_in_hubspot(rig, hs_id)
    rig.sync()
    assert not rig.boxes.salesforce.state.records["Lead"][lead_id]["IsDeleted"]
    rig.sf_edit("Lead", lead_id, {"Title": "Still here"})
    rig.mark("salesforce", lead_id, "Lead")
    assert rig.sync().creates == 0, "the erased person is not created in HubSpot again"
    emails = [c.properties.get("email") for c in rig.boxes.hubspot.state.contacts.values()]
    assert "forget-me-not@example.org" not in emails
