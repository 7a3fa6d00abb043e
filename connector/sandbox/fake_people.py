"""Deterministic, plausible B2B leads for both CRM emulators (stdlib only, no Faker).

The same ``(n, seed)`` always yields the same people, so a HubSpot and a Salesforce sandbox seeded
alike start with overlapping, comparable data. The mess is deliberate: a few invalid emails and
about 3% near-duplicates (same email, or the same address differing in case/whitespace), because a
sync engine that only ever sees clean data is untested where it matters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

FIRST_NAMES = (
    "Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Priya", "Liam", "Sofia", "Noah", "Yuki", "Olga",
    "Ahmed", "Emma", "Lucas", "Chloe", "Mateo", "Fatima", "Ethan", "Ingrid", "Kwame", "Hannah", "Diego",
    "Mei", "Oliver", "Zara", "Samuel", "Elena", "Ravi", "Grace", "Tomasz", "Amara", "Felix", "Leila",
)
LAST_NAMES = (
    "Doe", "Smith", "Garcia", "Chen", "Khan", "Rossi", "Patel", "Murphy", "Novak", "Kim", "Tanaka",
    "Ivanova", "Hassan", "Schmidt", "Silva", "Dubois", "Lopez", "Okafor", "Brown", "Larsen", "Mensah",
    "Weber", "Martinez", "Wang", "Taylor", "Ali", "Cohen", "Petrova", "Singh", "Walsh", "Kowalski",
)
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
    "Cyberdyne", "Aperture", "Wonka", "Gringotts", "Oscorp", "Nakatomi", "Massive", "Blue Sun", "Veridian",
)
COMPANY_SUFFIXES = ("Inc", "LLC", "GmbH", "Ltd", "Systems", "Labs", "Health", "Capital", "Group", "Software")
SENIORITY = ("VP", "Director", "Head", "Manager", "Senior Engineer", "Engineer", "Chief", "Analyst")
FUNCTIONS = ("Marketing", "Sales", "Engineering", "Operations", "IT", "Finance", "Product", "Data")
JUNIOR_TITLES = ("Student", "Intern", "Assistant", "Consultant", "Freelancer")
# HubSpot's internal values for the `industry` enumeration (a subset of the real option list).
INDUSTRIES = (
    "COMPUTER_SOFTWARE", "HOSPITAL_HEALTH_CARE", "FINANCIAL_SERVICES", "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "MARKETING_AND_ADVERTISING", "HIGHER_EDUCATION", "RETAIL", "TELECOMMUNICATIONS", "INSURANCE",
    "MANAGEMENT_CONSULTING", "BANKING", "PHARMACEUTICALS", "MACHINERY", "STAFFING_AND_RECRUITING",
)
PLACES = (
    ("United States", "New York", "+1 212"), ("United States", "Austin", "+1 512"),
    ("United States", "San Francisco", "+1 415"), ("United Kingdom", "London", "+44 20"),
    ("Germany", "Berlin", "+49 30"), ("France", "Paris", "+33 1"), ("Canada", "Toronto", "+1 416"),
    ("India", "Bangalore", "+91 80"), ("Australia", "Sydney", "+61 2"), ("Brazil", "São Paulo", "+55 11"),
    ("Netherlands", "Amsterdam", "+31 20"), ("Japan", "Tokyo", "+81 3"),
)
LEAD_SOURCES = (
    "Web", "Webinar", "Trade Show", "Referral", "Paid Search", "Organic Search", "Partner", "Purchased List",
)
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com")
INVALID_EMAILS = ("n/a", "", "none", "{first}.{last}@", "{first}@@{domain}", "{first}.{last}@{company}")
EMPLOYEE_SIZES = (3, 8, 15, 40, 75, 120, 250, 600, 1200, 5000, 20000)
OWNER_COUNT = 5  # matches the owners both sandboxes seed


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    company: str
    job_title: str
    industry: str
    employees: int
    country: str
    city: str
    phone: str
    website: str
    lead_source: str
    owner_index: int


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _title(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return rng.choice(JUNIOR_TITLES)
    seniority = rng.choice(SENIORITY)
    function = rng.choice(FUNCTIONS)
    if seniority == "Chief":
        return f"Chief {function} Officer"
    if seniority in ("Head", "VP", "Director"):
        return f"{seniority} of {function}"
    return f"{function} {seniority}"


def _person(rng: random.Random, index: int) -> Person:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"
    domain = f"{_slug(company)}.com"
    country, city, prefix = rng.choice(PLACES)
    roll = rng.random()
    if roll < 0.04:
        email = rng.choice(INVALID_EMAILS).format(first=first.lower(), last=last.lower(), domain=domain,
                                                  company=_slug(company))
    elif roll < 0.14:
        # A number suffix keeps free-mail addresses from colliding by accident.
        email = f"{first.lower()}.{last.lower()}{index}@{rng.choice(FREE_MAIL)}"
    else:
        # The index keeps accidental collisions out, so the only duplicates are the planted ones.
        email = f"{first.lower()}.{last.lower()}.{index}@{domain}"
    return Person(
        first_name=first,
        last_name=last,
        email=email,
        company=company,
        job_title=_title(rng),
        industry=rng.choice(INDUSTRIES),
        employees=rng.choice(EMPLOYEE_SIZES),
        country=country,
        city=city,
        phone=f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        website=f"https://www.{domain}",
        lead_source=rng.choice(LEAD_SOURCES),
        owner_index=rng.randrange(OWNER_COUNT),
    )


def _near_duplicate(rng: random.Random, original: Person) -> Person:
    """Another record of the same human, as CRMs accumulate them: same email or a case/space variant."""
    variant = rng.choice(("same", "upper", "spaces", "capitalized"))
    email = original.email
    if variant == "upper":
        email = email.upper()
    elif variant == "spaces":
        email = f"  {email} "
    elif variant == "capitalized":
        email = email[:1].upper() + email[1:]
    return replace(
        original,
        email=email,
        first_name=original.first_name.upper() if rng.random() < 0.3 else original.first_name,
        job_title=rng.choice((original.job_title, _title(rng))),
        phone=rng.choice((original.phone, "")),
    )


def generate_people(n: int, seed: int = 0) -> list[Person]:
    """``n`` people; about 3% of them near-duplicates of an earlier one (only when n ≥ 2)."""
    rng = random.Random(seed)
    people: list[Person] = []
    valid_originals: list[Person] = []
    for index in range(n):
        if valid_originals and rng.random() < 0.03:
            people.append(_near_duplicate(rng, rng.choice(valid_originals)))
            continue
        person = _person(rng, index)
        people.append(person)
        local, _, domain = person.email.partition("@")
        if local and "." in domain:
            valid_originals.append(person)
    return people
