"""The objects and fields of the emulated org: standard fields as a fresh org has them, plus the
custom fields the connector needs (``HubSpot_Id__c``, ``Nurture_*__c``, ``Lifecycle_Stage__c``)."""

from __future__ import annotations

from connector.sandbox.salesforce.schema import Field, Schema, SObjectType
from connector.sandbox.salesforce.state import KEY_PREFIXES

INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
    "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
    "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
    "Manufacturing", "Media", "Not For Profit", "Other", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities",
)
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
LEAD_SOURCES = (
    "Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other",
    # values this org's admins added (the list is not restricted, as in a fresh org)
    "Webinar", "Trade Show", "Referral", "Paid Search", "Organic Search", "Partner",
)
JOURNEY_STAGES = ("Awareness", "Consideration", "Decision", "Customer")
LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
)

READ_ONLY = {"createable": False, "updateable": False}


def _system(owned: bool = True) -> list[Field]:
    fields = [
        Field("Id", "id", 18, nillable=False, defaulted_on_create=True, **READ_ONLY),
        Field("IsDeleted", "boolean", nillable=False, defaulted_on_create=True, default=False, **READ_ONLY),
        Field("CreatedDate", "datetime", nillable=False, defaulted_on_create=True, **READ_ONLY),
        Field("CreatedById", "reference", 18, nillable=False, defaulted_on_create=True,
              reference_to=("User",), **READ_ONLY),
        Field("LastModifiedDate", "datetime", nillable=False, defaulted_on_create=True, **READ_ONLY),
        Field("LastModifiedById", "reference", 18, nillable=False, defaulted_on_create=True,
              reference_to=("User",), **READ_ONLY),
        Field("SystemModstamp", "datetime", nillable=False, defaulted_on_create=True, **READ_ONLY),
    ]
    if owned:
        fields.append(Field("OwnerId", "reference", 18, nillable=False, defaulted_on_create=True,
                            reference_to=("User",)))
    return fields


def _person(last_required: bool = True) -> list[Field]:
    return [
        Field("FirstName", "string", 40),
        Field("LastName", "string", 80, nillable=not last_required),
        Field("Name", "string", 121, **READ_ONLY),
        Field("Email", "email", 80),
        Field("Title", "string", 128),
        Field("Phone", "phone", 40),
        Field("MobilePhone", "phone", 40),
        Field("LeadSource", "picklist", 255, picklist=LEAD_SOURCES),
        Field("HasOptedOutOfEmail", "boolean", nillable=False, defaulted_on_create=True, default=False),
        Field("DoNotCall", "boolean", nillable=False, defaulted_on_create=True, default=False),
        Field("EmailBouncedReason", "string", 255),
        Field("EmailBouncedDate", "datetime"),
        Field("Description", "textarea", 32000),
        Field("LastActivityDate", "date", **READ_ONLY),
    ]


def _nurture() -> list[Field]:
    return [
        Field("HubSpot_Id__c", "string", 64, label="HubSpot Id", external_id=True, unique=True),
        Field("Nurture_Score__c", "double", precision=18, scale=0),
        Field("Nurture_Fit_Score__c", "double", precision=18, scale=0),
        Field("Nurture_Engagement_Score__c", "double", precision=18, scale=0),
        Field("Nurture_Persona__c", "string", 80),
        Field("Nurture_Segments__c", "string", 255),
        Field("Nurture_Journey_Stage__c", "picklist", 255, picklist=JOURNEY_STAGES, restricted=True),
        Field("Nurture_Track__c", "string", 80),
        Field("Nurture_Next_Touch__c", "date"),
        Field("Lifecycle_Stage__c", "picklist", 255, picklist=LIFECYCLE_STAGES, restricted=True),
    ]


def _object(name: str, label: str, fields: list[Field]) -> SObjectType:
    sobject = SObjectType(name, label, KEY_PREFIXES[name])
    sobject.add(*fields)
    return sobject


def default_schema() -> Schema:
    lead = _object("Lead", "Lead", [*_system(), *_person(), *_nurture(),
        Field("Company", "string", 255, nillable=False),
        Field("Website", "url", 255),
        Field("Industry", "picklist", 255, picklist=INDUSTRIES, restricted=True),
        Field("NumberOfEmployees", "int"),
        Field("AnnualRevenue", "currency", precision=18, scale=0),
        Field("Street", "textarea", 255), Field("City", "string", 40), Field("State", "string", 80),
        Field("PostalCode", "string", 20), Field("Country", "string", 80),
        Field("Status", "picklist", 255, picklist=LEAD_STATUSES, restricted=True, nillable=False,
              defaulted_on_create=True, default="Open - Not Contacted"),
        Field("Rating", "picklist", 255, picklist=("Hot", "Warm", "Cold")),
        Field("IsConverted", "boolean", nillable=False, defaulted_on_create=True, default=False, **READ_ONLY),
        Field("ConvertedDate", "date", **READ_ONLY),
        Field("ConvertedContactId", "reference", 18, reference_to=("Contact",), **READ_ONLY),
        Field("ConvertedAccountId", "reference", 18, reference_to=("Account",), **READ_ONLY),
        Field("ConvertedOpportunityId", "reference", 18, reference_to=("Opportunity",), **READ_ONLY),
        Field("IsUnreadByOwner", "boolean", nillable=False, defaulted_on_create=True, default=True),
    ])
    contact = _object("Contact", "Contact", [*_system(), *_person(), *_nurture(),
        Field("AccountId", "reference", 18, reference_to=("Account",)),
        Field("Department", "string", 80),
        Field("MailingStreet", "textarea", 255), Field("MailingCity", "string", 40),
        Field("MailingState", "string", 80), Field("MailingPostalCode", "string", 20),
        Field("MailingCountry", "string", 80),
    ])
    account = _object("Account", "Account", [*_system(),
        Field("Name", "string", 255, nillable=False),
        Field("Industry", "picklist", 255, picklist=INDUSTRIES, restricted=True),
        Field("Website", "url", 255), Field("Phone", "phone", 40), Field("NumberOfEmployees", "int"),
        Field("BillingCity", "string", 40), Field("BillingCountry", "string", 80),
        Field("Type", "picklist", 255, picklist=("Prospect", "Customer - Direct", "Partner", "Other")),
        Field("Description", "textarea", 32000),
    ])
    opportunity = _object("Opportunity", "Opportunity", [*_system(),
        Field("Name", "string", 120, nillable=False),
        Field("AccountId", "reference", 18, reference_to=("Account",)),
        Field("StageName", "picklist", 255, picklist=STAGES, restricted=True, nillable=False),
        Field("CloseDate", "date", nillable=False),
        Field("Amount", "currency", precision=18, scale=2),
        Field("Probability", "percent", precision=3),
        Field("LeadSource", "picklist", 255, picklist=LEAD_SOURCES),
        Field("IsClosed", "boolean", nillable=False, defaulted_on_create=True, default=False, **READ_ONLY),
        Field("IsWon", "boolean", nillable=False, defaulted_on_create=True, default=False, **READ_ONLY),
        Field("HubSpot_Id__c", "string", 64, label="HubSpot Id", external_id=True, unique=True),
    ])
    task = _object("Task", "Task", [*_system(),
        Field("Subject", "combobox", 255),
        Field("WhoId", "reference", 18, reference_to=("Lead", "Contact")),
        Field("WhatId", "reference", 18, reference_to=("Account", "Opportunity", "Campaign")),
        Field("ActivityDate", "date"),
        Field("Priority", "picklist", 40, picklist=("High", "Normal", "Low"), restricted=True,
              nillable=False, defaulted_on_create=True, default="Normal"),
        Field("Status", "picklist", 40, picklist=TASK_STATUSES, restricted=True, nillable=False,
              defaulted_on_create=True, default="Not Started"),
        Field("Type", "picklist", 40, picklist=("Call", "Email", "Meeting", "Other")),
        Field("TaskSubtype", "picklist", 40, picklist=("Task", "Email", "ListEmail", "Cadence", "Call"),
              updateable=False),
        Field("Description", "textarea", 32000),
        Field("IsClosed", "boolean", nillable=False, defaulted_on_create=True, default=False, **READ_ONLY),
        # Lets the connector create alert tasks idempotently (upsert keyed by lead + reason).
        Field("Nurture_Alert_Key__c", "string", 255, label="Nurture Alert Key", external_id=True,
              unique=True),
    ])
    campaign = _object("Campaign", "Campaign", [*_system(),
        Field("Name", "string", 80, nillable=False),
        Field("IsActive", "boolean", nillable=False, defaulted_on_create=True, default=False),
        Field("Status", "picklist", 255, picklist=("Planned", "In Progress", "Completed", "Aborted")),
        Field("Type", "picklist", 255, picklist=("Email", "Webinar", "Conference", "Advertisement", "Other")),
        Field("StartDate", "date"), Field("EndDate", "date"), Field("Description", "textarea", 32000),
        Field("HubSpot_Id__c", "string", 64, label="HubSpot Id", external_id=True, unique=True),
    ])
    member = _object("CampaignMember", "Campaign Member", [*_system(owned=False),
        Field("CampaignId", "reference", 18, nillable=False, updateable=False, reference_to=("Campaign",)),
        Field("LeadId", "reference", 18, updateable=False, reference_to=("Lead",)),
        Field("ContactId", "reference", 18, updateable=False, reference_to=("Contact",)),
        Field("Status", "picklist", 40, picklist=("Sent", "Responded"), nillable=False,
              defaulted_on_create=True, default="Sent"),
        Field("HasResponded", "boolean", nillable=False, defaulted_on_create=True, default=False, **READ_ONLY),
        Field("FirstRespondedDate", "date", **READ_ONLY),
    ])
    user = _object("User", "User", [*_system(owned=False),
        Field("Username", "string", 80, nillable=False),
        Field("FirstName", "string", 40), Field("LastName", "string", 80, nillable=False),
        Field("Name", "string", 121, **READ_ONLY), Field("Email", "email", 128, nillable=False),
        Field("Alias", "string", 8, nillable=False), Field("Title", "string", 80),
        Field("IsActive", "boolean", nillable=False, defaulted_on_create=True, default=True),
    ])
    types = [lead, contact, account, opportunity, task, campaign, member, user]
    return Schema({t.name: t for t in types})
