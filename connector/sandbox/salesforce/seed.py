"""Turning fake_people's Persons into Leads (HubSpot industry values become Salesforce picklist labels)."""

from __future__ import annotations

import re
from typing import Any

# fake_people.OWNER_COUNT sales reps, so owner_index means the same person in both sandboxes: the same
# names and work emails as the HubSpot sandbox's owners, since owners are matched across CRMs by email.
OWNERS = (("Alex", "Morgan", "amorg"), ("Sam", "Rivera", "srive"), ("Jordan", "Lee", "jlee"),
          ("Taylor", "Nguyen", "tnguy"), ("Casey", "Okoro", "cokor"))


def owner_email(first: str, last: str) -> str:
    return f"{first}.{last}@example-sales.com".lower()
INDUSTRY_LABELS = {
    "COMPUTER_SOFTWARE": "Technology", "INFORMATION_TECHNOLOGY_AND_SERVICES": "Technology",
    "HOSPITAL_HEALTH_CARE": "Healthcare", "PHARMACEUTICALS": "Biotechnology", "FINANCIAL_SERVICES": "Finance",
    "BANKING": "Banking", "INSURANCE": "Insurance", "MARKETING_AND_ADVERTISING": "Media",
    "HIGHER_EDUCATION": "Education", "RETAIL": "Retail", "TELECOMMUNICATIONS": "Telecommunications",
    "MANAGEMENT_CONSULTING": "Consulting", "MACHINERY": "Machinery", "STAFFING_AND_RECRUITING": "Other",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def lead_from_person(person: Any, owner_ids: list[str]) -> dict[str, Any]:
    email = (person.email or "").strip()
    lead: dict[str, Any] = {
        "FirstName": person.first_name, "LastName": person.last_name, "Company": person.company,
        "Email": email if _EMAIL.match(email) else None, "Title": person.job_title,
        "Industry": INDUSTRY_LABELS.get(person.industry, "Other"), "NumberOfEmployees": person.employees,
        "Country": person.country, "City": person.city, "Phone": person.phone or None,
        "Website": person.website, "LeadSource": person.lead_source,
    }
    if owner_ids:
        lead["OwnerId"] = owner_ids[person.owner_index % len(owner_ids)]
    return lead
