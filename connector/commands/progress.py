"""Progress bars for long walks, one per source, each with a total estimated before the walk starts."""

from __future__ import annotations

import sys
from typing import Any

import click


class WalkProgress:
    """Feed it `(source, n)` as records arrive; it shows a bar per source against that source's estimate."""

    def __init__(self, totals: dict[str, int]) -> None:
        self.totals = totals
        self._name: str | None = None
        self._bar: Any = None

    def __call__(self, name: str, count: int) -> None:
        if name != self._name:
            self.close()
            self._name = name
            total = self.totals.get(name)
            self._bar = click.progressbar(length=total or 0, label=f"{name:<20}", show_pos=True,
                                          show_percent=bool(total), file=sys.stderr)
            self._bar.__enter__()
        if self._bar is not None:
            total = self.totals.get(name)
            if total and self._bar.pos + count > total:  # the estimate was low (records added meanwhile)
                self._bar.length = self._bar.pos + count
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> WalkProgress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
