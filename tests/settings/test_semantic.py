"""The semantic validator: values that fit the schema but fail at run time are refused at their file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector.settings import ConfigError, load_settings
from connector.settings.semantic import KNOWN_EVENT_TYPES, _is_placeholder
from webhooks.engagement_events import KNOWN_TYPES


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line][-1]


# (file, text to replace, replacement, the line to be named, message pattern)
CASES = {
    "quiet hours that do not parse": (
        "config/nurture.yaml", 'quiet_hours: ["20:00", "08:00"]', 'quiet_hours: ["20:00", "8am"]', "quiet_hours",
        r"quiet hour '8am' is not a time — write 24-hour HH:MM"),
    "unknown time zone": (
        "config/nurture.yaml", "default_timezone: America/New_York", "default_timezone: America/New_Yrok",
        "default_timezone", r"unknown IANA time zone 'America/New_Yrok' — did you mean 'America/New_York'\?"),
    "fit.min above fit.max": (
        "config/scoring.yaml", "  min: -50\n", "  min: 60\n", "min: 60",
        r"fit\.min \(60\) is greater than fit\.max \(50\)"),
    "unreachable MQL threshold": (
        "config/scoring.yaml", "  fit_at_least: 25\n", "  fit_at_least: 80\n", "fit_at_least",
        r"mql\.fit_at_least 80 can never be reached: fit scores reach at most 50"),
    "unreachable engagement threshold": (
        "config/scoring.yaml", "  engagement_at_least: 20\n", "  engagement_at_least: 61\n", "engagement_at_least",
        r"mql\.engagement_at_least 61 can never be reached: engagement scores reach at most 60"),
    "event type no source produces": (
        "config/scoring.yaml", "{event: webinar_attend, points: 10}", "{event: webinar_atend, points: 10}",
        "webinar_atend", r"no source produces events of type 'webinar_atend' — did you mean 'webinar_attend'\?"),
    "event type in a condition list": (
        "config/alerts.yaml", "when: {event: demo_request, within_days: 2}",
        "when: {event: [demo_requested], within_days: 2}", "demo_requested",
        r"no source produces events of type 'demo_requested' — did you mean 'demo_request'\?"),
    "lifecycle name in for: that is not a stage": (
        "config/nurture.yaml", "for: {lifecycle: [customer, evangelist]}", "for: {lifecycle: [customer, advocate]}",
        "advocate", r"unknown lifecycle stage 'advocate'"),
    "duplicate touch names in a track": (
        "config/nurture.yaml", "{name: comparison sheet,", "{name: buyer's guide,", "content: comparison,",
        r"touch name \"buyer's guide\" is used twice in track 'consideration'"),
    "recycle back_to later than SQL": (
        "config/lifecycle.yaml", "    back_to: lead\n", "    back_to: customer\n", "back_to: customer",
        r"recycle back_to 'customer' is later than salesqualifiedlead"),
    "unknown store URL scheme": (
        "app.yaml", "${NURTURE_STORE_URL:-sqlite:///nurture.db}", "sqllite:///nurture.db", "sqllite",
        r"unknown store URL scheme 'sqllite' — did you mean 'sqlite'\?"),
    "postgres:// instead of postgresql://": (
        "app.yaml", "${NURTURE_STORE_URL:-sqlite:///nurture.db}", "postgres://u@db/nurture", "postgres://",
        r"unknown store URL scheme 'postgres' — write postgresql://u@db/nurture"),
    "REPLACE_ME left in an id": (
        "config/nurture.yaml", 'hubspot_list_id: "301"', 'hubspot_list_id: "REPLACE_ME"', "REPLACE_ME",
        r"hubspot_list_id 'REPLACE_ME' is a placeholder"),
    "zeros left in a campaign id": (
        "config/nurture.yaml", "salesforce_campaign_id: 7015e0000000001AAA",
        "salesforce_campaign_id: 701000000000000AAA", "701000000000000AAA",
        r"salesforce_campaign_id '701000000000000AAA' is a placeholder"),
    "zeros left in an owner id": (
        "config/alerts.yaml", '"0055e0000000003AAA"', '"000000000000000"', "000000000000000",
        r"owner id '000000000000000' is a placeholder"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_semantic_mistake_is_reported_at_its_line(config_dir: Path, shipped_env: dict[str, str],
                                                       case: tuple[str, str, str, str, str]) -> None:
    rel, old, new, needle, pattern = case
    _edit(config_dir / rel, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir / "app.yaml")
    problems = [str(p) for p in caught.value.problems]
    matching = [p for p in problems if re.search(pattern, p)]
    assert len(matching) == 1, f"expected one problem matching {pattern!r}: {problems}"
    assert matching[0].startswith(f"{rel}:{_line_of(config_dir / rel, needle)}:"), matching


def test_the_shipped_configuration_has_no_semantic_problems(config_dir: Path, shipped_env: dict[str, str]) -> None:
    load_settings(config_dir / "app.yaml")  # raises ConfigError with every problem otherwise


def test_event_types_match_what_the_engagement_api_documents() -> None:
    assert set(KNOWN_EVENT_TYPES) == set(KNOWN_TYPES)


@pytest.mark.parametrize(("value", "placeholder"), [
    ("REPLACE_ME", True), ("your-list-id", True), ("<workflow id>", True), ("000000", True),
    ("00Q000000000000AAA", True), ("005000000000001AAA", False), ("9001", False), ("301", False),
    ("701000000000002AAA", False), ("0", False)])
def test_placeholder_ids(value: str, placeholder: bool) -> None:
    assert _is_placeholder(value) is placeholder
