"""Conditions compiled once into closures, for the brain's hot loop; same answers as core.conditions.

`connector.core.conditions.evaluate` walks the pydantic model on every call, which is fine for a
handful of checks but not for a million contacts. Here each condition becomes a closure over
pre-normalised values. Common cases (a string field, a number) take a fast path; every other shape
falls back to `test_field`, so the semantics cannot drift from the reference evaluator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connector.core.conditions import Cond, test_field
from connector.core.ledger import EventIndex
from connector.settings.conditions import (
    AllCondition,
    AnyCondition,
    EventCondition,
    FieldCondition,
)


class Ctx:
    """What a condition can look at: the facts (mapped fields + brain values), the indexed ledger, now."""

    __slots__ = ("facts", "index", "now")

    def __init__(self, facts: dict[str, Any], index: EventIndex, now: datetime) -> None:
        self.facts = facts
        self.index = index
        self.now = now


Predicate = Callable[[Ctx], bool]
ValueTest = Callable[[Any, datetime], bool]


def compile_condition(cond: Cond) -> Predicate:
    if isinstance(cond, FieldCondition):
        name, test = cond.field, compile_value_test(cond)
        return lambda ctx: test(ctx.facts.get(name), ctx.now)
    if isinstance(cond, EventCondition):
        counter, at_least = compile_event_counter(cond), cond.at_least
        return lambda ctx: counter(ctx, at_least) >= at_least
    if isinstance(cond, AllCondition):
        parts = tuple(compile_condition(c) for c in cond.all)
        return lambda ctx: all(p(ctx) for p in parts)
    if isinstance(cond, AnyCondition):
        parts = tuple(compile_condition(c) for c in cond.any)
        return lambda ctx: any(p(ctx) for p in parts)
    inner = compile_condition(cond.not_)
    return lambda ctx: not inner(ctx)


def compile_event_counter(cond: EventCondition) -> Callable[[Ctx, int | None], int]:
    """Count matching events, stopping early at `stop` (None: count them all)."""
    types = (cond.event,) if isinstance(cond.event, str) else tuple(cond.event)
    days = cond.within_days
    where_field = cond.where.field if cond.where is not None else ""
    where = compile_value_test(cond.where) if cond.where is not None else None

    def count(ctx: Ctx, stop: int | None) -> int:
        n = 0
        by_type = ctx.index.by_type
        for t in types:
            for age, event in by_type.get(t, ()):
                # core.conditions excludes occurred_at < now - days, i.e. keeps age <= days
                if days is not None and age > days:
                    continue
                if where is not None and not where(event.properties.get(where_field), ctx.now):
                    continue
                n += 1
                if stop is not None and n >= stop:
                    return n
        return n

    return count


def compile_value_test(cond: FieldCondition) -> ValueTest:
    op, expected = cond.operator, cond.value

    def slow(value: Any, now: datetime) -> bool:
        return test_field(cond, value, now)

    if op == "exists":
        return slow
    blank = op in ("ne", "not_in") or (op == "eq" and expected is None)
    fast = _fast_text_test(op, expected)
    if fast is not None:
        def text_test(value: Any, now: datetime) -> bool:
            if type(value) is str:
                return fast(value) if value else blank
            return blank if value is None else slow(value, now)
        return text_test
    if op in ("eq", "ne") and isinstance(expected, bool):
        want_true = expected if op == "eq" else not expected

        def bool_test(value: Any, now: datetime) -> bool:
            if type(value) is bool:
                return value is want_true
            return blank if value is None else slow(value, now)
        return bool_test
    if op in ("gt", "gte", "lt", "lte") and isinstance(expected, int | float) and not isinstance(expected, bool):
        bound = float(expected)
        compare: Callable[[float], bool] = {
            "gt": lambda v: v > bound, "gte": lambda v: v >= bound,
            "lt": lambda v: v < bound, "lte": lambda v: v <= bound,
        }[op]

        def number_test(value: Any, now: datetime) -> bool:
            kind = type(value)
            if kind is int or kind is float:
                return compare(value)
            return False if value is None else slow(value, now)
        return number_test
    return slow


def _fast_text_test(op: str, expected: Any) -> Callable[[str], bool] | None:
    """A test for a non-empty str value, or None when the expected value needs the slow path."""
    if op in ("eq", "ne") and isinstance(expected, str):
        want = expected.strip().lower()
        return (lambda v: v.strip().lower() == want) if op == "eq" else (lambda v: v.strip().lower() != want)
    if op in ("in", "not_in") and all(isinstance(e, str) for e in expected):
        wanted = frozenset(e.strip().lower() for e in expected)
        if op == "in":
            return lambda v: v.strip().lower() in wanted
        return lambda v: v.strip().lower() not in wanted
    if op == "matches":
        search = re.compile(expected).search
        return lambda v: search(v) is not None
    if op in ("contains", "starts_with", "ends_with"):
        needle = expected.lower()
        if op == "contains":
            return lambda v: needle in v.lower()
        if op == "starts_with":
            return lambda v: v.lower().startswith(needle)
        return lambda v: v.lower().endswith(needle)
    return None


def describe(cond: Cond) -> str:
    """The condition in words, for explain output and alert bodies."""
    if isinstance(cond, FieldCondition):
        return f"{cond.field} {cond.operator.replace('_', ' ')} {_show(cond.value)}"
    if isinstance(cond, EventCondition):
        text = cond.event if isinstance(cond.event, str) else "/".join(cond.event)
        if cond.where is not None:
            text += f" where {describe(cond.where)}"
        if cond.within_days is not None:
            text += f" within {_num(cond.within_days)} days"
        return text + (f" (at least {cond.at_least})" if cond.at_least != 1 else "")
    if isinstance(cond, AllCondition | AnyCondition):
        parts = cond.all if isinstance(cond, AllCondition) else cond.any
        joiner = " and " if isinstance(cond, AllCondition) else " or "
        return joiner.join(_group(c) for c in parts)
    return f"not {_group(cond.not_)}"


def _group(cond: Cond) -> str:
    text = describe(cond)
    return f"({text})" if isinstance(cond, AllCondition | AnyCondition) and " " in text else text


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return _num(value)
    return repr(value) if isinstance(value, str) else str(value)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Reasoned:
    """A compiled condition that can also say which branch made it true (for explain and reasons)."""

    __slots__ = ("branches", "test", "text")

    def __init__(self, cond: Cond) -> None:
        self.test = compile_condition(cond)
        self.text = describe(cond)
        children = cond.any if isinstance(cond, AnyCondition) else [cond]
        self.branches = tuple((compile_condition(c), describe(c)) for c in children)

    def reason(self, ctx: Ctx) -> str | None:
        """The first true branch of a top-level `any` (or the whole condition), None when false."""
        for test, text in self.branches:
            if test(ctx):
                return text
        return None
