"""config/nurture.yaml: tracks of touches chosen by persona x journey stage, one cadence policy, and A/B
variants of a track or a touch."""

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


class Variant(Model):
    """One arm of an A/B experiment. On a touch it overrides the touch's content or executor; on a track it
    replaces the track's touches."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    weight: float = Field(1, ge=0, description="Relative share of new contacts; 0 sends nobody new here.")
    label: str | None = Field(None, description="What differs, for reports: a subject line, a call to action.")
    content: str | None = None
    hubspot_workflow_id: int | None = None
    hubspot_list_id: str | None = None
    salesforce_campaign_id: str | None = None
    task_subject: str | None = None
    touches: list[Touch] | None = Field(None, description="Track variants only: this arm's touches, in order.")


class Experiment(Model):
    """`variants:` on a track or touch: sticky assignment by a stable hash of email and experiment name."""

    experiment: str | None = Field(None, pattern=r"^[a-z][a-z0-9_:.-]*$",
                                   description="Name (default: the track's, or track:touch). Renaming it reshuffles.")
    variants: list[Variant] | None = Field(None, min_length=2)
    winner: str | None = Field(None, description="End the experiment: every contact gets this variant from now on.")
    goal_days: int = Field(30, ge=1, description="Conversion counts when the goal is reached within this many days.")
    goal_stage: str | None = Field(None, description="Lifecycle stage that counts as the goal (default: from "
                                                     "exit_when, else marketingqualifiedlead).")

    def _check_variants(self, where: str) -> None:
        if self.variants is None:
            if self.winner is not None:
                raise ValueError(f"{where}: `winner` needs `variants`")
            return
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: variant names must be unique (got {', '.join(names)})")
        if self.winner is not None and self.winner not in names:
            raise ValueError(f"{where}: winner {self.winner!r} is not a variant (valid: {', '.join(names)})")
        if self.winner is None and sum(v.weight for v in self.variants) <= 0:
            raise ValueError(f"{where}: at least one variant needs a weight above 0")


class Touch(Experiment):
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
        self._check_variants(f"touch {self.name!r}")
        for variant in self.variants or ():
            if variant.touches is not None:
                raise ValueError(f"touch {self.name!r}: variant {variant.name!r}: `touches` belongs on a track variant")
        return self


Variant.model_rebuild()  # Variant names Touch, defined after it


class TrackSelector(Model):
    personas: list[str] | None = Field(None, description="Any of these primary personas (default: any).")
    stages: list[str] | None = Field(None, description="Any of these journey stages (default: any).")
    lifecycle: list[str] | None = None


class Track(Experiment):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    for_: TrackSelector = Field(alias="for")
    exit_when: Condition | None = None
    touches: list[Touch] = Field(min_length=1)

    @model_validator(mode="after")
    def _variants(self) -> Track:
        self._check_variants(f"track {self.name!r}")
        for variant in self.variants or ():
            if not variant.touches:
                raise ValueError(f"track {self.name!r}: variant {variant.name!r} needs `touches:` (its own list)")
        for touch in self.touches:
            if touch.variants and self.variants:
                raise ValueError(f"track {self.name!r}: variants on the track and on touch {touch.name!r}; "
                                 "one experiment at a time, or the results cannot be told apart")
        return self

    def experiment_name(self) -> str:
        return self.experiment or self.name

    def all_touches(self) -> list[Touch]:
        """Every touch any contact can get on this track, default and variant lists."""
        out = list(self.touches)
        for variant in self.variants or ():
            out += [t for t in variant.touches or () if t.name not in {o.name for o in out}]
        return out


class NurtureConfig(Model):
    cadence: Cadence = Cadence()
    tracks: list[Track] = Field(min_length=1, description="Tried in order; the first that fits is chosen.")
