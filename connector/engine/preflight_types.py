"""Which CRM field types can hold a mapped field, and which sides a sync rule writes. Pure: no I/O.

Types are compared by family: a HubSpot enumeration and a Salesforce picklist hold the same kind of value,
as do bool and checkbox, number and double/int, string and string/textarea/email/phone/url.
"""

from __future__ import annotations

from connector.settings.mapping_config import FieldMapping

CANONICAL_FAMILY = {"string": "text", "enum": "enum", "multiselect": "multi", "boolean": "bool", "number": "number",
                    "integer": "number", "date": "date", "datetime": "datetime"}
SALESFORCE_FAMILY = {"string": "text", "textarea": "text", "email": "text", "phone": "text", "url": "text",
                     "reference": "text", "id": "text", "picklist": "enum", "multipicklist": "multi",
                     "boolean": "bool", "double": "number", "int": "number", "currency": "number",
                     "percent": "number", "long": "number", "date": "date", "datetime": "datetime"}
WRITES = {"two_way": {"hubspot", "salesforce"}, "prefer_hubspot": {"hubspot", "salesforce"},
          "prefer_salesforce": {"hubspot", "salesforce"}, "prefer_hubspot_unless_blank": {"hubspot", "salesforce"},
          "prefer_salesforce_unless_blank": {"hubspot", "salesforce"}, "hubspot_to_salesforce": {"salesforce"},
          "salesforce_to_hubspot": {"hubspot"}, "none": set()}
FAMILY_WORDS = {"text": "text", "enum": "a single-choice list (enumeration / picklist)",
                "multi": "a multi-choice list", "bool": "a yes/no value", "number": "a number", "date": "a date",
                "datetime": "a date and time"}
TYPE_FOR_FAMILY = {"text": "string", "enum": "enum", "multi": "multiselect", "bool": "boolean", "number": "number",
                   "date": "date", "datetime": "datetime"}


def hubspot_family(kind: str, field_type: str) -> str:
    if kind == "enumeration":
        return "multi" if field_type == "checkbox" else "enum"
    return {"string": "text", "number": "number", "bool": "bool", "date": "date", "datetime": "datetime"}.get(kind,
                                                                                                            "text")


def salesforce_family(kind: str) -> str:
    return SALESFORCE_FAMILY.get(kind, "text")


def written_sides(field: FieldMapping) -> set[str]:
    """The CRMs this mapping writes into (where the property must be writable and type-compatible)."""
    sides = set(WRITES[field.sync])
    if field.hubspot is None:
        sides.discard("hubspot")
    if field.salesforce is None:
        sides.discard("salesforce")
    return sides


def incompatibility(field: FieldMapping, family: str, written: bool) -> str | None:
    """Why a CRM field of this family cannot hold the mapped field, or None if it can.

    A text field holds anything written as text; anything else must be the mapping's own family, and only
    where the connector writes: a read-only source may be richer (an enumeration read as text is fine).
    """
    wanted = CANONICAL_FAMILY[field.type]
    if family == wanted or family == "text":
        return None
    if not written and wanted == "text":
        return None
    if wanted == "number" and family == "number":
        return None
    return (f"it holds {FAMILY_WORDS[family]}, but the mapping's type is {field.type} "
            f"({FAMILY_WORDS[wanted]})")


def type_fix(field: FieldMapping, family: str) -> str:
    return (f"set `type: {TYPE_FOR_FAMILY[family]}` on field {field.name!r} (with a `values` map for a list), "
            "or map it to a property of the same kind")
