"""The default property schema: HubSpot's standard contact and task properties the connector touches.

Names, types and enumeration values follow HubSpot's defaults (see docs/SANDBOX-hubspot.md). Note
that the contact property ``numemployees`` is an *enumeration* of size buckets in HubSpot, not a
number — a mapping that writes a raw head-count gets the same INVALID_OPTION error it would get live.
"""

from __future__ import annotations

from typing import Any

LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)
LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
                 "BAD_TIMING")
EMPLOYEE_BUCKETS = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")
INDUSTRIES = (
    "ACCOUNTING", "AIRLINES_AVIATION", "APPAREL_FASHION", "AUTOMOTIVE", "BANKING", "BIOTECHNOLOGY",
    "BROADCAST_MEDIA", "BUILDING_MATERIALS", "CHEMICALS", "COMPUTER_HARDWARE", "COMPUTER_NETWORKING",
    "COMPUTER_SOFTWARE", "CONSTRUCTION", "CONSUMER_ELECTRONICS", "CONSUMER_GOODS", "E_LEARNING",
    "EDUCATION_MANAGEMENT", "ENTERTAINMENT", "FINANCIAL_SERVICES", "FOOD_BEVERAGES", "GOVERNMENT_ADMINISTRATION",
    "HIGHER_EDUCATION", "HOSPITAL_HEALTH_CARE", "HOSPITALITY", "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "INSURANCE", "INTERNET", "LEGAL_SERVICES", "MACHINERY", "MANAGEMENT_CONSULTING", "MARKETING_AND_ADVERTISING",
    "MEDICAL_DEVICES", "NONPROFIT_ORGANIZATION_MANAGEMENT", "OIL_ENERGY", "PHARMACEUTICALS", "REAL_ESTATE",
    "RETAIL", "STAFFING_AND_RECRUITING", "TELECOMMUNICATIONS", "TRANSPORTATION_TRUCKING_RAILROAD", "UTILITIES",
)
TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
TASK_PRIORITIES = ("LOW", "MEDIUM", "HIGH")
TASK_TYPES = ("EMAIL", "CALL", "TODO", "LINKED_IN")  # HubSpot's own hs_task_type values
BOUNCE_REASONS = ("BOUNCED", "UNKNOWN_USER", "MAILBOX_FULL", "CONTENT", "SPAM", "POLICY", "DNS_FAILURE")

# (name, label, type, fieldType, group, options, read_only)
_Spec = tuple[str, str, str, str, str, tuple[str, ...], bool]

CONTACT_PROPERTIES: tuple[_Spec, ...] = (
    ("email", "Email", "string", "text", "contactinformation", (), False),
    ("firstname", "First Name", "string", "text", "contactinformation", (), False),
    ("lastname", "Last Name", "string", "text", "contactinformation", (), False),
    ("company", "Company Name", "string", "text", "contactinformation", (), False),
    ("jobtitle", "Job Title", "string", "text", "contactinformation", (), False),
    ("phone", "Phone Number", "string", "phonenumber", "contactinformation", (), False),
    ("hs_additional_emails", "Additional email addresses", "string", "text", "contactinformation", (), True),
    ("mobilephone", "Mobile Phone Number", "string", "phonenumber", "contactinformation", (), False),
    ("website", "Website URL", "string", "text", "contactinformation", (), False),
    ("industry", "Industry", "enumeration", "select", "contactinformation", INDUSTRIES, False),
    ("numemployees", "Number of Employees", "enumeration", "select", "contactinformation", EMPLOYEE_BUCKETS, False),
    ("annualrevenue", "Annual Revenue", "string", "text", "contactinformation", (), False),
    ("address", "Street Address", "string", "text", "contactinformation", (), False),
    ("city", "City", "string", "text", "contactinformation", (), False),
    ("state", "State/Region", "string", "text", "contactinformation", (), False),
    ("zip", "Postal Code", "string", "text", "contactinformation", (), False),
    ("country", "Country/Region", "string", "text", "contactinformation", (), False),
    ("hs_timezone", "Time Zone", "string", "text", "contactinformation", (), False),
    ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", "contactinformation", LIFECYCLE_STAGES, False),
    ("hs_lead_status", "Lead Status", "enumeration", "radio", "sales_properties", LEAD_STATUSES, False),
    ("hubspot_owner_id", "Contact owner", "enumeration", "select", "sales_properties", (), False),
    ("hs_analytics_source", "Original Source", "enumeration", "select", "analyticsinformation",
     ("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS", "OTHER_CAMPAIGNS",
      "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL"), False),
    # Read-only: HubSpot sets it from subscription status; writing it is refused (see docs/SANDBOX-hubspot.md).
    ("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox", "emailinformation",
     ("true", "false"), True),
    ("hs_email_hard_bounce_reason", "Email hard bounce reason", "string", "text", "emailinformation", (), True),
    ("hs_email_hard_bounce_reason_enum", "Email hard bounce reason", "enumeration", "select", "emailinformation",
     BOUNCE_REASONS, True),
    ("hs_email_bounce", "Marketing emails bounced", "number", "number", "emailinformation", (), True),
    ("hs_email_open", "Marketing emails opened", "number", "number", "emailinformation", (), True),
    ("hs_email_click", "Marketing emails clicked", "number", "number", "emailinformation", (), True),
    ("hs_email_delivered", "Marketing emails delivered", "number", "number", "emailinformation", (), True),
    ("hs_email_replied", "Marketing emails replied", "number", "number", "emailinformation", (), True),
    ("hs_email_first_open_date", "First marketing email open date", "datetime", "date", "emailinformation", (),
     True),
    ("hs_email_first_click_date", "First marketing email click date", "datetime", "date", "emailinformation", (),
     True),
    ("hs_email_last_send_date", "Last marketing email send date", "datetime", "date", "emailinformation", (), True),
    ("hs_email_last_open_date", "Last marketing email open date", "datetime", "date", "emailinformation", (), True),
    ("hs_email_last_click_date", "Last marketing email click date", "datetime", "date", "emailinformation", (),
     True),
    ("hs_analytics_num_page_views", "Number of Pageviews", "number", "number", "analyticsinformation", (), True),
    ("hs_analytics_num_visits", "Number of Sessions", "number", "number", "analyticsinformation", (), True),
    ("num_conversion_events", "Number of Form Submissions", "number", "number", "conversioninformation", (),
     True),
    ("recent_conversion_event_name", "Recent Conversion", "string", "text", "conversioninformation", (), True),
    ("recent_conversion_date", "Recent Conversion Date", "datetime", "date", "conversioninformation", (), True),
    ("hs_sales_email_last_replied", "Recent Sales Email Replied Date", "datetime", "date", "sales_properties", (),
     True),
    ("notes_last_updated", "Last Activity Date", "datetime", "date", "sales_properties", (), True),
    ("hs_object_id", "Record ID", "number", "number", "contactinformation", (), True),
    ("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "checkbox", "contactinformation", (), True),
    ("createdate", "Create Date", "datetime", "date", "contactinformation", (), True),
    ("lastmodifieddate", "Last Modified Date", "datetime", "date", "contactinformation", (), True),
    ("hs_lastmodifieddate", "Object last modified date/time", "datetime", "date", "contactinformation", (), True),
)

TASK_PROPERTIES: tuple[_Spec, ...] = (
    ("hs_timestamp", "Due date", "datetime", "date", "task", (), False),
    ("hs_task_subject", "Task Title", "string", "text", "task", (), False),
    ("hs_task_body", "Notes", "string", "html", "task", (), False),
    ("hs_task_status", "Task Status", "enumeration", "select", "task", TASK_STATUSES, False),
    ("hs_task_priority", "Priority", "enumeration", "select", "task", TASK_PRIORITIES, False),
    ("hs_task_type", "Task Type", "enumeration", "select", "task", TASK_TYPES, False),
    ("hubspot_owner_id", "Assigned to", "enumeration", "select", "task", (), False),
    ("hs_object_id", "Record ID", "number", "number", "task", (), True),
    ("hs_createdate", "Create Date", "datetime", "date", "task", (), True),
    ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "task", (), True),
)

GROUPS = {
    "contacts": (("contactinformation", "Contact information"), ("sales_properties", "Sales properties"),
                 ("emailinformation", "Email information"), ("analyticsinformation", "Web analytics history"),
                 ("conversioninformation", "Conversion information")),
    "tasks": (("task", "Task information"),),
}


def property_definition(spec: _Spec, order: int) -> dict[str, Any]:
    name, label, type_, field_type, group, options, read_only = spec
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "groupName": group,
        "description": "",
        "displayOrder": order,
        "hidden": False,
        "hasUniqueValue": name == "email",
        "formField": not read_only,
        "calculated": False,
        "externalOptions": name == "hubspot_owner_id",
        "hubspotDefined": True,
        "archived": False,
        "createdAt": "2019-08-06T02:41:08.029Z",
        "updatedAt": "2019-08-06T02:41:08.029Z",
        "modificationMetadata": {"archivable": False, "readOnlyDefinition": True, "readOnlyValue": read_only},
        "options": [
            {"label": value.replace("_", " ").title(), "value": value, "displayOrder": i, "hidden": False,
             "description": ""}
            for i, value in enumerate(options)
        ],
    }


def default_properties() -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "contacts": {spec[0]: property_definition(spec, i) for i, spec in enumerate(CONTACT_PROPERTIES)},
        "tasks": {spec[0]: property_definition(spec, i) for i, spec in enumerate(TASK_PROPERTIES)},
    }


def default_groups() -> dict[str, dict[str, dict[str, Any]]]:
    return {
        object_type: {name: {"name": name, "label": label, "displayOrder": i, "archived": False}
                      for i, (name, label) in enumerate(groups)}
        for object_type, groups in GROUPS.items()
    }
