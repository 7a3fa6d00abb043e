"""The org's duplicate rule, close to Salesforce's standard Lead and Contact matching rules.

The standard rules match on email, and fuzzily on first name + last name + company (and phone, title,
address, which the connector never writes). Blank fields never match. What is emulated:

- Email: case-insensitive equality, any live Lead or Contact (the Lead rule also checks Contacts).
- Name + company, Leads only: first names equal or one the other's initial, last names equal after
  folding case, accents and punctuation, companies equal after dropping legal suffixes ("Inc.",
  "LLC", …). Salesforce uses Jaro-Winkler / metaphone scores; equality after normalising is the
  close-enough version, so "Ann Lee, Acme Inc." matches "ann lee, ACME".

A placeholder such as "[not provided]" is an ordinary value to the rule, as it is to Salesforce: two
leads with the same first name and the placeholder last name and company match each other.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

Record = dict[str, Any]
NameKey = tuple[str, str, str]
_SUFFIXES = re.compile(r"\b(inc|incorporated|llc|ltd|limited|corp|corporation|co|company|gmbh|sa|plc|the)\b")


def fold(value: Any) -> str:
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def company_key(value: Any) -> str:
    return re.sub(r"\s+", " ", _SUFFIXES.sub(" ", fold(value))).strip()


def name_key(record: Record) -> NameKey | None:
    """The match key the index narrows candidates by: first initial, last name, company. None when blank."""
    first, last, company = fold(record.get("FirstName")), fold(record.get("LastName")), company_key(
        record.get("Company"))
    if not (first and last and company):
        return None
    return first[0], last, company


def same_first_name(a: Any, b: Any) -> bool:
    x, y = fold(a).replace(" ", ""), fold(b).replace(" ", "")
    if not x or not y:
        return False
    return x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


def duplicate_error(sobject: str, matches: list[tuple[str, str, str]], version: str) -> dict[str, Any]:
    """The DuplicateResult Salesforce attaches to DUPLICATES_DETECTED: matches are (type, id, rule)."""
    results = []
    for entity in ("Lead", "Contact"):
        found = [(i, rule) for t, i, rule in matches if t == entity]
        if not found:
            continue
        results.append({
            "entityType": entity, "errorMessage": None, "matchEngine": "FuzzyMatchEngine",
            "rule": f"Standard_{entity}_Match_Rule_v1_1", "size": len(found), "success": True,
            "matchRecords": [{
                "additionalInformation": [], "fieldDiffs": [{"name": rule, "difference": "SAME"}],
                "matchConfidence": 100.0,
                "record": {"attributes": {"type": entity, "url": f"/services/data/v{version}/sobjects/{entity}/{i}"},
                           "Id": i},
            } for i, rule in found],
        })
    rule = "Standard_Rule_for_Leads_with_Duplicate_Contacts" if sobject == "Lead" else "Standard_Contact_Duplicate_Rule"
    return {"duplicateResult": {"allowSave": True, "duplicateRule": rule, "duplicateRuleEntityType": sobject,
                                "errorMessage": "Use one of these records?", "matchResults": results}}
