"""The lifecycle reports: funnel, velocity, cohorts and sources, as pure functions of a History.

Each returns a Report (a table with notes and, per row, the contacts behind it), so the CLI, the
dashboard and the tests read the same numbers. Definitions are in docs/REPORTS.md; they are repeated
next to the code that computes them so the two can be checked against each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from connector.core.history import (
    RANK,
    SHORT,
    History,
    Person,
    Report,
    add_months,
    days,
    month_of,
    percentile,
    share,
)

FUNNEL = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
VELOCITY_STEPS = (("lead", "marketingqualifiedlead"), ("marketingqualifiedlead", "salesqualifiedlead"),
                  ("salesqualifiedlead", "opportunity"))
COHORT_STAGES = ("marketingqualifiedlead", "salesqualifiedlead", "customer")


def _entered(person: Person, stage: str) -> datetime | None:
    if stage == "lead":  # a subscriber was first seen, but is no lead yet
        return person.lead_at() if person.has_reached("lead") else None
    return person.reached_at(stage)


def _in_period(at: datetime | None, h: History) -> bool:
    return at is not None and h.since <= at <= h.now


def funnel(h: History) -> Report:
    """Contacts per stage now; of those who entered a stage in the period, the share that reached the next."""
    report = Report("funnel", "Funnel: contacts per lifecycle stage, and stage-to-stage conversion",
                    ["stage", "contacts now", "entered in period", "reached next stage", "conversion to next"])
    now_counts: dict[str, list[int]] = defaultdict(list)
    for person in h.people:
        stage = "customer" if person.stage == "evangelist" else person.stage
        now_counts[stage].append(person.id)
    report.add(["subscriber", len(now_counts["subscriber"]), None, None, None], now_counts["subscriber"])
    for i, stage in enumerate(FUNNEL):
        entered = [p for p in h.people if _in_period(_entered(p, stage), h)]
        nxt = FUNNEL[i + 1] if i + 1 < len(FUNNEL) else None
        went = [p for p in entered if nxt and p.reached_at(nxt) is not None] if nxt else []
        report.add([SHORT[stage], len(now_counts[stage]), len(entered), len(went) if nxt else None,
                    share(len(went), len(entered)) if nxt else None],
                   [p.id for p in entered] or now_counts[stage])
    report.notes.append("A contact that skipped a stage (set straight to SQL) counts as passing the stages below it.")
    return report


def velocity(h: History) -> Report:
    """Days from one stage to the next, for transitions that happened in the period: median and p75."""
    report = Report("velocity", "Velocity: days between stages (transitions completed in the period)",
                    ["step", "group", "contacts", "median days", "p75 days"])
    for start, end in VELOCITY_STEPS:
        groups: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for person in h.people:
            a, b = _entered(person, start), person.reached_at(end)
            if a is None or b is None or b < a or not _in_period(b, h):
                continue
            sample = (person.id, days(b - a))
            for group in _groups(person):
                groups[group].append(sample)
        step = f"{SHORT[start]} → {SHORT[end]}"
        for group in sorted(groups, key=lambda g: (g != "all", g)):
            values = [d for _, d in groups[group]]
            report.add([step, group, len(values), _round(percentile(values, 0.5)), _round(percentile(values, 0.75))],
                       [pid for pid, _ in sorted(groups[group], key=lambda s: -s[1])])
    if not report.rows:
        report.notes.append("No stage transition completed in the period.")
    return report


def _groups(person: Person) -> Iterable[str]:
    yield "all"
    if person.persona:
        yield f"persona: {person.persona}"
    for segment in person.segments:
        yield f"segment: {segment}"


def cohorts(h: History, months: int = 6) -> Report:
    """Leads grouped by the month they became a lead; the share that reached MQL, SQL and customer by the end
    of each month since (m0 = the cohort's own month). A cell still in the future is left empty."""
    report = Report("cohorts", "Cohorts: leads by month they became a lead, followed forward",
                    ["cohort", "stage", "leads", *[f"m{k}" for k in range(months)]])
    by_month: dict[str, list[Person]] = defaultdict(list)
    for person in h.people:
        at = _entered(person, "lead")
        if at is not None and _in_period(at, h):
            by_month[month_of(at)].append(person)
    for month in sorted(by_month):
        members = by_month[month]
        year, mon = int(month[:4]), int(month[5:])
        for stage in COHORT_STAGES:
            cells: list[object] = []
            for k in range(months):
                start_y, start_m = add_months(year, mon, k)
                if datetime(start_y, start_m, 1, tzinfo=UTC) > h.now:
                    cells.append(None)
                    continue
                end = datetime(*add_months(year, mon, k + 1), 1, tzinfo=UTC)
                cells.append(share(sum(1 for p in members if (r := p.reached_at(stage)) is not None and r < end),
                                   len(members)))
            report.add([month, SHORT[stage], len(members), *cells],
                       [p.id for p in members if p.reached_at(stage) is not None])
    return report


def sources(h: History, lookback_days: int = 30) -> Report:
    """Which engagement types and channels came before MQLs: for each, how many MQLs of the period had it in
    the `lookback_days` before they became MQL, against the share of leads that never became MQL and had it
    in the period (the lift says how much more common it is before an MQL)."""
    report = Report("sources", f"Sources: engagement in the {lookback_days} days before an MQL",
                    ["kind", "name", "MQLs preceded", "share of MQLs", "events", "share of other leads", "lift"])
    mqls = [(p, at) for p in h.people if _in_period(at := p.reached_at("marketingqualifiedlead"), h)]
    others = [p for p in h.people if p.reached_at("marketingqualifiedlead") is None
              and RANK.get(p.stage, 0) < RANK["marketingqualifiedlead"] and p.has_reached("lead")]
    for kind, key in (("type", lambda a: a.type), ("channel", lambda a: a.source or "unknown")):
        before: dict[str, set[int]] = defaultdict(set)
        counts: dict[str, int] = defaultdict(int)
        for person, at in mqls:
            for act in person.activity:
                if 0 <= days(at - act.at) <= lookback_days:
                    before[key(act)].add(person.id)
                    counts[key(act)] += 1
        baseline = _had(others, h, key)
        for name in sorted(before, key=lambda n: (-len(before[n]), n)):
            mql_share = share(len(before[name]), len(mqls))
            base = share(len(baseline[name]), len(others))
            lift = round(mql_share / base, 2) if mql_share is not None and base else None
            report.add([kind, name, len(before[name]), mql_share, counts[name], base, lift], sorted(before[name]))
    if not mqls:
        report.notes.append("No contact became an MQL in the period.")
    return report


def _had(people: list[Person], h: History, key: Callable[..., str]) -> dict[str, set[int]]:
    had: dict[str, set[int]] = defaultdict(set)
    for person in people:
        for act in person.activity:
            if h.since <= act.at <= h.now:
                had[key(act)].add(person.id)
    return had


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
