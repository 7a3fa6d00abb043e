"""Conditions are data, not code strings: field / operator / value, combined with all / any / not.

They validate, explain themselves and render in the dashboard. Evaluation lives in connector.core;
this module only says what a well-formed condition is.

    {field: job_title, matches: "(?i)\\bvp\\b"}
    {all: [{field: employees, gte: 50}, {not: {field: country, in: [CU, IR]}}]}
    {event: page_view, where: {field: url, contains: /pricing}, within_days: 30, at_least: 2}
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from connector.settings.base import Model

FIELD_OPERATORS = (
    "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte",
    "contains", "starts_with", "ends_with", "matches", "exists", "within_days", "older_than_days",
)
Scalar = str | int | float | bool | None


class FieldCondition(Model):
    """One test of one field. Exactly one operator per condition."""

    field: str = Field(description="Canonical field name (from mappings/contact.yaml) or a brain value.")
    eq: Scalar = None
    ne: Scalar = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None
    contains: str | None = None
    starts_with: str | None = None
    ends_with: str | None = None
    matches: str | None = Field(default=None, description="Python regular expression, searched anywhere.")
    exists: bool | None = None
    within_days: float | None = Field(default=None, description="A date field within the last N days.")
    older_than_days: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, data: Any) -> Any:
        if isinstance(data, dict):
            ops = [k for k in data if k != "field" and k in (*FIELD_OPERATORS, "in")]
            if len(ops) != 1:
                raise PydanticCustomError(
                    "condition_operator",
                    "a field condition needs exactly one operator, found {found} — use one of: {valid}",
                    {"found": ", ".join(ops) or "none", "valid": ", ".join(FIELD_OPERATORS)},
                )
        return data

    @field_validator("matches")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise PydanticCustomError("regex", "invalid regular expression: {err}", {"err": str(exc)}) from None
        return value

    @property
    def operator(self) -> str:
        for op in FIELD_OPERATORS:
            attr = "in_" if op == "in" else op
            if op in self.model_fields_set or attr in self.model_fields_set:
                return op
        raise AssertionError("validated condition without an operator")

    @property
    def value(self) -> Any:
        op = self.operator
        return getattr(self, "in_" if op == "in" else op)


class EventCondition(Model):
    """The contact did something: engagement events of one type, optionally filtered and windowed."""

    event: str | list[str] = Field(description="Canonical engagement event type(s), e.g. demo_request.")
    where: FieldCondition | None = Field(default=None, description="Test on the event's properties.")
    within_days: float | None = None
    at_least: int = 1


class AllCondition(Model):
    all: list[Condition]


class AnyCondition(Model):
    any: list[Condition]


class NotCondition(Model):
    not_: Condition = Field(alias="not")


def _kind(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("all", "any", "not", "event", "field"):
            if key in data:
                return key
        return None
    return type(data).__name__ if not isinstance(data, Model) else {
        FieldCondition: "field", EventCondition: "event", AllCondition: "all",
        AnyCondition: "any", NotCondition: "not",
    }.get(type(data))


Condition = Annotated[
    Annotated[FieldCondition, Tag("field")]
    | Annotated[EventCondition, Tag("event")]
    | Annotated[AllCondition, Tag("all")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(
        _kind,
        custom_error_type="condition_kind",
        custom_error_message="a condition starts with one of: field, event, all, any, not",
    ),
]

AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()

