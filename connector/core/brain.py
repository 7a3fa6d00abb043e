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
from operator import itemgetter
from typing import Any

from connector.core import explain as _explain
from connector.core.alerts import AlertRules, SalesAlert
from connector.core.cadence import zone
from connector.core.events import Event
from connector.core.journey import Journey
from connector.core.ledger import EventIndex, index_events
from connector.core.lifecycle import Lifecycle, LifecycleRules, positive_events
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
        self.lifecycle = LifecycleRules(lifecycle, positive_events(scoring))
        self.planner = Planner(nurture)
        self.alert_rules = AlertRules(alerts)
        self.timezone_field = nurture.cadence.timezone_field or ""
        self.default_timezone = nurture.cadence.default_timezone
        # Remembered answers of pure functions a rescore asks for every contact with the same arguments:
        # `now.isoformat()` for the `now` object last seen, and the local date of a next touch (the
        # planner's instants repeat: now + the gaps, moved by the same calendar rules).
        self._now_text: tuple[datetime | None, str] = (None, "")
        self._dates: dict[tuple[datetime, Any], str] = {}

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
            ctx, open_alerts, key, _AlertBody(card, membership, stage, life.stage, index))
        next_at = plan.next_touch_at
        next_date = self._local_date(next_at, get(self.timezone_field)) if next_at else None
        writeback = {
            "score": card.score, "fit_score": card.fit_score, "engagement_score": card.engagement_score,
            "persona": membership.persona, "segments": ";".join(membership.segments), "journey_stage": stage,
            "track": plan.track, "next_touch": next_date, "lifecycle_stage": life.stage,
        }
        since = plan.track_since
        seen, now_text = self._now_text  # a rescore passes one `now` for every contact: format it once
        if seen is not now:
            now_text = now.isoformat()
            self._now_text = (now, now_text)
        state = {
            "v": STATE_VERSION,
            "lifecycle": life.stage,
            "lifecycle_at": prev.get("lifecycle_at") if life.stage == previous_stage else now_text,
            "recycled_at": (now_text if recycled_at is now else recycled_at.isoformat()) if recycled_at else None,
            "track": plan.track,
            "track_since": (now_text if since is now else since.isoformat()) if since else None,
            "sent": plan.sent,
            "alerts": still_open,
        }
        # BrainResult(...) without the frozen dataclass's per-field object.__setattr__: the same object
        result = _new(BrainResult)
        fill = result.__dict__
        fill["card"] = card
        fill["membership"] = membership
        fill["content_interactions"] = index.content_interactions
        fill["journey_stage"] = stage
        fill["journey_reason"] = stage_reason
        fill["lifecycle"] = life
        fill["previous_lifecycle"] = previous_stage
        fill["crm_lifecycle"] = crm_stage
        fill["plan"] = plan
        fill["suppressed"] = suppressed
        fill["alerts"] = tuple(new_alerts)
        fill["open_alerts"] = still_open
        fill["writeback"] = writeback
        fill["state"] = state
        fill["recent"] = recent_engagement(index) if inp.explain else ()
        return result

    def _local_date(self, at: datetime, zone_value: Any) -> str:
        """The ISO date of `at` on the contact's wall clock (`zone_value`: the raw time-zone field)."""
        if at.tzinfo is not UTC:  # only UTC instants are remembered: they compare exactly (no fold)
            return at.astimezone(zone(zone_value, self.default_timezone)).date().isoformat()
        key = (at, zone_value)  # any non-str zone value means the default zone, like an unknown name
        text = self._dates.get(key)
        if text is None:
            if len(self._dates) >= _MEMO_SIZE:
                self._dates.clear()
            text = self._dates[key] = at.astimezone(zone(zone_value, self.default_timezone)).date().isoformat()
        return text


_MEMO_SIZE = 4096
_new = object.__new__


def recent_engagement(index: EventIndex, limit: int = 8) -> tuple[tuple[datetime, str], ...]:
    recent = [(age, event) for ages, events in index.by_type.values()
              for age, event in zip(ages, events, strict=True) if age <= RECENT_DAYS]
    recent.sort(key=_first)  # stable: equal ages keep their bucket and ledger order
    return tuple((event.occurred_at, _event_text(event)) for _, event in recent[:limit])


_first = itemgetter(0)


def _event_text(event: Event) -> str:
    detail = event.properties.get("url") or event.content_id
    return f"{event.type} {detail}" if detail else event.type


class _AlertBody:
    """`body_for(subject, why)` of `AlertRules.raise_new`: the part after "Why now" is the same for every
    alert of the contact, so it is built once, on the first alert (most contacts raise none)."""

    __slots__ = ("card", "index", "lifecycle", "membership", "stage", "tail")

    def __init__(self, card: ScoreCard, membership: Membership, stage: str | None, lifecycle: str,
                 index: EventIndex) -> None:
        self.card, self.membership, self.stage, self.lifecycle, self.index = card, membership, stage, lifecycle, index
        self.tail = ""

    def __call__(self, subject: str, why: str) -> str:
        if not self.tail:
            self.tail = _alert_tail(self.card, self.membership, self.stage, self.lifecycle, self.index)
        return f"{subject}\nWhy now: {why}\n{self.tail}"


def _alert_tail(card: ScoreCard, membership: Membership, stage: str | None, lifecycle: str,
                index: EventIndex) -> str:
    top = card.top(3)
    lines = [
        f"Score {card.score} (fit {card.fit_score}, engagement {card.engagement_score}); lifecycle {lifecycle}; "
        f"persona {membership.persona}; journey stage {stage or 'unknown'}",
        "Top score contributions:",
        *(f"  {capped:+.1f} {rule} ({group}, {count}×)" for capped, rule, group, count in top),
        f"Recent engagement (last {RECENT_DAYS:.0f} days):",
        *(f"  {_minute(at)} UTC {text}" for at, text in recent_engagement(index, 5)),
    ]
    return "\n".join(lines)


def _minute(at: datetime) -> str:
    """`f"{at.astimezone(UTC):%Y-%m-%d %H:%M}"`, faster: ISO text cut at the minute (4-digit years)."""
    utc = at if at.tzinfo is UTC else at.astimezone(UTC)
    return utc.isoformat(" ")[:16] if utc.year >= 1000 else f"{utc:%Y-%m-%d %H:%M}"


def _contact_key(facts: Mapping[str, Any]) -> str:
    for name in ("email", "hubspot_id", "salesforce_id", "id"):
        value = facts.get(name)
        if value:
            return str(value).strip().lower()
    return ""


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
