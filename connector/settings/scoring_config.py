"""config/scoring.yaml: a fit score from who the lead is, an engagement score from what they do."""

from __future__ import annotations

from pydantic import Field, model_validator

from connector.settings.base import Model
from connector.settings.conditions import Condition, FieldCondition


class FitRule(Model):
    name: str
    points: float = Field(description="Negative points for disqualifiers (free mail, students, competitors).")
    when: Condition


class FitScore(Model):
    max: float = Field(50, gt=0)
    min: float = Field(-100, description="Negative rules cannot push the fit score below this.")
    rules: list[FitRule] = Field(default_factory=list)


class EngagementRule(Model):
    name: str | None = None
    event: str | list[str] = Field(description="Canonical engagement event type(s).")
    points: float
    where: FieldCondition | None = Field(None, description="Test on the event's properties, e.g. the URL.")
    cap: float | None = Field(None, description="Most points this rule can give (or take, if negative).")


class EngagementGroup(Model):
    name: str
    rules: list[EngagementRule] = Field(min_length=1)
    half_life_days: float | None = Field(None, gt=0, description="Points halve every N days.")
    window_days: float | None = Field(None, gt=0, description="Only events in the last N days count.")
    cap: float | None = None

    @model_validator(mode="after")
    def _one_decay(self) -> EngagementGroup:
        if self.half_life_days is not None and self.window_days is not None:
            raise ValueError("choose half_life_days or window_days for a group, not both")
        return self


class EngagementScore(Model):
    max: float = Field(50, gt=0)
    min: float = -100
    groups: list[EngagementGroup] = Field(min_length=1)


class Thresholds(Model):
    fit_at_least: float = 25
    engagement_at_least: float = 20
    total_at_least: float | None = None


class ScoringConfig(Model):
    fit: FitScore
    engagement: EngagementScore
    mql: Thresholds = Thresholds()
