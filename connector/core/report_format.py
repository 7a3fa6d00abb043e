"""A Report as text: an aligned table for a terminal, CSV, or JSON (rates stay fractions in CSV and JSON)."""

from __future__ import annotations

import csv
import io
import json
import re

from connector.core.history import Report

_PERCENT = re.compile(r"(rate|share|conversion to next|^m\d+$)")


def is_percent(column: str) -> bool:
    return bool(_PERCENT.search(column))


def cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and is_percent(column):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def as_table(report: Report) -> str:
    grid = [report.columns] + [[cell(c, v) for c, v in zip(report.columns, row, strict=True)] for row in report.rows]
    widths = [max(len(r[i]) for r in grid) for i in range(len(report.columns))]
    lines = [report.title, ""]
    for n, row in enumerate(grid):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if not report.rows:
        lines.append("(no rows)")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.columns)
    writer.writerows([["" if v is None else v for v in row] for row in report.rows])
    return out.getvalue()


def as_json(report: Report) -> str:
    return json.dumps({"report": report.name, "title": report.title, "rows": report.as_dicts(),
                       "notes": report.notes, "contacts": report.drill}, default=str, indent=2)
