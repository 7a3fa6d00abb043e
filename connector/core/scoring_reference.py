"""The scoring rules of docs/BRAIN.md, stated as plainly as Python allows: the reference for `Scorer`.

Nothing here is precompiled, remembered or reordered: conditions go through the reference evaluator
(`core.conditions`), events are walked one by one in ledger order, and the results are built with their
normal constructors. It is slow on purpose; `connector.core.scoring.Scorer` is the fast kernel, and
tests/core/test_scoring_reference.py proves the two give the same cards for random rules and ledgers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connector.core.conditions import evaluate, test_field
from connector.core.events import Event
from connector.core.predicates import describe
from connector.core.scoring import (
    Contribution,
    GroupTotal,
    ScoreCard,
    clamp_cap,
    decay_text,
    event_text,
    round_half_up,
)
from connector.settings.scoring_config import EngagementGroup, ScoringConfig

DAY = 86400.0


def reference_score(config: ScoringConfig, facts: Mapping[str, Any], events: Sequence[Event],
                    now: datetime) -> ScoreCard:
    contributions: list[Contribution] = []
    groups: list[GroupTotal] = []

    # Fit: the sum of the points of every matching rule, clamped to [fit.min, fit.max].
    fit_raw = 0.0
    for fit_rule in config.fit.rules:
        if evaluate(fit_rule.when, facts, events, now):
            fit_raw += fit_rule.points
            contributions.append(Contribution(fit_rule.name, "fit", fit_rule.points, 1, fit_rule.points,
                                              fit_rule.points, fit_rule.points, None, describe(fit_rule.when)))
    fit = min(max(fit_raw, config.fit.min), config.fit.max)

    # Engagement, group by group.
    engagement_raw = 0.0
    for group in config.engagement.groups:
        count = [0] * len(group.rules)
        factors = [0.0] * len(group.rules)  # per rule: the sum of its events' decay factors
        for event in events:
            age = age_in_days(event, now)
            if group.window_days is not None and age > group.window_days:
                continue  # outside the window: not at all
            chosen = first_matching_rule(group, event, now)
            if chosen is None:
                continue
            count[chosen] += 1
            factors[chosen] += decay_factor(age, group)

        total = 0.0
        touched = False
        for i, rule in enumerate(group.rules):
            if count[i] == 0:
                continue
            touched = True
            decayed = rule.points * factors[i]
            capped = clamp_cap(decayed, rule.cap)  # a rule's sum is capped at +/-cap
            total += capped
            text = event_text(rule)
            contributions.append(Contribution(rule.name or text, group.name, rule.points, count[i],
                                              rule.points * count[i], decayed, capped, rule.cap, text))
        if touched:
            group_capped = clamp_cap(total, group.cap)  # then the group's sum at +/-cap
            groups.append(GroupTotal(group.name, total, group.cap, group_capped, decay_text(group)))
            engagement_raw += group_capped
    engagement = min(max(engagement_raw, config.engagement.min), config.engagement.max)  # then the total

    fit_score, engagement_score = round_half_up(fit), round_half_up(engagement)
    return ScoreCard(fit_raw, fit, engagement_raw, engagement, fit_score, engagement_score,
                     fit_score + engagement_score, tuple(contributions), tuple(groups))


def age_in_days(event: Event, now: datetime) -> float:
    """(now - occurred_at) in POSIX seconds / 86400: negative for a future-dated event."""
    return (now.timestamp() - event.occurred_at.timestamp()) / DAY


def first_matching_rule(group: EngagementGroup, event: Event, now: datetime) -> int | None:
    """The index of the first rule of the group that takes the event's type and whose `where` passes."""
    for i, rule in enumerate(group.rules):
        types = [rule.event] if isinstance(rule.event, str) else rule.event
        if event.type not in types:
            continue
        if rule.where is None or test_field(rule.where, event.properties.get(rule.where.field), now):
            return i
    return None


def decay_factor(age: float, group: EngagementGroup) -> float:
    """0.5^(age / half-life); a future-dated event counts in full, never more. Windows count in full."""
    if group.half_life_days is None or age <= 0:
        return 1.0
    return 0.5 ** (age / group.half_life_days)

