"""Checks of meaning, after the schema: values that parse as YAML and fit their types, yet fail at run time.

Each check names the file and line of the value and says how to fix it. They run inside `load_settings`
on whichever files validated, so `nurture validate`, `serve` and `worker` refuse the same mistakes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel

from connector.settings.alerts_config import AlertsConfig
from connector.settings.app_config import AppConfig
from connector.settings.lifecycle_config import LifecycleConfig
from connector.settings.mapping_config import MappingConfig
from connector.settings.nurture_config import NurtureConfig
from connector.settings.problems import Problem, suggest
from connector.settings.scoring_config import FitScore, ScoringConfig
from connector.settings.yaml_source import Path_, YamlDocument

# The engagement event types a source produces: the engagement API's documented types (webhooks/
# engagement_events.KNOWN_TYPES; a test keeps the two equal) plus whatever the HubSpot counters map to.
KNOWN_EVENT_TYPES = (
    "email_open", "email_click", "email_reply", "email_bounce", "unsubscribe", "form_submit", "page_view",
    "content_download", "webinar_register", "webinar_attend", "survey_answer", "ad_click", "social_click",
    "call_completed", "meeting_booked", "demo_request", "event_attend", "trial_signup", "product_usage",
)
# HubSpot's default lifecycle stages, lowest first; "other" is HubSpot's catch-all and not on the ladder.
LIFECYCLE_LADDER = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
                    "customer", "evangelist")
STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
_PLACEHOLDER_WORDS = re.compile(r"REPLACE[_-]?ME|CHANGE[_-]?ME|YOUR[_-]|TODO|XXXX|<[^>]*>", re.IGNORECASE)


def semantic_problems(app: AppConfig | None, app_doc: YamlDocument, models: dict[str, Any],
                      docs: dict[str, YamlDocument]) -> Iterator[Problem]:
    if app is not None:
        yield from _store_url(app, app_doc)
        yield from _app_placeholders(app, app_doc)
    scoring: ScoringConfig | None = models.get("scoring")
    if scoring is not None:
        yield from _scoring(scoring, docs["scoring"])
    nurture: NurtureConfig | None = models.get("nurture")
    if nurture is not None:
        yield from _cadence(nurture, docs["nurture"])
        yield from _tracks(nurture, docs["nurture"])
    lifecycle: LifecycleConfig | None = models.get("lifecycle")
    if lifecycle is not None:
        yield from _recycle(lifecycle, docs["lifecycle"])
    alerts: AlertsConfig | None = models.get("alerts")
    if alerts is not None:
        yield from _owner_placeholders(alerts, docs["alerts"])
    mapping: MappingConfig | None = models.get("mappings")
    known = set(KNOWN_EVENT_TYPES) | set(mapping.engagement.hubspot_counters.values() if mapping else ())
    for key in ("scoring", "segments", "lifecycle", "nurture", "alerts"):
        if models.get(key) is not None:
            yield from _event_types(models[key], docs[key], known)


# -- app.yaml ---------------------------------------------------------------------------------------

def _store_url(app: AppConfig, doc: YamlDocument) -> Iterator[Problem]:
    url = app.store.url
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in STORE_SCHEMES:
        return
    if scheme in ("postgres", "postgresql+psycopg2"):
        hint = f"write postgresql://{url.split('://', 1)[1]} (the driver is psycopg 3)"
    elif not scheme:
        hint = "write a URL such as sqlite:///nurture.db or postgresql://user@host/db"
    else:
        hint = suggest(scheme, STORE_SCHEMES)
    yield doc.problem(("store", "url"), f"unknown store URL scheme {scheme or url!r}", hint)


def _app_placeholders(app: AppConfig, doc: YamlDocument) -> Iterator[Problem]:
    if app.hubspot.enabled and app.hubspot.portal_id is not None and _is_placeholder(str(app.hubspot.portal_id)):
        yield doc.problem(("hubspot", "portal_id"), f"portal_id {app.hubspot.portal_id} is a placeholder",
                          "put your HubSpot account id (Settings > Account Defaults) or leave it empty")


# -- scoring.yaml -----------------------------------------------------------------------------------

def _reachable_fit(fit: FitScore) -> float:
    """The most a lead can score: every positive rule at once, capped by max."""
    return min(fit.max, sum(r.points for r in fit.rules if r.points > 0))


def _scoring(scoring: ScoringConfig, doc: YamlDocument) -> Iterator[Problem]:
    for key, part in (("fit", scoring.fit), ("engagement", scoring.engagement)):
        if part.min > part.max:
            yield doc.problem((key, "min"), f"{key}.min ({part.min:g}) is greater than {key}.max ({part.max:g})",
                              f"set {key}.min below {key}.max")
    fit_top = _reachable_fit(scoring.fit)
    engagement_top = scoring.engagement.max
    mql = scoring.mql
    checks = [("fit_at_least", mql.fit_at_least, fit_top,
               f"fit scores reach at most {fit_top:g} (fit.max, or the sum of the positive fit rules)"),
              ("engagement_at_least", mql.engagement_at_least, engagement_top,
               f"engagement scores reach at most {engagement_top:g} (engagement.max)")]
    if mql.total_at_least is not None:
        checks.append(("total_at_least", mql.total_at_least, fit_top + engagement_top,
                       f"fit + engagement reach at most {fit_top + engagement_top:g}"))
    for name, threshold, top, why in checks:
        if threshold > top:
            yield doc.problem(("mql", name), f"mql.{name} {threshold:g} can never be reached: {why}",
                              f"lower it to {top:g} or less, or raise the maximum")


# -- nurture.yaml -----------------------------------------------------------------------------------

def _cadence(nurture: NurtureConfig, doc: YamlDocument) -> Iterator[Problem]:
    cadence = nurture.cadence
    for i, value in enumerate(cadence.quiet_hours):
        try:
            time.fromisoformat(value)
        except ValueError:
            yield doc.problem(("cadence", "quiet_hours", i), f"quiet hour {value!r} is not a time",
                              "write 24-hour HH:MM, e.g. \"20:00\" (quoted)")
    yield from _zone(cadence.default_timezone, doc, ("cadence", "default_timezone"))


def _zone(name: str, doc: YamlDocument, path: Path_) -> Iterator[Problem]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield doc.problem(path, f"unknown IANA time zone {name!r}", _zone_hint(name))


def _zone_hint(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else "use a name like America/New_York or Europe/Berlin"


def _tracks(nurture: NurtureConfig, doc: YamlDocument) -> Iterator[Problem]:
    for i, track in enumerate(nurture.tracks):
        for j, stage in enumerate(track.for_.lifecycle or []):
            if stage not in LIFECYCLE_LADDER:
                yield doc.problem(("tracks", i, "for", "lifecycle", j), f"unknown lifecycle stage {stage!r}",
                                  suggest(stage, LIFECYCLE_LADDER))
        seen: dict[str, int] = {}
        for j, touch in enumerate(track.touches):
            if touch.name in seen:
                line = doc.where(("tracks", i, "touches", seen[touch.name]))[0]
                yield doc.problem(("tracks", i, "touches", j, "name"),
                                  f"touch name {touch.name!r} is used twice in track {track.name!r}",
                                  f"it is also at line {line}; the brain records touches sent by name, so "
                                  "give each a distinct name")
            else:
                seen[touch.name] = j
            ids = {"hubspot_workflow_id": touch.hubspot_workflow_id, "hubspot_list_id": touch.hubspot_list_id,
                   "salesforce_campaign_id": touch.salesforce_campaign_id}
            for key, value in ids.items():
                if value is not None and _is_placeholder(str(value)):
                    yield doc.problem(("tracks", i, "touches", j, key), f"{key} {value!r} is a placeholder",
                                      "put the real id from your CRM (nurture preflight checks it exists)")


# -- lifecycle.yaml, alerts.yaml --------------------------------------------------------------------

def _recycle(lifecycle: LifecycleConfig, doc: YamlDocument) -> Iterator[Problem]:
    sql = LIFECYCLE_LADDER.index("salesqualifiedlead")
    for i, rule in enumerate(lifecycle.recycle):
        if LIFECYCLE_LADDER.index(rule.back_to) > sql:
            yield doc.problem(("recycle", i, "back_to"),
                              f"recycle back_to {rule.back_to!r} is later than salesqualifiedlead",
                              "a recycled lead goes back to nurture: use lead or marketingqualifiedlead")


def _owner_placeholders(alerts: AlertsConfig, doc: YamlDocument) -> Iterator[Problem]:
    for key in ("round_robin_salesforce", "round_robin_hubspot"):
        for i, value in enumerate(getattr(alerts.owners, key)):
            if _is_placeholder(value):
                yield doc.problem(("owners", key, i), f"owner id {value!r} is a placeholder",
                                  "put a real user id (Salesforce: Setup > Users; HubSpot: nurture preflight "
                                  "lists owners)")


def _is_placeholder(value: str) -> bool:
    if _PLACEHOLDER_WORDS.search(value):
        return True
    digits = value.strip()
    # Salesforce ids carry a 3-character key prefix and an optional 3-character checksum suffix.
    core = digits[3:15] if len(digits) in (15, 18) and not digits.isdigit() else digits
    return len(core) >= 4 and set(core) == {"0"}


# -- event types in conditions and rules ------------------------------------------------------------

def _event_types(model: BaseModel, doc: YamlDocument, known: set[str]) -> Iterator[Problem]:
    for path, names in _event_references(model, ()):
        for i, name in enumerate(names):
            if name not in known:
                where = (*path, "event", i) if len(names) > 1 else (*path, "event")
                yield doc.problem(where, f"no source produces events of type {name!r}", suggest(name, known))


def _event_references(node: Any, path: Path_) -> Iterator[tuple[Path_, list[str]]]:
    """Every `event:` (conditions and engagement rules) with its YAML path."""
    if isinstance(node, BaseModel) and "event" in type(node).model_fields:  # EventCondition, EngagementRule
        event = node.event  # type: ignore[attr-defined]
        yield path, [event] if isinstance(event, str) else list(event or [])
    if isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            yield from _event_references(getattr(node, name), (*path, field.alias or name))
    elif isinstance(node, list | tuple):
        for i, child in enumerate(node):
            yield from _event_references(child, (*path, i))

