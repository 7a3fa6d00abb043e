"""The nurture brain: score -> segments -> journey stage -> lifecycle -> nurture plan -> sales alerts.

    brain = Brain(scoring, segments, lifecycle, nurture, alerts)   # compiles every rule once
    result = brain.think(BrainInput(facts=..., events=..., previous=state_from_last_run, now=now))

Pure and deterministic: the same input gives the same result. `previous` is the `state` of the last
result for this contact; the caller persists `result.state` only once it has executed the due
touches and raised the alerts, so a crash in between makes the next run return them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.core import explain as _explain
from connector.core.alerts import AlertRules, SalesAlert
from connector.core.cadence import zone
from connector.core.events import Event
from connector.core.journey import Journey
from connector.core.ledger import EventIndex, index_events
from connector.core.lifecycle import Lifecycle, LifecycleRules
from connector.core.nurture import DueTouch, Plan, Planner
from connector.core.predicates import Ctx
from connector.core.scoring import Contribution, GroupTotal, ScoreCard, Scorer
from connector.core.segments import Membership, Segmenter
from connector.settings.alerts_config import AlertsConfig
from connector.settings.lifecycle_config import LifecycleConfig
from connector.settings.nurture_config import NurtureConfig
from connector.settings.scoring_config import ScoringConfig
from connector.settings.segments_config import SegmentsConfig

STATE_VERSION = 1
RECENT_DAYS = 30.0  # "recent engagement" in alert bodies and explain


@dataclass(frozen=True, slots=True)
class BrainInput:
    facts: Mapping[str, Any]
    events: Sequence[Event]
    previous: Mapping[str, Any] | None
    now: datetime
    explain: bool = False  # also collect the recent-engagement list that only `explain()` prints


@dataclass(frozen=True)
class BrainResult:
    card: ScoreCard
    membership: Membership
    content_interactions: int
    journey_stage: str | None
    journey_reason: str
    lifecycle: Lifecycle
    previous_lifecycle: str | None
    crm_lifecycle: str | None
    plan: Plan
    suppressed: str | None
    alerts: tuple[SalesAlert, ...]
    open_alerts: Mapping[str, Any]
    writeback: dict[str, Any]
    state: dict[str, Any]
    recent: tuple[tuple[datetime, str], ...] = field(default=())  # newest first, for explain

    @property
    def fit_score(self) -> int:
        return self.card.fit_score

    @property
    def engagement_score(self) -> int:
        return self.card.engagement_score

    @property
    def score(self) -> int:
        return self.card.score

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        return self.card.contributions

    @property
    def groups(self) -> tuple[GroupTotal, ...]:
        return self.card.groups

    @property
    def persona(self) -> str | None:
        return self.membership.persona

    @property
    def segments(self) -> tuple[str, ...]:
        return self.membership.segments

    @property
    def lifecycle_stage(self) -> str:
        return self.lifecycle.stage

    @property
    def lifecycle_reason(self) -> str:
        return self.lifecycle.reason

    @property
    def recycled(self) -> bool:
        return self.lifecycle.recycled

    @property
    def track(self) -> str | None:
        return self.plan.track

    @property
    def track_reason(self) -> str:
        return self.plan.reason

    @property
    def due_touches(self) -> tuple[DueTouch, ...]:
        return self.plan.due

    @property
    def next_touch_at(self) -> datetime | None:
        return self.plan.next_touch_at

    def explain(self) -> list[str]:
        return _explain.lines(self)


class Brain:
    def __init__(self, scoring: ScoringConfig, segments: SegmentsConfig, lifecycle: LifecycleConfig,
                 nurture: NurtureConfig, alerts: AlertsConfig) -> None:
        self.scorer = Scorer(scoring)
        self.segmenter = Segmenter(segments)
        self.journey = Journey(lifecycle)
        self.lifecycle = LifecycleRules(lifecycle)
        self.planner = Planner(nurture)
        self.alert_rules = AlertRules(alerts)
        self.timezone_field = nurture.cadence.timezone_field or ""
        self.default_timezone = nurture.cadence.default_timezone

    def think(self, inp: BrainInput) -> BrainResult:
        now = inp.now if inp.now.tzinfo else inp.now.replace(tzinfo=UTC)
        prev = inp.previous or {}
        index = index_events(inp.events, now)
        by_type = index.by_type
        facts = dict(inp.facts)
        get = facts.get
        crm_stage = get("lifecycle_stage")
        sent = prev.get("sent") or ()  # the planner copies it before adding the touches due now
        previous_track = prev.get("track")
        facts["crm_lifecycle_stage"] = crm_stage
        facts["content_interactions"] = index.content_interactions
        facts["unsubscribed"] = bool(get("email_optout")) or "unsubscribe" in by_type
        facts["bounced"] = bool(get("bounced")) or "email_bounce" in by_type
        facts["touches_sent"] = len(sent)
        facts["track"] = previous_track
        ctx = Ctx(facts, index, now)

        scorer = self.scorer
        card = scorer.score(ctx)
        facts["fit_score"], facts["engagement_score"], facts["score"] = (
            card.fit_score, card.engagement_score, card.score)
        membership = self.segmenter.place(ctx)
        facts["persona"], facts["segments"] = membership.persona, list(membership.segments)
        stage, stage_reason = self.journey.place(ctx)
        facts["journey_stage"] = stage

        previous_stage = prev.get("lifecycle")
        recycled_at = _parse(prev.get("recycled_at"))
        mql = scorer.is_mql(card)
        life = self.lifecycle.decide(ctx, crm_stage, previous_stage, mql, scorer.mql_text(card) if mql else "",
                                     recycled_at)  # the text is read only for an MQL
        facts["lifecycle_stage"] = life.stage
        open_alerts: Mapping[str, Any] = prev.get("alerts") or {}
        if life.recycled:
            recycled_at, open_alerts = now, {}

        planner = self.planner
        suppressed = planner.suppressed(ctx)
        plan = planner.plan(ctx, membership.persona, stage, life.stage, previous_track,
                            _parse(prev.get("track_since")), sent, suppressed=suppressed)
        # touches_sent stays the count confirmed by the caller: touches due now may still fail
        facts["track"] = plan.track
        if planner.suppress_reads_track:
            suppressed = planner.suppressed(ctx)

        key = _contact_key(facts)
        new_alerts, still_open = self.alert_rules.raise_new(
            ctx, open_alerts, key, lambda subject, why: _alert_body(subject, why, card, membership, stage,
                                                                    life.stage, index))
        next_at = plan.next_touch_at
        next_date = (next_at.astimezone(zone(get(self.timezone_field), self.default_timezone)).date().isoformat()
                     if next_at else None)
        writeback = {
            "score": card.score, "fit_score": card.fit_score, "engagement_score": card.engagement_score,
            "persona": membership.persona, "segments": ";".join(membership.segments), "journey_stage": stage,
            "track": plan.track, "next_touch": next_date, "lifecycle_stage": life.stage,
        }
        since = plan.track_since
        state = {
            "v": STATE_VERSION,
            "lifecycle": life.stage,
            "lifecycle_at": prev.get("lifecycle_at") if life.stage == previous_stage else now.isoformat(),
            "recycled_at": recycled_at.isoformat() if recycled_at else None,
            "track": plan.track,
            "track_since": since.isoformat() if since else None,
            "sent": plan.sent,
            "alerts": still_open,
        }
        return BrainResult(card, membership, index.content_interactions, stage, stage_reason, life,
                           previous_stage, crm_stage, plan, suppressed, tuple(new_alerts), still_open, writeback,
                           state, recent_engagement(index) if inp.explain else ())


def recent_engagement(index: EventIndex, limit: int = 8) -> tuple[tuple[datetime, str], ...]:
    recent = [(age, event) for ages, events in index.by_type.values()
              for age, event in zip(ages, events, strict=True) if age <= RECENT_DAYS]
    recent.sort(key=lambda pair: pair[0])
    return tuple((event.occurred_at, _event_text(event)) for _, event in recent[:limit])


def _event_text(event: Event) -> str:
    detail = event.properties.get("url") or event.content_id
    return f"{event.type} {detail}" if detail else event.type


def _alert_body(subject: str, why: str, card: ScoreCard, membership: Membership, stage: str | None,
                lifecycle: str, index: EventIndex) -> str:
    top = card.top(3)
    lines = [
        subject,
        f"Why now: {why}",
        f"Score {card.score} (fit {card.fit_score}, engagement {card.engagement_score}); lifecycle {lifecycle}; "
        f"persona {membership.persona}; journey stage {stage or 'unknown'}",
        "Top score contributions:",
        *(f"  {capped:+.1f} {rule} ({group}, {count}×)" for capped, rule, group, count in top),
        f"Recent engagement (last {RECENT_DAYS:.0f} days):",
        *(f"  {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC {text}" for at, text in recent_engagement(index, 5)),
    ]
    return "\n".join(lines)


def _contact_key(facts: Mapping[str, Any]) -> str:
    for name in ("email", "hubspot_id", "salesforce_id", "id"):
        value = facts.get(name)
        if value:
            return str(value).strip().lower()
    return ""


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
