"""Config problems as an admin reads them: `file:line:column: what is wrong — how to fix it`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class ConfigError(Exception):
    """Every problem found in the configuration, raised once after all of it was read."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.column, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


def suggest(word: str, choices: Iterable[str]) -> str:
    """'did you mean X? (valid: …)' for a misspelt name, or just the valid names."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    listing = ", ".join(options) if len(options) <= 12 else ", ".join(options[:12]) + ", …"
    if close:
        return f"did you mean {close[0]!r}? (valid: {listing})"
    return f"use one of: {listing}"
