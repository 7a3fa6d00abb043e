"""Seeding the portal with fake people, as if they had been imported before the connector arrived."""

from __future__ import annotations

from connector.sandbox.fake_people import Person
from connector.sandbox.hubspot.records import Portal, Source

IMPORT = Source("IMPORT", "sandbox-seed", webhooks=False)
SOURCE_TO_ANALYTICS = {"Web": "DIRECT_TRAFFIC", "Webinar": "OFFLINE", "Trade Show": "OFFLINE",
                       "Referral": "REFERRALS", "Paid Search": "PAID_SEARCH", "Organic Search": "ORGANIC_SEARCH",
                       "Partner": "REFERRALS", "Purchased List": "OFFLINE"}


def employee_bucket(employees: int) -> str:
    """HubSpot's contact `numemployees` is an enumeration of size buckets."""
    for upper, bucket in ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"),
                          (1000, "500-1000")):
        if employees <= upper:
            return bucket
    return "1000+"


def person_properties(person: Person, owner_id: str) -> dict[str, str]:
    return {
        "email": person.email.strip().lower(),
        "firstname": person.first_name,
        "lastname": person.last_name,
        "company": person.company,
        "jobtitle": person.job_title,
        "industry": person.industry,
        "numemployees": employee_bucket(person.employees),
        "country": person.country,
        "city": person.city,
        "phone": person.phone,
        "website": person.website,
        "hs_analytics_source": SOURCE_TO_ANALYTICS.get(person.lead_source, "OFFLINE"),
        "hubspot_owner_id": owner_id,
        "lifecyclestage": "lead",
    }


def seed_people(portal: Portal, people: list[Person]) -> list[str]:
    """Create one contact per person without webhooks; returns their ids in order.

    Invalid emails are kept (imports let them in); a second person with an email HubSpot already holds
    is stored without one, since HubSpot never holds two contacts with one email.
    """
    ids: list[str] = []
    with portal.state.lock:
        owners = portal.state.owners
        for person in people:
            props = person_properties(person, owners[person.owner_index % len(owners)]["id"])
            if not props["email"] or props["email"] in portal.state.email_index:
                props.pop("email")
            clean, problems = portal.check("contacts", props, IMPORT)
            if problems:  # never expected: seeding data fits the default schema
                raise ValueError(f"seeding {person} failed: {problems}")
            ids.append(portal.insert("contacts", clean, IMPORT).id)
    return ids
