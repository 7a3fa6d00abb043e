"""A SOQL subset: SELECT fields | COUNT() FROM one object [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n].

WHERE supports = != <> < <= > >= IN, NOT IN, LIKE, AND / OR / NOT and parentheses over strings, numbers,
booleans, null, datetime and date literals and a few date keywords (TODAY, YESTERDAY, TOMORROW,
LAST_N_DAYS:n, NEXT_N_DAYS:n). Relationship paths, GROUP BY and subqueries answer MALFORMED_QUERY.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sandbox.salesforce.schema import Field, Schema, SObjectType
from connector.sandbox.salesforce.validate import parse_datetime

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
""", re.VERBOSE)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
             "LIMIT", "OFFSET", "NULLS", "FIRST", "LAST", "TRUE", "FALSE", "NULL", "COUNT"}
_DATE_WORDS = re.compile(r"^(TODAY|YESTERDAY|TOMORROW|LAST_N_DAYS:\d+|NEXT_N_DAYS:\d+)$", re.IGNORECASE)
_NUMERIC = frozenset({"int", "double", "currency", "percent"})


class SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass
class Query:
    sobject: SObjectType
    fields: list[str]
    count: str | None = None  # "" for COUNT(), a field name for COUNT(field)
    where: Predicate = field(default=lambda _r: True)
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # (field, descending, nulls_first)
    limit: int | None = None
    offset: int = 0

    def run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        matched = [r for r in rows if self.where(r)]
        for name, descending, nulls_first in reversed(self.order):
            present = sorted((r for r in matched if r.get(name) is not None),
                             key=lambda r, n=name: _sort_key(r[n]), reverse=descending)
            missing = [r for r in matched if r.get(name) is None]
            matched = missing + present if nulls_first else present + missing
        end = None if self.limit is None else self.offset + self.limit
        return matched[self.offset:end]


def _sort_key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise SoqlError("MALFORMED_QUERY", f"unexpected character {text[pos]!r} at column {pos + 1}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.schema = schema
        self.sobject: SObjectType | None = None

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, *words: str) -> bool:
        token = self.peek()
        return bool(token and token.kind == "ident" and token.text.upper() in words)

    def take(self, kind: str | None = None, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (kind and token.kind != kind) or (text and token.text.upper() != text):
            where = f"at column {token.pos + 1} ({token.text!r})" if token else "at the end of the query"
            expected = text or kind or "more"
            raise SoqlError("MALFORMED_QUERY", f"unexpected token {where}: expecting {expected}")
        self.i += 1
        return token

    def field(self, name: str) -> Field:
        assert self.sobject is not None
        if "." in name:
            raise SoqlError("MALFORMED_QUERY", f"relationship path {name!r} is not supported by the sandbox")
        f = self.sobject.field(name)
        if f is None:
            raise SoqlError("INVALID_FIELD", f"No such column '{name}' on entity '{self.sobject.name}'. If you are "
                            "attempting to use a custom field, be sure to append the '__c' after the custom field "
                            "name.")
        return f

    def parse(self) -> Query:
        self.take("ident", "SELECT")
        raw_fields: list[str] = []
        count: str | None = None
        if self.word("COUNT") and self.peek(1) and self.peek(1).text == "(":  # type: ignore[union-attr]
            self.i += 2
            count = "" if self.peek() and self.peek().text == ")" else self.take("ident").text  # type: ignore[union-attr]
            self.take("punct", ")")
        else:
            raw_fields.append(self.take("ident").text)
            while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.i += 1
                raw_fields.append(self.take("ident").text)
        self.take("ident", "FROM")
        name = self.take("ident").text
        self.sobject = self.schema.get(name)
        if self.sobject is None:
            raise SoqlError("INVALID_TYPE", f"sObject type '{name}' is not supported. If you are attempting to use "
                            "a custom object, be sure to append the '__c' after the entity name.")
        query = Query(self.sobject, [self.field(f).name for f in raw_fields])
        if count:
            query.count = self.field(count).name
        elif count == "":
            query.count = ""
        if self.word("WHERE"):
            self.i += 1
            query.where = self.disjunction()
        if self.word("ORDER"):
            self.i += 1
            self.take("ident", "BY")
            query.order.append(self.order_item())
            while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.i += 1
                query.order.append(self.order_item())
        if self.word("LIMIT"):
            self.i += 1
            query.limit = int(self.take("number").text)
        if self.word("OFFSET"):
            self.i += 1
            query.offset = int(self.take("number").text)
        if self.peek() is not None:
            token = self.peek()
            raise SoqlError("MALFORMED_QUERY", f"unexpected token at column {token.pos + 1}: {token.text!r}")  # type: ignore[union-attr]
        return query

    def order_item(self) -> tuple[str, bool, bool]:
        name = self.field(self.take("ident").text).name
        descending = False
        if self.word("ASC", "DESC"):
            descending = self.take().text.upper() == "DESC"
        nulls_first = not descending
        if self.word("NULLS"):
            self.i += 1
            nulls_first = self.take("ident").text.upper() == "FIRST"
        return name, descending, nulls_first

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.word("OR"):
            self.i += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self.word("AND"):
            self.i += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def negation(self) -> Predicate:
        if self.word("NOT"):
            self.i += 1
            inner = self.negation()
            return lambda r: not inner(r)
        token = self.peek()
        if token and token.text == "(":
            self.i += 1
            inner = self.disjunction()
            self.take("punct", ")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        f = self.field(self.take("ident").text)
        negate = False
        if self.word("NOT"):
            self.i += 1
            negate = True
        if self.word("IN"):
            self.i += 1
            self.take("punct", "(")
            values = [self.value(f)]
            while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.i += 1
                values.append(self.value(f))
            self.take("punct", ")")
            return lambda r: any(_compare(f, r.get(f.name), "=", v) for v in values) != negate
        if self.word("LIKE"):
            self.i += 1
            literal = self.take("string").text
            pattern = re.compile("^" + "".join(
                ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in _unquote(literal)) + "$",
                re.IGNORECASE | re.DOTALL)
            return lambda r: (r.get(f.name) is not None and bool(pattern.match(str(r.get(f.name))))) != negate
        if negate:
            raise SoqlError("MALFORMED_QUERY", "NOT must be followed by IN or LIKE after a field name")
        op = self.take("op").text
        value = self.value(f)
        return lambda r: _compare(f, r.get(f.name), op, value)

    def value(self, f: Field) -> Any:
        token = self.take()
        kind, text = token.kind, token.text
        if kind == "ident" and text.upper() == "NULL":
            return None
        if f.type == "boolean":
            if kind == "ident" and text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
        elif f.type in _NUMERIC:
            if kind == "number":
                return float(text)
        elif f.type in ("date", "datetime"):
            if kind in ("date", "datetime"):
                return _range(text, f.type)
            if kind == "ident" and _DATE_WORDS.match(text):
                return _keyword_range(text.upper(), f.type)
        elif kind == "string":
            return _unquote(text).lower()
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR",
                        f"value of filter criterion for field '{f.name}' must be of type {f.type} "
                        f"(got {text})")


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal[1:-1])


def _range(text: str, field_type: str) -> tuple[Any, Any]:
    """Every date/datetime value is a half-open range [start, end) so keywords and literals compare alike."""
    if field_type == "date":
        day = datetime.fromisoformat(text[:10]).replace(tzinfo=UTC)
        return day, day + timedelta(days=1)
    moment = parse_datetime(text) if "T" in text else datetime.fromisoformat(text).replace(tzinfo=UTC)
    return moment, moment + timedelta(microseconds=1)


def _keyword_range(word: str, field_type: str) -> tuple[Any, Any]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    if word == "TODAY":
        return today, today + day
    if word == "YESTERDAY":
        return today - day, today
    if word == "TOMORROW":
        return today + day, today + 2 * day
    n = int(word.split(":")[1])
    if word.startswith("LAST_N_DAYS"):
        return today - n * day, datetime.now(UTC) + timedelta(microseconds=1)
    return today + day, today + (n + 1) * day


def _compare(f: Field, actual: Any, op: str, expected: Any) -> bool:
    if expected is None or actual is None:
        same = actual is None and expected is None
        return same if op == "=" else (not same) if op in ("!=", "<>") else False
    if isinstance(expected, tuple):
        start, end = expected
        moment = parse_datetime(actual) if f.type == "datetime" else datetime.fromisoformat(actual).replace(tzinfo=UTC)
        inside = start <= moment < end
        return {"=": inside, "!=": not inside, "<>": not inside, "<": moment < start, "<=": moment < end,
                ">": moment >= end, ">=": moment >= start}[op]
    if isinstance(actual, str):
        actual = actual.lower()
    elif isinstance(actual, int | float) and not isinstance(actual, bool):
        actual = float(actual)
    try:
        return {"=": actual == expected, "!=": actual != expected, "<>": actual != expected,
                "<": actual < expected, "<=": actual <= expected, ">": actual > expected,
                ">=": actual >= expected}[op]
    except TypeError:
        return False


def parse(text: str, schema: Schema) -> Query:
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "empty query")
    return _Parser(text, schema).parse()
