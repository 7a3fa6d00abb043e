"""Report arithmetic against hand-computed expectations on a small fixed history (see the comments)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.core import abstats
from connector.core.history import Activity, History, Person, Touch, percentile
from connector.core.report_tracks import ab, tracks
from connector.core.reports import cohorts, funnel, sources, velocity
from connector.settings.nurture_config import NurtureConfig

NOW = datetime(2026, 6, 15, tzinfo=UTC)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
MQL, SQL = "marketingqualifiedlead", "salesqualifiedlead"


def d(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def people() -> list[Person]:
    return [
        Person(1, "p1@x.io", SQL, d(1, 10), {"lead": d(1, 10), MQL: d(1, 20), SQL: d(2, 10)},
               persona="exec", segments=("enterprise",),
               activity=[Activity("email_open", d(1, 12), "hubspot"), Activity("demo_request", d(1, 19), "website")]),
        Person(2, "p2@x.io", MQL, d(1, 15), {"lead": d(1, 15), MQL: d(2, 14)}, persona="tech",
               activity=[Activity("webinar_attend", d(1, 1), "zoom"), Activity("email_open", d(2, 1), "hubspot"),
                         Activity("email_click", d(2, 2), "hubspot")]),
        Person(3, "p3@x.io", "lead", d(2, 1), {"lead": d(2, 1)},
               activity=[Activity("email_open", d(2, 10), "hubspot")]),
        Person(4, "p4@x.io", "customer", d(2, 3),
               {"lead": d(2, 3), MQL: d(2, 5), SQL: d(2, 6), "opportunity": d(2, 20), "customer": d(3, 1)},
               persona="exec", activity=[Activity("demo_request", d(2, 4), "website")]),
        Person(5, "p5@x.io", "subscriber", d(3, 1)),
        Person(6, "p6@x.io", "lead", d(3, 5), {"lead": d(3, 5)}, unsubscribed=True,
               activity=[Activity("unsubscribe", d(3, 6), "hubspot")]),
    ]


H = History(people(), NOW, SINCE)


def test_funnel_counts_now_and_converts_stage_to_stage() -> None:
    rows = {r[0]: r[1:] for r in funnel(H).rows}
    assert rows["subscriber"] == [1, None, None, None]
    assert rows["lead"] == [2, 5, 3, 0.6]  # p1 p2 p3 p4 p6 entered; p1 p2 p4 reached MQL
    assert rows["MQL"] == [1, 3, 2, 0.6667]  # p1 p2 p4; p1 p4 went on to SQL
    assert rows["SQL"] == [1, 2, 1, 0.5]
    assert rows["opportunity"] == [0, 1, 1, 1.0]
    assert rows["customer"] == [1, 1, None, None]


def test_velocity_medians_and_p75_by_group() -> None:
    rows = {(r[0], r[1]): r[2:] for r in velocity(H).rows}
    assert rows[("lead → MQL", "all")] == [3, 10.0, 20.0]  # 2, 10, 30 days
    assert rows[("lead → MQL", "persona: exec")] == [2, 6.0, 8.0]  # 2, 10
    assert rows[("lead → MQL", "persona: tech")] == [1, 30.0, 30.0]
    assert rows[("lead → MQL", "segment: enterprise")] == [1, 10.0, 10.0]
    assert rows[("MQL → SQL", "all")] == [2, 11.0, 16.0]  # 21 and 1 days
    assert rows[("SQL → opportunity", "all")] == [1, 14.0, 14.0]


def test_velocity_only_counts_transitions_in_the_period() -> None:
    late = History(people(), NOW, datetime(2026, 2, 1, tzinfo=UTC))
    rows = {(r[0], r[1]): r[2:] for r in velocity(late).rows}
    assert rows[("lead → MQL", "all")] == [2, 16.0, 23.0]  # p2 (30) and p4 (2); p1 became MQL in January


def test_cohorts_follow_each_month_forward() -> None:
    rows = {(r[0], r[1]): r[2:] for r in cohorts(H, months=6).rows}
    assert rows[("2026-01", "MQL")] == [2, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert rows[("2026-01", "SQL")] == [2, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert rows[("2026-02", "customer")] == [2, 0.0, 0.5, 0.5, 0.5, 0.5, None]  # July is still to come
    assert rows[("2026-03", "MQL")] == [1, 0.0, 0.0, 0.0, 0.0, None, None]  # p6 only: p5 is no lead


def test_sources_count_what_came_before_an_mql_against_other_leads() -> None:
    rows = {(r[0], r[1]): r[2:] for r in sources(H).rows}
    assert rows[("type", "demo_request")] == [2, 0.6667, 2, 0.0, None]
    assert rows[("type", "email_open")] == [2, 0.6667, 2, 0.5, 1.33]  # p3 of p3, p6 opened
    assert rows[("type", "email_click")] == [1, 0.3333, 1, 0.0, None]
    assert ("type", "webinar_attend") not in rows  # 44 days before p2's MQL: outside the 30-day lookback
    assert rows[("channel", "hubspot")] == [2, 0.6667, 3, 1.0, 0.67]
    assert [r[1] for r in sources(H).rows][:3] == ["demo_request", "email_open", "email_click"]


CONFIG = NurtureConfig.model_validate({"tracks": [
    {"name": "awareness", "for": {"stages": ["awareness"]},
     "exit_when": {"field": "lifecycle_stage", "in": [SQL, MQL]},
     "touches": [
         {"name": "welcome", "channel": "email", "hubspot_workflow_id": 1, "experiment": "welcome_subject",
          "variants": [{"name": "A", "label": "plain"}, {"name": "B", "hubspot_workflow_id": 2}]},
         {"name": "report", "channel": "email", "hubspot_workflow_id": 3, "wait_days": 3}]},
    {"name": "other", "for": {}, "touches": [{"name": "x", "channel": "email", "hubspot_workflow_id": 4}]}]})


def _sent(arm: str, *extra: Touch) -> list[Touch]:
    return [Touch("awareness", "welcome", d(1, 1), None, f"welcome_subject={arm}"), *extra]


REPORT = Touch("awareness", "report", d(1, 4))
NURTURED = [
    Person(11, "q1@x.io", MQL, d(1, 1), {"lead": d(1, 1), MQL: d(1, 5)}, sent=_sent("A"),
           activity=[Activity("email_open", d(1, 2)), Activity("email_click", d(1, 3))]),
    Person(12, "q2@x.io", "lead", d(1, 1), {"lead": d(1, 1)}, sent=_sent("B", REPORT), unsubscribed=True,
           activity=[Activity("email_click", d(1, 5)), Activity("unsubscribe", d(1, 6))]),
    Person(13, "q3@x.io", "lead", d(1, 1), {"lead": d(1, 1)}, track="awareness", sent=_sent("A"),
           activity=[Activity("email_open", d(1, 20))]),  # 19 days after the touch: not credited
    Person(14, "q4@x.io", "lead", d(1, 1), {"lead": d(1, 1)}, sent=_sent("B", REPORT)),
    Person(15, "q5@x.io", "lead", d(1, 1), {"lead": d(1, 1)}, track="other", sent=_sent("A")),
]


def test_tracks_enrolment_exits_and_last_touch_credit() -> None:
    rows = {(r[0], r[1]): r[2:] for r in tracks(History(NURTURED, NOW, SINCE), CONFIG).rows}
    #                                 enrolled active goal unsub exhausted moved sent opens clicks conv
    assert rows[("awareness", "(all)")] == [5, 1, 1, 1, 1, 1, 7, 1, 2, 1, 0.2857, 0.1429]
    assert rows[("awareness", "welcome")][6:] == [5, 1, 1, 1, 0.2, 0.0]
    assert rows[("awareness", "report")][0] == 2
    assert rows[("awareness", "report")][6:] == [2, 0, 1, 0, 0.5, 0.5]


def test_ab_small_sample_says_so() -> None:
    rows = ab(History(NURTURED, NOW, SINCE), CONFIG).rows
    a, b = rows
    assert a[:7] == ["welcome_subject", "A", "plain", 1.0, 3, 1, 0.3333] and a[-1] == "control"
    assert b[4:7] == [2, 0, 0.0] and b[8:10] == [1, 0.5]
    assert b[-1].startswith("sample too small")


def test_ab_rates_and_p_value_match_an_independent_reference() -> None:
    crowd = []
    for arm, n, wins in (("A", 200, 30), ("B", 200, 48)):
        for i in range(n):
            reached = {"lead": d(1, 1), MQL: d(1, 10)} if i < wins else {"lead": d(1, 1)}
            crowd.append(Person(len(crowd), f"{arm}{i}@x.io", "lead", d(1, 1), reached, sent=_sent(arm)))
    a, b = ab(History(crowd, NOW, SINCE), CONFIG).rows
    assert (a[4], a[5], a[6], b[4], b[5], b[6]) == (200, 30, 0.15, 200, 48, 0.24)
    assert a[7] == "10.7% - 20.6%"  # Wilson: scipy binomtest(30, 200).proportion_ci('wilson') = 0.10714, 0.20606
    # scipy.stats.chi2_contingency([[30, 170], [48, 152]], correction=False) p = 0.023112134354783855
    assert b[11] == pytest.approx(0.0231, abs=1e-4)
    assert b[10] == "+9.0% [+1.3%, +16.7%]"  # Wald interval of the difference, by hand
    assert b[-1].startswith("B converts better")


def test_stats_functions_directly() -> None:
    cmp = abstats.compare(30, 200, 48, 200)
    assert cmp is not None
    assert cmp.z == pytest.approx(2.2715759582215993, rel=1e-9)
    assert cmp.p_value == pytest.approx(0.023112134354783855, rel=1e-9)
    assert cmp.needed_per_arm == 304  # by hand: ((1.95996·√(2·.195·.805) + 0.84162·√(.1275+.1824)) / .09)² = 303.04
    low, high = abstats.wilson(30, 200) or (0, 0)
    assert (low, high) == (pytest.approx(0.10713593562241996), pytest.approx(0.20605579284166664))
    assert abstats.wilson(0, 0) is None and abstats.compare(1, 0, 1, 5) is None
    assert abstats.wilson(0, 10)[0] == 0.0  # type: ignore[index]
    assert abstats.compare(5, 10, 5, 10).p_value == pytest.approx(1.0)  # type: ignore[union-attr]


def test_percentile_is_numpy_linear() -> None:
    assert percentile([4, 1, 10, 2], 0.5) == 3.0 and percentile([4, 1, 10, 2], 0.75) == 5.5
    assert percentile([], 0.5) is None and percentile([7], 0.75) == 7
