"""config/lifecycle.yaml: the buyer's journey stages and the lifecycle-stage ladder."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connector.settings.base import Model
from connector.settings.conditions import Condition

LifecycleStage = Literal[
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist"
]


class JourneyStage(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: Condition = Field(description="Behaviour that places a lead here; stages are tried latest first.")


class LifecycleRule(Model):
    stage: LifecycleStage
    when: Condition


class RecycleRule(Model):
    name: str = "sales_rejected"
    when: Condition = Field(description="E.g. Salesforce Lead Status 'Closed - Not Converted'.")
    back_to: LifecycleStage = "lead"


class LifecycleConfig(Model):
    journey: list[JourneyStage] = Field(min_length=1, description="From the earliest stage to the latest.")
    lifecycle: list[LifecycleRule] = Field(default_factory=list, description="Facts that set a stage.")
    salesforce_status_field: str = "Status"
    recycle: list[RecycleRule] = Field(default_factory=list)
