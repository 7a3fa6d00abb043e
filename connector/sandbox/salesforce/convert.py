"""Lead conversion. Not part of the REST API (it is SOAP convertLead or Apex), so the sandbox offers it
as a method and a control endpoint; the result looks like what a user's conversion leaves behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from connector.sandbox.salesforce.records import Store
from connector.sandbox.salesforce.validate import RecordError, RecordFailed

# Lead field -> Contact field, as the standard lead field mapping does; custom fields map by name.
CONTACT_MAP = {
    "FirstName": "FirstName", "LastName": "LastName", "Email": "Email", "Title": "Title", "Phone": "Phone",
    "MobilePhone": "MobilePhone", "LeadSource": "LeadSource", "HasOptedOutOfEmail": "HasOptedOutOfEmail",
    "DoNotCall": "DoNotCall", "Description": "Description", "City": "MailingCity", "State": "MailingState",
    "Country": "MailingCountry", "PostalCode": "MailingPostalCode", "Street": "MailingStreet",
    "OwnerId": "OwnerId", "EmailBouncedReason": "EmailBouncedReason", "EmailBouncedDate": "EmailBouncedDate",
}
ACCOUNT_MAP = {
    "Company": "Name", "Industry": "Industry", "Website": "Website", "NumberOfEmployees": "NumberOfEmployees",
    "City": "BillingCity", "Country": "BillingCountry", "Phone": "Phone", "OwnerId": "OwnerId",
}


@dataclass(frozen=True)
class Conversion:
    lead_id: str
    contact_id: str
    account_id: str
    opportunity_id: str | None


def convert_lead(store: Store, lead_id: str, *, contact_id: str | None = None, account_id: str | None = None,
                 create_opportunity: bool = False, converted_status: str = "Closed - Converted") -> Conversion:
    with store.transaction() as txn:
        lead = store.get("Lead", lead_id)
        if lead.get("IsConverted"):
            raise RecordFailed([RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")])
        contact_type = store.type_of("Contact")
        if account_id is None and contact_id is not None:
            account_id = store.get("Contact", contact_id).get("AccountId")
        if account_id is None:
            account = {dst: lead.get(src) for src, dst in ACCOUNT_MAP.items() if lead.get(src) is not None}
            account_id = store.create("Account", account, txn)
        custom = {name: lead.get(name) for name in contact_type.fields
                  if name.endswith("__c") and lead.get(name) is not None}
        contact = {dst: lead.get(src) for src, dst in CONTACT_MAP.items() if lead.get(src) is not None}
        if contact_id is None:
            # The converted Lead's email leaves the duplicate index only after conversion, so skip the rule.
            contact_id = store.create("Contact", {**contact, **custom, "AccountId": account_id}, txn,
                                      allow_duplicates=True)
        else:
            store.update("Contact", contact_id, {"AccountId": account_id, **custom}, txn, allow_duplicates=True)
        opportunity_id = None
        if create_opportunity:
            opportunity_id = store.create("Opportunity", {
                "Name": f"{lead.get('Company') or lead.get('LastName')}-", "AccountId": account_id,
                "StageName": "Prospecting", "CloseDate": datetime.now(UTC).date().isoformat(),
                "LeadSource": lead.get("LeadSource"),
            }, txn)
        store.update("Lead", lead["Id"], {
            "IsConverted": True, "ConvertedContactId": contact_id, "ConvertedAccountId": account_id,
            "ConvertedOpportunityId": opportunity_id, "Status": converted_status,
            "ConvertedDate": datetime.now(UTC).date().isoformat(),
        }, txn, system=True)
        # Activities and campaign memberships follow the person, as they do on a real conversion.
        for task in list(store.state.table("Task").values()):
            if task.get("WhoId") == lead["Id"] and not task.get("IsDeleted"):
                store.update("Task", task["Id"], {"WhoId": contact_id}, txn)
        for member in list(store.state.table("CampaignMember").values()):
            if member.get("LeadId") == lead["Id"] and not member.get("IsDeleted"):
                store.update("CampaignMember", member["Id"], {"ContactId": contact_id}, txn, system=True)
    return Conversion(lead["Id"], contact_id, account_id, opportunity_id)
