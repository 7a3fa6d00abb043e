"""mappings/contact.yaml: how a HubSpot contact and a Salesforce Lead/Contact map to one canonical contact."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from connector.settings.base import Model
from connector.settings.conditions import Condition

SyncRule = Literal[
    "two_way",
    "prefer_hubspot",
    "prefer_salesforce",
    "prefer_hubspot_unless_blank",
    "prefer_salesforce_unless_blank",
    "hubspot_to_salesforce",
    "salesforce_to_hubspot",
    "none",
]
Transform = Literal["lowercase", "uppercase", "trim", "title", "digits_only"]
FieldType = Literal["string", "number", "integer", "boolean", "date", "datetime", "enum", "multiselect"]
DeletionPolicy = Literal["propagate", "ignore", "mark"]
# What a picklist value with no entry in `values` does: keep (the other side keeps its value, and the value is
# listed as a problem), skip (the same, quietly), error (the problem, and the whole contact is held unsynced).
UnmappedPolicy = Literal["keep", "skip", "error"]


class SalesforceFieldNames(Model):
    """A canonical field that has a different name on Lead and on Contact."""

    Lead: str | None = None
    Contact: str | None = None


class FieldMapping(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Canonical name used by rules and conditions.")
    hubspot: str | None = Field(None, description="HubSpot contact property name.")
    salesforce: str | SalesforceFieldNames | None = Field(None, description="Salesforce field API name.")
    sync: SyncRule = "two_way"
    type: FieldType = "string"
    transform: list[Transform] = Field(default_factory=list)
    values: dict[str, str] | None = Field(
        None, description="Picklist map, HubSpot value -> Salesforce value (used in reverse too)."
    )
    default: str | None = Field(
        None, description="For a field with `values`: the HubSpot value (a key of `values`) that stands in for a "
                          "value either side holds with no mapping; that side's own value is never changed by it.")
    unmapped: UnmappedPolicy = Field(
        "keep", description="A value with no mapping: keep (leave the other side as it is and list the problem), "
                            "skip (the same, not listed) or error (list it and hold the whole contact).")
    max_length: int | None = Field(None, gt=0, description="Truncate to this; else the length from describe.")
    # Where the field's `values` map is written ("mappings/contact.yaml:57"), set by the loader, so a problem
    # can say where to add a missing value.
    _values_at: str | None = PrivateAttr(None)

    @property
    def values_at(self) -> str:
        return self._values_at or "the field's `values` map in the mappings file"

    def locate_values(self, where: str) -> None:
        self._values_at = where

    def salesforce_name(self, sobject: str) -> str | None:
        if isinstance(self.salesforce, SalesforceFieldNames):
            return getattr(self.salesforce, sobject, None)
        return self.salesforce

    @model_validator(mode="after")
    def _has_a_side(self) -> FieldMapping:
        if self.hubspot is None and self.salesforce is None:
            raise ValueError("a field needs a 'hubspot' property, a 'salesforce' field, or both")
        if self.default is not None:
            if self.values is None:
                raise ValueError("`default` stands in for a value with no mapping, so it needs a `values` map; "
                                 "remove `default` or add `values`")
            if self.default not in self.values:
                raise ValueError(f"`default` {self.default!r} is not a key of `values`; use one of "
                                 f"{', '.join(sorted(self.values))}")
        return self


class HubSpotSide(Model):
    object: Literal["contacts"] = "contacts"
    create: bool = Field(True, description="Create HubSpot contacts for Salesforce records that have none.")
    create_when: Condition | None = None
    deletions: DeletionPolicy = Field(
        "mark", description="What a HubSpot deletion does in Salesforce: propagate (delete there too), ignore "
                            "(unlink quietly) or mark (unlink, and record it in the audit)")


class SalesforceSide(Model):
    objects: list[Literal["Lead", "Contact"]] = Field(default_factory=lambda: ["Lead", "Contact"])
    create_as: Literal["Lead", "Contact"] = "Lead"
    create: bool = Field(True, description="Create Salesforce Leads for HubSpot contacts that have none.")
    create_when: Condition | None = None
    external_id_field: str = Field("HubSpot_Id__c", description="Holds the HubSpot id; makes creates upserts.")
    required_defaults: dict[str, str] = Field(
        default_factory=lambda: {"LastName": "[not provided]", "Company": "[not provided]"},
        description="Values for required Lead fields that the contact leaves blank.",
    )
    deletions: DeletionPolicy = Field(
        "mark", description="What a Salesforce deletion does in HubSpot: propagate (delete there too), ignore "
                            "(unlink quietly) or mark (unlink, and record it in the audit)")


class WritebackField(Model):
    field: str
    values: dict[str, str] = Field(default_factory=dict, description="Our value -> the CRM's picklist value.")


BrainOutput = Literal["score", "fit_score", "engagement_score", "persona", "segments", "journey_stage", "track",
                      "next_touch", "lifecycle_stage"]


class Writeback(Model):
    """Where the brain's results are written: output -> CRM field name (or {field, values} for a picklist)."""

    hubspot: dict[BrainOutput, str | WritebackField] = Field(default_factory=dict)
    salesforce: dict[BrainOutput, str | WritebackField] = Field(default_factory=dict)

    @staticmethod
    def target(entry: str | WritebackField) -> tuple[str, dict[str, str]]:
        return (entry, {}) if isinstance(entry, str) else (entry.field, entry.values)


class EngagementSignals(Model):
    """CRM signals that become engagement facts in the ledger (HubSpot sends no webhook per email open)."""

    hubspot_counters: dict[str, str] = Field(
        default_factory=lambda: {"hs_email_open": "email_open", "hs_email_click": "email_click",
                                 "num_conversion_events": "form_submit", "hs_analytics_num_page_views": "page_view"},
        description="A counter property -> the event type each increment records.")
    hubspot_last_dates: dict[str, str] = Field(
        default_factory=lambda: {"hs_email_open": "hs_email_last_open_date",
                                 "hs_email_click": "hs_email_last_click_date",
                                 "num_conversion_events": "recent_conversion_date"},
        description="When the newest increment happened (else: when it was seen).")
    conversion_name_property: str = "recent_conversion_event_name"


class MappingConfig(Model):
    # `match:` was validated and then ignored: identity is linked ids, then email, always. A key that does
    # nothing is a defect, so it is gone, and a file that still has it is told why (not just "unknown key").
    match: None = Field(None, description="Removed: identity is the stored link, then email. Delete the line.")
    hubspot: HubSpotSide = HubSpotSide()
    salesforce: SalesforceSide = SalesforceSide()
    fields: list[FieldMapping] = Field(min_length=1)
    writeback: Writeback = Writeback()
    engagement: EngagementSignals = EngagementSignals()

    @field_validator("match", mode="before")
    @classmethod
    def _no_match(cls, value: object) -> None:
        if value is not None:
            raise ValueError("`match:` is not supported: a record is paired by its stored link, else by email "
                             "(a converted Lead follows its Contact); delete this line")
        return None

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]
