"""sObject field definitions and the describe answers built from them.

A field's flags drive validation the way they do in a real org: a non-nillable, createable field
that is not defaulted on create is required; ``length`` bounds text; a restricted picklist rejects
values outside its list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TEXT_TYPES = frozenset({"string", "email", "phone", "url", "textarea", "picklist", "multipicklist", "combobox"})
SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "double": "xsd:double",
    "currency": "xsd:double", "percent": "xsd:double", "int": "xsd:int", "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    length: int = 0
    label: str = ""
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    defaulted_on_create: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: Any = None
    reference_to: tuple[str, ...] = ()
    precision: int = 0
    scale: int = 0

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def required(self) -> bool:
        return not self.nillable and self.createable and not self.defaulted_on_create

    def describe(self) -> dict[str, Any]:
        text = self.type in TEXT_TYPES
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "type": self.type,
            "length": self.length if text or self.type in ("id", "reference") else 0,
            "byteLength": self.length * 3 if text else 18 if self.type in ("id", "reference") else 0,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id or self.type == "email",
            "custom": self.custom,
            "calculated": False,
            "defaultedOnCreate": self.defaulted_on_create,
            "defaultValue": self.default,
            "filterable": self.type != "textarea" or self.length <= 255,
            "sortable": self.type != "textarea" or self.length <= 255,
            "picklistValues": [
                {"active": True, "defaultValue": value == self.default, "label": value, "validFor": None,
                 "value": value}
                for value in self.picklist
            ],
            "restrictedPicklist": self.restricted,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.name[:-2] if self.type == "reference" and self.name.endswith("Id") else None,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
        }


def _label(name: str) -> str:
    base = name.removesuffix("__c").replace("_", " ")
    out = ""
    for i, ch in enumerate(base):
        if ch.isupper() and i and base[i - 1].islower():
            out += " "
        out += ch
    return out


@dataclass
class SObjectType:
    name: str
    label: str
    key_prefix: str
    fields: dict[str, Field] = field(default_factory=dict)
    # canonical name by lower-case name: SOQL and JSON bodies are matched case-insensitively
    by_lower: dict[str, str] = field(default_factory=dict)

    def add(self, *new: Field) -> None:
        for f in new:
            self.fields[f.name] = f
            self.by_lower[f.name.lower()] = f.name

    def field(self, name: str) -> Field | None:
        canonical = self.by_lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def describe(self, version: str) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            **self.summary(version),
            "fields": [f.describe() for f in self.fields.values()],
            "childRelationships": [],
            "recordTypeInfos": [],
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        }

    def summary(self, version: str) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label + "s",
            "keyPrefix": self.key_prefix,
            "custom": False,
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": True,
            "replicateable": True,
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        }


class Schema:
    """The org's sObject types; custom fields can be added at run time (``add_field``)."""

    def __init__(self, types: dict[str, SObjectType]) -> None:
        self.types = types
        self._by_lower = {name.lower(): name for name in types}

    def get(self, name: str) -> SObjectType | None:
        canonical = self._by_lower.get(name.lower())
        return self.types[canonical] if canonical else None

    def add_field(self, sobject: str, new: Field) -> None:
        sobject_type = self.get(sobject)
        if sobject_type is None:
            raise KeyError(f"no sObject type {sobject!r} — known: {', '.join(sorted(self.types))}")
        if not new.custom:
            raise ValueError(f"custom field names end in __c; got {new.name!r}")
        sobject_type.add(new)

    def global_describe(self, version: str) -> dict[str, Any]:
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [t.summary(version) for t in self.types.values()],
        }
