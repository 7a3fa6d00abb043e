"""config/alerts.yaml: when sales gets a task, for whom, and how soon it is due."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connector.settings.base import Model
from connector.settings.conditions import Condition


class Alert(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="The reason; one open task per lead per reason.")
    when: Condition
    subject: str
    priority: Literal["High", "Normal", "Low"] = "Normal"
    sla_hours: float | None = Field(None, gt=0, description="Overrides the default SLA.")


class Owners(Model):
    round_robin_salesforce: list[str] = Field(default_factory=list, description="User ids for unowned leads.")
    round_robin_hubspot: list[str] = Field(default_factory=list, description="Owner ids for unowned leads.")


class AlertsConfig(Model):
    target: Literal["salesforce", "hubspot"] = Field("salesforce", description="The CRM where sales works.")
    sla_hours: float = Field(24, gt=0)
    owners: Owners = Owners()
    alerts: list[Alert] = Field(default_factory=list)
