"""Problems and dead letters in the store: counted once per refusal, resolved when no longer found
(issue 10, items 1, 5 and 6)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from connector.core.pair import FieldProblem, HubSpotRecord, PairPlan
from connector.engine.apply import Outcome, record_outcome
from connector.engine.gather import Person
from connector.engine.nurture_step import NurtureOutcome
from connector.engine.plan import BatchPlan
from connector.store.audit_log import write_dead_letter
from connector.store.links import Link
from connector.store.models import dead_letters
from connector.store.problems import counts_by_kind, open_problems


def _plan(problems: list[FieldProblem]) -> BatchPlan:
    person = Person(Link(None, "101"), HubSpotRecord("101", {"email": "a@b.co"}))
    return BatchPlan([person], [PairPlan(canonical={"email": "a@b.co"}, problems=list(problems))])


def test_a_failed_touch_is_a_dead_letter_filed_once_with_attempts_counted(store_engine: Engine) -> None:
    note = (0, "error", "campaign 701000000000001AAA: INVALID_CROSS_REFERENCE_KEY: invalid cross reference id")
    link = None
    for _ in range(3):  # the same contact, three runs, the same refusal
        plan = _plan([])
        if link is not None:
            plan.people[0].link = link
        record_outcome(store_engine, "run", plan, Outcome(), NurtureOutcome(notes=[note]))
        link = plan.people[0].link
    with store_engine.connect() as conn:
        rows = list(conn.execute(select(dead_letters)))
    assert len(rows) == 1
    assert (rows[0].system, rows[0].error_code, rows[0].attempts) == ("nurture", "INVALID_CROSS_REFERENCE_KEY", 3)


def test_the_same_refusal_is_filed_once(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        assert write_dead_letter(conn, "r1", "salesforce", "Lead", "00Q1", "update", {"Industry": "X"},
                                 "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "bad value", 7)
        for run in ("r1", "r2", "r3", "r4", "r5"):
            assert not write_dead_letter(conn, run, "salesforce", "Lead", "00Q1", "update", {"Industry": "Y"},
                                         "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "bad value", 7)
        assert write_dead_letter(conn, "r6", "salesforce", "Lead", "00Q1", "update", {"Title": "Z"},
                                 "STRING_TOO_LONG", "too long", 7), "another refusal is another letter"
        rows = list(conn.execute(select(dead_letters).order_by(dead_letters.c.id)))
    assert [(r.error_code, r.attempts) for r in rows] == [("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", 6),
                                                         ("STRING_TOO_LONG", 1)]


def test_problems_open_count_and_resolve(store_engine: Engine) -> None:
    problem = FieldProblem("industry", "unmapped", "value 'X' of hubspot.industry has no mapping", "X")
    first = _plan([problem])
    outcome = Outcome()
    record_outcome(store_engine, "r1", first, outcome)
    assert outcome.new_problems == {"unmapped": 1}
    link = first.people[0].link
    again = _plan([problem])
    again.people[0].link = link
    outcome = Outcome()
    record_outcome(store_engine, "r2", again, outcome)
    assert outcome.new_problems == {}
    (row,) = open_problems(store_engine)
    assert (row.email, row.field, row.seen) == ("a@b.co", "industry", 2)
    assert counts_by_kind(store_engine) == {"unmapped": 1}
    fixed = _plan([])
    fixed.people[0].link = link
    record_outcome(store_engine, "r3", fixed, Outcome())
    assert open_problems(store_engine) == []
    assert len(open_problems(store_engine, include_resolved=True)) == 1
