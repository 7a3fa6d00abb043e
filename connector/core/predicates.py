"""Conditions compiled once into closures, for the brain's hot loop; same answers as core.conditions.

`connector.core.conditions.evaluate` walks the pydantic model on every call, which is fine for a
handful of checks but not for a million contacts. Here each condition becomes one closure over
pre-normalised values that reads the fact itself (no nested calls). Common cases (a string field, a
bool, a number, `exists`) take a fast path; the answer of a text test is memoised per string value
(bounded), since titles, industries and countries repeat across contacts. Every other shape of value
falls back to `test_field`, so the semantics cannot drift from the reference evaluator.
"""

from __future__ import annotations

import operator
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

MEMO_SIZE = 4096  # distinct string values remembered per text test; the memo is emptied when full


class Ctx:
    """What a condition can look at: the facts (mapped fields + brain values), the indexed ledger, now."""

    __slots__ = ("facts", "index", "now")

    def __init__(self, facts: dict[str, Any], index: EventIndex, now: datetime) -> None:
        self.facts = facts
        self.index = index
        self.now = now


Predicate = Callable[[Ctx], bool]
ValueTest = Callable[[Any, datetime], bool]
_COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def compile_condition(cond: Cond) -> Predicate:
    if isinstance(cond, FieldCondition):
        return _compile_field(cond)
    if isinstance(cond, EventCondition):
        return _compile_event(cond)
    if isinstance(cond, AllCondition | AnyCondition):
        is_all = isinstance(cond, AllCondition)
        # Conditions are pure, so the order of the parts does not change the answer: cheap field tests
        # first, ledger scans last (stable, so equal costs keep the config order).
        children = sorted(cond.all if is_all else cond.any, key=_cost)
        parts = tuple(compile_condition(c) for c in children)
        if len(parts) == 1:
            return parts[0]  # every compiled predicate returns a bool
        if len(parts) == 2:
            first, second = parts
            if is_all:
                return lambda ctx: first(ctx) and second(ctx)
            return lambda ctx: first(ctx) or second(ctx)
        if is_all:
            def all_of(ctx: Ctx) -> bool:
                for part in parts:  # noqa: SIM110 (a loop is faster than all() over a generator)
                    if not part(ctx):
                        return False
                return True
            return all_of
        if not parts:
            return lambda ctx: False

        def any_of(ctx: Ctx) -> bool:
            for part in parts:  # noqa: SIM110 (a loop is faster than any() over a generator)
                if part(ctx):
                    return True
            return False
        return any_of
    inner = compile_condition(cond.not_)
    return lambda ctx: not inner(ctx)


def fields_read(cond: Cond) -> set[str]:
    """The fact fields a condition reads (event `where` tests read event properties, not facts)."""
    if isinstance(cond, FieldCondition):
        return {cond.field}
    if isinstance(cond, EventCondition):
        return set()
    if isinstance(cond, AllCondition | AnyCondition):
        return set().union(*(fields_read(c) for c in (cond.all if isinstance(cond, AllCondition) else cond.any)))
    return fields_read(cond.not_)


def _cost(cond: Cond) -> int:
    """0 for a condition on facts only, 1 when it reads the ledger."""
    if isinstance(cond, FieldCondition):
        return 0
    if isinstance(cond, EventCondition):
        return 1
    if isinstance(cond, AllCondition | AnyCondition):
        return max((_cost(c) for c in (cond.all if isinstance(cond, AllCondition) else cond.any)), default=0)
    return _cost(cond.not_)


def _compile_field(cond: FieldCondition) -> Predicate:
    """`test_field(cond, facts.get(name), now)` as one closure."""
    name, op, expected = cond.field, cond.operator, cond.value
    if op == "exists":
        absent_answer = expected is False  # _present(None or "") == expected

        def exists_pred(ctx: Ctx) -> bool:
            value = ctx.facts.get(name)
            if value is None:
                return absent_answer
            if type(value) is str:
                return (value != "") is expected
            return test_field(cond, value, ctx.now)
        return exists_pred if isinstance(expected, bool) else _slow_field(cond)
    blank = op in ("ne", "not_in") or (op == "eq" and expected is None)
    fast = _fast_text_test(op, expected)
    if fast is not None:
        text = _memoized_text_test(fast, blank, lambda value, now: test_field(cond, value, now))

        def text_pred(ctx: Ctx) -> bool:
            return text(ctx.facts.get(name), ctx.now)
        return text_pred
    if op in ("eq", "ne") and isinstance(expected, bool):
        want_true = expected if op == "eq" else not expected

        def bool_pred(ctx: Ctx) -> bool:
            value = ctx.facts.get(name)
            if value is True:
                return want_true
            if value is False:
                return not want_true
            return blank if value is None else test_field(cond, value, ctx.now)
        return bool_pred
    if op in _COMPARE and isinstance(expected, int | float) and not isinstance(expected, bool):
        bound, compare = float(expected), _COMPARE[op]

        def number_pred(ctx: Ctx) -> bool:
            value = ctx.facts.get(name)
            kind = type(value)
            if kind is int or kind is float:
                return compare(value, bound)
            return False if value is None else test_field(cond, value, ctx.now)
        return number_pred
    return _slow_field(cond)


def _slow_field(cond: FieldCondition) -> Predicate:
    name = cond.field
    return lambda ctx: test_field(cond, ctx.facts.get(name), ctx.now)


def _compile_event(cond: EventCondition) -> Predicate:
    """At least `at_least` events of the types, `within_days` old at most (inclusive), passing `where`."""
    types = (cond.event,) if isinstance(cond.event, str) else tuple(cond.event)
    days, at_least = cond.within_days, cond.at_least
    where_field = cond.where.field if cond.where is not None else ""
    where = compile_value_test(cond.where) if cond.where is not None else None

    if where is None and days is None:
        def count_all(ctx: Ctx) -> bool:
            n = 0
            by_type = ctx.index.by_type
            for t in types:
                bucket = by_type.get(t)
                if bucket is not None:
                    n += len(bucket[0])
                    if n >= at_least:
                        return True
            return n >= at_least
        return count_all

    def count(ctx: Ctx) -> bool:
        n = 0
        by_type = ctx.index.by_type
        now = ctx.now
        for t in types:
            bucket = by_type.get(t)
            if bucket is None:
                continue
            ages, events = bucket
            for i, age in enumerate(ages):
                # core.conditions excludes occurred_at < now - days, i.e. keeps age <= days
                if days is not None and age > days:
                    continue
                if where is not None and not where(events[i].properties.get(where_field), now):
                    continue
                n += 1
                if n >= at_least:
                    return True
        return n >= at_least
    return count


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
            ages, events = by_type.get(t, ((), ()))
            for age, event in zip(ages, events, strict=True):
                if days is not None and age > days:
                    continue
                if where is not None and not where(event.properties.get(where_field), ctx.now):
                    continue
                n += 1
                if stop is not None and n >= stop:
                    return n
        return n

    return count


def _memoized_text_test(fast: Callable[[str], bool], blank: bool, slow: ValueTest) -> ValueTest:
    """A text test that remembers its answer per value (bounded): titles, domains and URLs repeat."""
    memo: dict[str, bool] = {}

    def text_test(value: Any, now: datetime) -> bool:
        if type(value) is str:
            if not value:
                return blank
            answer = memo.get(value)
            if answer is None:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                answer = memo[value] = fast(value)
            return answer
        return blank if value is None else slow(value, now)
    return text_test


def compile_value_test(cond: FieldCondition) -> ValueTest:
    op, expected = cond.operator, cond.value

    def slow(value: Any, now: datetime) -> bool:
        return test_field(cond, value, now)

    if op == "exists":
        return slow
    blank = op in ("ne", "not_in") or (op == "eq" and expected is None)
    fast = _fast_text_test(op, expected)
    if fast is not None:
        # event properties repeat even more than facts (a handful of URLs across a whole ledger)
        return _memoized_text_test(fast, blank, slow)
    if op in ("eq", "ne") and isinstance(expected, bool):
        want_true = expected if op == "eq" else not expected

        def bool_test(value: Any, now: datetime) -> bool:
            if type(value) is bool:
                return value is want_true
            return blank if value is None else slow(value, now)
        return bool_test
    if op in _COMPARE and isinstance(expected, int | float) and not isinstance(expected, bool):
        bound, compare = float(expected), _COMPARE[op]

        def number_test(value: Any, now: datetime) -> bool:
            kind = type(value)
            if kind is int or kind is float:
                return compare(value, bound)
            return False if value is None else slow(value, now)
        return number_test
    return slow


def text_answer_is_timeless(cond: FieldCondition) -> bool:
    """Whether `compile_value_test(cond)` answers a str value without looking at `now` (memo-safe)."""
    return _fast_text_test(cond.operator, cond.value) is not None


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
    """A compiled condition that can also say which branch made it true (for explain and reasons).

    `reason(ctx)`: the first true branch of a top-level `any` (or the whole condition), None when false.
    """

    __slots__ = ("branches", "reason", "test", "text")

    def __init__(self, cond: Cond) -> None:
        self.test = compile_condition(cond)
        self.text = describe(cond)
        if isinstance(cond, AnyCondition):
            self.branches = tuple((compile_condition(c), describe(c)) for c in cond.any)
        else:
            self.branches = ((self.test, self.text),)
        self.reason: Callable[[Ctx], str | None] = _reason(self.branches)


def _reason(branches: tuple[tuple[Predicate, str], ...]) -> Callable[[Ctx], str | None]:
    if len(branches) == 1:  # the common case, without the loop
        (test, text), = branches
        return lambda ctx: text if test(ctx) else None

    def first_true(ctx: Ctx) -> str | None:
        for test, text in branches:
            if test(ctx):
                return text
        return None
    return first_true
