"""config/nurture.yaml: tracks of touches chosen by persona x journey stage, and one cadence policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from connector.settings.base import Model
from connector.settings.conditions import Condition

Channel = Literal["email", "retargeting", "call", "meeting", "survey"]


class Cadence(Model):
    min_gap_days: float = Field(3, ge=0)
    max_per_week: int = Field(2, ge=1)
    skip_weekends: bool = True
    quiet_hours: tuple[str, str] = Field(("20:00", "08:00"), description="Local time, start and end.")
    timezone_field: str | None = Field("timezone", description="Canonical field with an IANA time zone.")
    default_timezone: str = "America/New_York"
    suppress_when: Condition | None = Field(None, description="No touch at all (unsubscribed, bounced...).")


class Touch(Model):
    name: str
    channel: Channel
    content: str | None = Field(None, description="Content id; used for 'content exhausted' and counting.")
    wait_days: float = Field(0, ge=0, description="At least this long after the previous touch.")
    hubspot_workflow_id: int | None = None
    hubspot_list_id: str | None = None
    salesforce_campaign_id: str | None = None
    task_subject: str | None = None

    @model_validator(mode="after")
    def _has_executor(self) -> Touch:
        executors = [self.hubspot_workflow_id, self.hubspot_list_id, self.salesforce_campaign_id, self.task_subject]
        if all(e is None for e in executors):
            raise ValueError(
                "a touch needs an executor: hubspot_workflow_id, hubspot_list_id, salesforce_campaign_id "
                "or task_subject"
            )
        return self


class TrackSelector(Model):
    personas: list[str] | None = Field(None, description="Any of these primary personas (default: any).")
    stages: list[str] | None = Field(None, description="Any of these journey stages (default: any).")
    lifecycle: list[str] | None = None


class Track(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    for_: TrackSelector = Field(alias="for")
    exit_when: Condition | None = None
    touches: list[Touch] = Field(min_length=1)


class NurtureConfig(Model):
    cadence: Cadence = Cadence()
    tracks: list[Track] = Field(min_length=1, description="Tried in order; the first that fits is chosen.")
