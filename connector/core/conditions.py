"""Evaluate condition data (see connector.settings.conditions) against a contact's facts and events."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from connector.core.events import Event
from connector.settings.conditions import (
    AllCondition,
    AnyCondition,
    EventCondition,
    FieldCondition,
    NotCondition,
)

Facts = Mapping[str, Any]
Cond = FieldCondition | EventCondition | AllCondition | AnyCondition | NotCondition


def evaluate(cond: Cond, facts: Facts, events: Sequence[Event] = (), now: datetime | None = None) -> bool:
    if isinstance(cond, FieldCondition):
        return test_field(cond, facts.get(cond.field), now)
    if isinstance(cond, EventCondition):
        return count_events(cond, events, now) >= cond.at_least
    if isinstance(cond, AllCondition):
        return all(evaluate(c, facts, events, now) for c in cond.all)
    if isinstance(cond, AnyCondition):
        return any(evaluate(c, facts, events, now) for c in cond.any)
    return not evaluate(cond.not_, facts, events, now)


def count_events(cond: EventCondition, events: Sequence[Event], now: datetime | None) -> int:
    types = {cond.event} if isinstance(cond.event, str) else set(cond.event)
    since = (now or datetime.now(UTC)) - timedelta(days=cond.within_days) if cond.within_days is not None else None
    count = 0
    for event in events:
        if event.type not in types or (since is not None and event.occurred_at < since):
            continue
        if cond.where is None or test_field(cond.where, event.properties.get(cond.where.field), now):
            count += 1
    return count


def test_field(cond: FieldCondition, value: Any, now: datetime | None = None) -> bool:
    op = cond.operator
    expected = cond.value
    if op == "exists":
        return _present(value) == expected
    if not _present(value):
        # A blank field satisfies only "is not X" tests; every comparison with nothing is false.
        return op in ("ne", "not_in") or (op == "eq" and expected is None)
    if op == "eq":
        return _equal(value, expected)
    if op == "ne":
        return not _equal(value, expected)
    if op == "in":
        return any(_equal(value, e) for e in expected)
    if op == "not_in":
        return not any(_equal(value, e) for e in expected)
    if op in ("gt", "gte", "lt", "lte"):
        return _compare(op, value, expected)
    if op in ("within_days", "older_than_days"):
        when = as_datetime(value)
        if when is None:
            return False
        age = (now or datetime.now(UTC)) - when
        return age <= timedelta(days=expected) if op == "within_days" else age > timedelta(days=expected)
    text = _text(value)
    if op == "contains":
        return expected.lower() in text.lower()
    if op == "starts_with":
        return text.lower().startswith(expected.lower())
    if op == "ends_with":
        return text.lower().endswith(expected.lower())
    if op == "matches":
        return _regex(expected).search(text) is not None
    raise ValueError(f"unknown operator {op}")


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def _text(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ";".join(map(str, value))
    return str(value)


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(value, list | tuple | set):  # a multi-select equals X when it holds X
        return any(_equal(v, expected) for v in value)
    if isinstance(expected, bool) or isinstance(value, bool):
        return _as_bool(value) == _as_bool(expected)
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        number = _as_number(value)
        return number is not None and number == expected
    return str(value).strip().lower() == str(expected).strip().lower()


def _compare(op: str, value: Any, expected: Any) -> bool:
    left: Any = _as_number(value)
    right: Any = _as_number(expected)
    if left is None or right is None:  # dates compare as datetimes, written as ISO strings in config
        left, right = as_datetime(value), as_datetime(expected)
        if left is None or right is None:
            return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    return None


def as_datetime(value: Any) -> datetime | None:
    """Datetimes from the shapes the CRMs and the config use: datetime, date, ISO text, epoch ms."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
