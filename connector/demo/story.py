"""A seeded script of what prospects and the sales team do over a few simulated weeks.

Each person gets a temperament (cold, curious, evaluating, buying, leaving) and, from it, a timeline of
engagement (opens, clicks, pricing views, downloads, webinars, demo requests, unsubscribes, bounces) and,
for those who ask for a demo, what sales does next (work the lead, convert it with an opportunity, win it,
or reject it so it recycles into nurture). Pure and deterministic: the same people and seed give the same
story, which is what makes it a test fixture as well as a demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

TEMPERAMENTS = (("cold", 0.35), ("curious", 0.25), ("evaluating", 0.2), ("buying", 0.12), ("leaving", 0.08))


@dataclass(frozen=True)
class Action:
    at: timedelta  # from the start of the story
    person: int  # index into the people list
    kind: str  # an engagement type, or sales:work | sales:convert | sales:win | sales:reject
    properties: dict[str, Any] = field(default_factory=dict, hash=False)
    content: str | None = None


def _temperament(rng: random.Random) -> str:
    roll, edge = rng.random(), 0.0
    for name, share in TEMPERAMENTS:
        edge += share
        if roll < edge:
            return name
    return TEMPERAMENTS[0][0]


def plan(n_people: int, seed: int, days: float = 14.0) -> list[Action]:
    rng = random.Random(seed)
    span = days * 24.0
    actions: list[Action] = []

    def at(hours: float) -> timedelta:
        return timedelta(hours=min(max(hours, 0.1), span))

    for person in range(n_people):
        kind = _temperament(rng)
        t = rng.uniform(0, span * 0.15)  # when they first show up

        def add(hours: float, what: str, content: str | None = None, **props: Any) -> None:
            actions.append(Action(at(hours), person, what, props, content))  # noqa: B023 - used at once

        opens = {"cold": 2, "curious": 4, "evaluating": 4, "buying": 3, "leaving": 2}[kind]
        for _ in range(opens):
            t += rng.uniform(3, 24)
            add(t, "email_open")
        if kind == "cold":
            continue
        if kind == "leaving":
            add(t + rng.uniform(2, 24), "unsubscribe" if rng.random() < 0.6 else "email_bounce")
            continue
        for _ in range({"curious": 1, "evaluating": 3, "buying": 3}[kind]):
            t += rng.uniform(2, 24)
            add(t, "email_click")
        add(t + rng.uniform(1, 12), "page_view", url="https://example.com/blog/nurture-basics")
        if kind == "curious":
            continue
        t += rng.uniform(6, 48)
        add(t, "content_download", "buyers-guide")
        t += rng.uniform(6, 48)
        add(t, "webinar_attend", "integrations-webinar")
        for _ in range(2):
            t += rng.uniform(1, 12)
            add(t, "page_view", url="https://example.com/pricing")
        if kind == "evaluating" and rng.random() < 0.7:
            continue
        t += rng.uniform(2, 24)
        add(t, "demo_request", "demo-form")
        # what sales does with a demo request
        t += rng.uniform(4, 24)
        add(t, "sales:work")
        roll = rng.random()
        if roll < 0.25:
            add(t + rng.uniform(12, 48), "sales:reject")  # not a fit now: back to nurture
        elif roll < 0.8:
            t += rng.uniform(12, 72)
            add(t, "sales:convert")
            if rng.random() < 0.5:
                add(t + rng.uniform(24, 96), "sales:win")
    actions.sort(key=lambda a: (a.at, a.person, a.kind))
    return actions
