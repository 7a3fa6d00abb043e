"""Nurture reports: each track and touch (enrolment, exits, attributed engagement) and each A/B experiment.

Attribution is last touch within a window: an open, click or unsubscribe is credited to the latest touch
the contact was sent at or before it, if that touch is at most `window_days` older; each contact counts once
per touch, so the rates are shares of the contacts sent the touch. A conversion is the
contact reaching the track's goal stage, credited the same way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.core.abstats import compare, wilson
from connector.core.history import RANK, SHORT, History, Person, Report, Touch, share
from connector.settings.nurture_config import NurtureConfig, Track

DEFAULT_GOAL = "marketingqualifiedlead"


def goal_stage(track: Track, touch_goal: str | None = None) -> str | None:
    """The lifecycle stage that ends the track well: `goal_stage`, else the earliest stage its
    `exit_when: {field: lifecycle_stage, in: [...]}` names; None when the goal is not a stage."""
    if touch_goal or track.goal_stage:
        return touch_goal or track.goal_stage
    cond = track.exit_when
    stages = getattr(cond, "in_", None) if getattr(cond, "field", None) == "lifecycle_stage" else None
    if stages:
        known = [s for s in stages if s in RANK]
        return min(known, key=RANK.__getitem__) if known else None
    return None


def _credit(person: Person, at: datetime, window: timedelta) -> Touch | None:
    """The last touch sent at or before `at`, if within the window."""
    best = None
    for touch in person.sent:
        if touch.at <= at and (best is None or touch.at > best.at):
            best = touch
    return best if best is not None and at - best.at <= window else None


@dataclass
class _Row:
    sent: int = 0
    opens: int = 0
    clicks: int = 0
    conversions: int = 0
    unsubscribes: int = 0


def tracks(h: History, config: NurtureConfig, window_days: int = 7) -> Report:
    window = timedelta(days=window_days)
    report = Report("tracks", f"Tracks: enrolment, exits, and engagement credited to a touch within {window_days} "
                              "days", ["track", "touch", "enrolled", "active", "exit goal", "exit unsubscribe",
                                       "exit exhausted", "exit moved", "sent", "opens", "clicks", "conversions",
                                       "click rate", "unsubscribe rate"])
    rows: dict[tuple[str, str], _Row] = defaultdict(_Row)
    people_by: dict[tuple[str, str], list[int]] = defaultdict(list)
    goals = {t.name: goal_stage(t) or DEFAULT_GOAL for t in config.tracks}
    for person in h.people:
        for touch in person.sent:
            if h.since <= touch.at <= h.now:
                rows[(touch.track, touch.touch)].sent += 1
                people_by[(touch.track, touch.touch)].append(person.id)
        counted: set[tuple[str, str, str]] = set()  # rates are of people: five clicks by one contact count once
        for act in person.activity:
            field = {"email_open": "opens", "email_click": "clicks", "unsubscribe": "unsubscribes"}.get(act.type)
            if field and h.since <= act.at <= h.now and (credit := _credit(person, act.at, window)):
                if (credit.track, credit.touch, field) in counted:
                    continue
                counted.add((credit.track, credit.touch, field))
                setattr(rows[(credit.track, credit.touch)], field,
                        getattr(rows[(credit.track, credit.touch)], field) + 1)
        credited: set[str] = set()
        for track in {t.track for t in person.sent}:
            reached = person.reached_at(goals.get(track, DEFAULT_GOAL))
            if reached is None or not h.since <= reached <= h.now:
                continue
            credit = _credit(person, reached, window)
            if credit is not None and credit.track == track and track not in credited:
                credited.add(track)
                rows[(credit.track, credit.touch)].conversions += 1
    for track in config.tracks:
        names = [t.name for t in track.all_touches()]
        enrolled = [p for p in h.people if any(t.track == track.name and h.since <= t.at <= h.now for t in p.sent)]
        exits = _exits(track, enrolled, goals[track.name])
        total = _Row()
        for name in names:
            r = rows.get((track.name, name), _Row())
            for attr in ("sent", "opens", "clicks", "conversions", "unsubscribes"):
                setattr(total, attr, getattr(total, attr) + getattr(r, attr))
        report.add([track.name, "(all)", len(enrolled), len(exits["active"]), len(exits["goal"]),
                    len(exits["unsubscribe"]), len(exits["exhausted"]), len(exits["moved"]), total.sent,
                    total.opens, total.clicks, total.conversions, share(total.clicks, total.sent),
                    share(total.unsubscribes, total.sent)], [p.id for p in enrolled])
        for name in names:
            r = rows.get((track.name, name), _Row())
            report.add([track.name, name, len(set(people_by[(track.name, name)])), None, None, None, None, None,
                        r.sent, r.opens, r.clicks, r.conversions, share(r.clicks, r.sent),
                        share(r.unsubscribes, r.sent)], people_by[(track.name, name)])
    report.notes.append(f"Opens, clicks, unsubscribes and conversions are credited to the last touch sent at most "
                        f"{window_days} days before them; conversion = reaching the track's goal stage.")
    return report


def _exits(track: Track, enrolled: list[Person], goal: str) -> dict[str, list[Person]]:
    out: dict[str, list[Person]] = {k: [] for k in ("active", "goal", "unsubscribe", "exhausted", "moved")}
    all_names = {t.name for t in track.touches}
    arms = {f"{track.experiment_name()}={v.name}": {t.name for t in v.touches or ()} for v in track.variants or ()}
    for person in enrolled:
        mine = [t for t in person.sent if t.track == track.name]
        first = min(t.at for t in mine)
        names = arms.get(next((t.variant for t in mine if t.variant in arms), ""), all_names)
        if person.track == track.name:
            out["active"].append(person)
        elif (reached := person.reached_at(goal)) is not None and reached >= first:
            out["goal"].append(person)
        elif person.unsubscribed or any(a.type == "unsubscribe" and a.at >= first for a in person.activity):
            out["unsubscribe"].append(person)
        elif names <= {t.touch for t in mine}:
            out["exhausted"].append(person)
        else:
            out["moved"].append(person)
    return out


@dataclass(frozen=True)
class Experiment:
    name: str
    track: str
    touch: str | None
    variants: list[tuple[str, float, str | None]]  # (name, weight, label)
    winner: str | None
    goal: str
    goal_days: int


def experiments(config: NurtureConfig) -> list[Experiment]:
    found = []
    for track in config.tracks:
        if track.variants:
            found.append(Experiment(track.experiment_name(), track.name, None,
                                    [(v.name, v.weight, v.label) for v in track.variants], track.winner,
                                    goal_stage(track) or DEFAULT_GOAL, track.goal_days))
        for touch in track.touches:
            if touch.variants:
                name = touch.experiment or f"{track.name}:{touch.name}".replace(" ", "_").lower()
                found.append(Experiment(name, track.name, touch.name,
                                        [(v.name, v.weight, v.label) for v in touch.variants], touch.winner,
                                        goal_stage(track, touch.goal_stage) or DEFAULT_GOAL, touch.goal_days))
    return found


def ab(h: History, config: NurtureConfig) -> Report:
    """Per experiment and variant: contacts assigned (first touch of the experiment in the period), goal
    conversions within `goal_days` of that touch, clicks in the same window, Wilson 95% intervals, and each
    variant against the first (control) with a pooled two-proportion z-test."""
    report = Report("ab", "A/B experiments: conversion to the goal and click rate per variant",
                    ["experiment", "variant", "label", "weight", "contacts", "conversions", "conversion rate",
                     "conversion 95% CI", "clicks", "click rate", "vs control (conversion)", "p-value",
                     "click p-value", "verdict"])
    for exp in experiments(config):
        arms: dict[str, list[tuple[Person, datetime]]] = defaultdict(list)
        prefix = exp.name + "="
        for person in h.people:
            mine = sorted((t for t in person.sent if t.variant and t.variant.startswith(prefix)), key=lambda t: t.at)
            if mine and h.since <= mine[0].at <= h.now:
                arms[mine[0].variant[len(prefix):]].append((person, mine[0].at))  # type: ignore[index]
        window = timedelta(days=exp.goal_days)
        stats = {}
        for name, _, _ in exp.variants:
            members = arms.get(name, [])
            conv = [p for p, at in members if (r := p.reached_at(exp.goal)) is not None and at < r <= at + window]
            clicks = [p for p, at in members if any(a.type == "email_click" and at < a.at <= at + window
                                                    for a in p.activity)]
            stats[name] = (len(members), len(conv), len(clicks), [p.id for p, _ in members])
        control = exp.variants[0][0]
        n0, c0, k0, _ = stats[control]
        for name, weight, label in exp.variants:
            n, c, k, ids = stats[name]
            ci = wilson(c, n)
            diff = p_value = click_p = verdict = None
            if name == control:
                verdict = "control"
            elif (cmp := compare(c0, n0, c, n)) is not None:
                diff = f"{cmp.difference:+.1%} [{cmp.ci[0]:+.1%}, {cmp.ci[1]:+.1%}]"
                p_value = round(cmp.p_value, 4)
                verdict = cmp.too_small or _verdict(name, control, cmp.p_value, cmp.difference, cmp.needed_per_arm)
                click = compare(k0, n0, k, n)
                click_p = round(click.p_value, 4) if click is not None else None
            else:
                verdict = "no contacts yet in one arm"
            report.add([exp.name, name, label, weight, n, c, share(c, n),
                        f"{ci[0]:.1%} - {ci[1]:.1%}" if ci else None, k, share(k, n), diff, p_value, click_p,
                        verdict], ids)
        if exp.winner:
            report.notes.append(f"{exp.name}: ended, every contact now gets {exp.winner}.")
        where = f"touch {exp.track}:{exp.touch}" if exp.touch else f"track {exp.track}"
        report.notes.append(f"{exp.name} ({where}): goal = reaching {SHORT.get(exp.goal, exp.goal)} within "
                            f"{exp.goal_days} days of the first touch of the experiment.")
    if not report.rows:
        report.notes.append("No track or touch has `variants:` in config/nurture.yaml.")
    return report


def _verdict(name: str, control: str, p: float, diff: float, needed: int | None) -> str:
    if p < 0.05:
        better = name if diff > 0 else control
        return f"{better} converts better (p={p:.3f}); end it with `winner: {better}`"
    more = f"; about {needed} contacts per arm would detect a gap this size" if needed else ""
    return f"no significant difference yet (p={p:.2f}){more}"
