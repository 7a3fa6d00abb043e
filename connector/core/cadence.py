"""When a touch may go out: minimum gap, weekly limit, weekends and quiet hours in the contact's zone.

Gaps are measured in elapsed time (3 days = 72 hours), and the result is then moved forward out of
the weekend and the quiet hours, both judged on the contact's local wall clock, so a DST change moves
the UTC instant of "Monday 08:00" and nothing else. The weekly limit is a rolling 7 x 24 h window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.settings.nurture_config import Cadence

WEEK = timedelta(days=7)
MEMO_SIZE = 4096


@lru_cache(maxsize=512)
def zone(name: str | None, default: str) -> ZoneInfo:
    """An IANA zone from a field value; HubSpot writes hs_timezone as e.g. 'america_slash_new_york'."""
    for candidate in _spellings(name):
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo(default)


def _spellings(name: str | None) -> list[str]:
    if not name or not isinstance(name, str):
        return []
    text = name.strip()
    if "_slash_" not in text:
        return [text]
    parts = text.split("_slash_")
    titled = "/".join("_".join(w.capitalize() for w in p.split("_")) for p in parts)
    return [text.replace("_slash_", "/"), titled]


class Clock:
    """The cadence policy, compiled: times as aware datetimes, answers in UTC."""

    def __init__(self, cadence: Cadence) -> None:
        self.min_gap = timedelta(days=cadence.min_gap_days)
        self.max_per_week = cadence.max_per_week
        self.skip_weekends = cadence.skip_weekends
        start, end = (time.fromisoformat(t) for t in cadence.quiet_hours)
        self.quiet: tuple[time, time] | None = None if start == end else (start, end)
        self.default_timezone = cadence.default_timezone
        self.timezone_field = cadence.timezone_field
        # allowed() is a pure function of (instant, zone); a rescore asks the same few instants (now,
        # now + the gap) for every contact, so the answers are remembered (bounded).
        self._allowed: dict[tuple[datetime, tzinfo], datetime] = {}

    def earliest(self, floor: datetime, sent: Sequence[datetime]) -> datetime:
        """The first instant at or after `floor` that respects the gap and the weekly limit (no calendar)."""
        at = floor
        if sent:
            at = max(at, max(sent) + self.min_gap)
            if len(sent) >= self.max_per_week:
                # once the max_per_week-th newest send is 7 days old, the window has room again
                at = max(at, sorted(sent)[-self.max_per_week] + WEEK)
        return at

    def allowed(self, at: datetime, tz: tzinfo) -> datetime:
        """`at`, or the first later instant that is neither a weekend nor quiet hours, locally."""
        if at.tzinfo is not UTC:  # only UTC instants are remembered: they compare exactly (no fold)
            return self._allowed_now(at, tz)
        key = (at, tz)
        answer = self._allowed.get(key)
        if answer is None:
            if len(self._allowed) >= MEMO_SIZE:
                self._allowed.clear()
            answer = self._allowed[key] = self._allowed_now(at, tz)
        return answer

    def _allowed_now(self, at: datetime, tz: tzinfo) -> datetime:
        local = at.astimezone(tz)
        for _ in range(4):  # quiet end can land on a weekend and vice versa; both settle within 3 moves
            moved = False
            if self.quiet is not None:
                start, end = self.quiet
                clock = local.time().replace(tzinfo=None)
                day = local.date()
                if start > end:  # wraps midnight, e.g. 20:00-08:00
                    if clock >= start:
                        local, moved = _at(day + timedelta(days=1), end, tz), True
                    elif clock < end:
                        local, moved = _at(day, end, tz), True
                elif start <= clock < end:
                    local, moved = _at(day, end, tz), True
            if self.skip_weekends and local.weekday() >= 5:
                local, moved = _at(local.date() + timedelta(days=7 - local.weekday()), time(0), tz), True
            if not moved:
                break
        return local.astimezone(UTC)


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    # Round-trip through UTC so a wall time in a DST gap becomes a real instant.
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC).astimezone(tz)
