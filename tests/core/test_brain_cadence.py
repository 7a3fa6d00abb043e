"""Cadence: gaps, the weekly limit, weekends and quiet hours on the contact's wall clock, across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.core.cadence import Clock, zone
from connector.settings.nurture_config import Cadence

CLOCK = Clock(Cadence())  # 3-day gap, 2 a week, weekends off, quiet 20:00-08:00
NY, TOKYO, BERLIN = "America/New_York", "Asia/Tokyo", "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("tz", "at", "expected", "why"), [
    (NY, utc(2026, 3, 10, 14), utc(2026, 3, 10, 14), "Tue 10:00 EDT is allowed as is"),
    (NY, utc(2026, 3, 10, 11, 59), utc(2026, 3, 10, 12), "Tue 07:59 EDT -> 08:00 EDT"),
    (NY, utc(2026, 3, 7, 1, 30), utc(2026, 3, 9, 12),
     "Fri 20:30 EST -> Sat 08:00 -> weekend -> Mon 08:00 EDT: DST began Sunday, so 12:00 UTC, not 13:00"),
    (NY, utc(2026, 3, 6, 14), utc(2026, 3, 6, 14), "Fri 09:00 EST, before the change, stays"),
    (NY, utc(2026, 10, 31, 16), utc(2026, 11, 2, 13), "Sat 12:00 EDT -> Mon 08:00 EST: DST ended Sunday, 13:00 UTC"),
    (NY, utc(2026, 11, 3, 1), utc(2026, 11, 3, 13), "Mon 20:00 EST starts quiet hours -> Tue 08:00 EST"),
    (TOKYO, utc(2026, 3, 10, 14), utc(2026, 3, 10, 23), "Tue 23:00 JST -> Wed 08:00 JST = Tue 23:00 UTC"),
    (TOKYO, utc(2026, 3, 13, 12), utc(2026, 3, 15, 23), "Fri 21:00 JST -> Mon 08:00 JST = Sun 23:00 UTC"),
    (TOKYO, utc(2026, 3, 15, 22, 59), utc(2026, 3, 15, 23), "Mon 07:59 JST is quiet, 08:00 JST is not"),
    (BERLIN, utc(2026, 3, 28, 10), utc(2026, 3, 30, 6), "Sat 11:00 CET -> Mon 08:00 CEST (DST from Sun 29th)"),
    (BERLIN, utc(2026, 3, 27, 19, 30), utc(2026, 3, 30, 6), "Fri 20:30 CET is quiet, then the weekend"),
    (BERLIN, utc(2026, 10, 24, 9), utc(2026, 10, 26, 7), "Sat -> Mon 08:00 CET after DST ended Sun 25th"),
    (BERLIN, utc(2026, 10, 26, 18, 59), utc(2026, 10, 26, 18, 59), "Mon 19:59 CET is still allowed"),
])
def test_allowed_moves_out_of_weekends_and_quiet_hours(tz: str, at: datetime, expected: datetime, why: str) -> None:
    assert CLOCK.allowed(at, zone(tz, NY)) == expected, why


def test_mon_1930_est_is_allowed() -> None:
    # 2026-11-03 00:30 UTC is Mon 2 Nov 19:30 EST: allowed, so it stays.
    assert CLOCK.allowed(utc(2026, 11, 3, 0, 30), zone(NY, NY)) == utc(2026, 11, 3, 0, 30)


@pytest.mark.parametrize(("sent", "floor", "expected", "why"), [
    ([], utc(2026, 3, 2, 10), utc(2026, 3, 2, 10), "nothing sent: the floor"),
    ([utc(2026, 3, 2, 10)], utc(2026, 3, 3), utc(2026, 3, 5, 10), "3-day gap from Mon 10:00"),
    ([utc(2026, 3, 2, 10)], utc(2026, 3, 9), utc(2026, 3, 9), "floor after the gap"),
    ([utc(2026, 3, 2, 10), utc(2026, 3, 5, 10)], utc(2026, 3, 5, 10), utc(2026, 3, 9, 10),
     "2 a week: gap says Sun 8th, the window frees up only 7 days after Mon 2nd"),
    ([utc(2026, 2, 20), utc(2026, 3, 2, 10), utc(2026, 3, 5, 10)], utc(2026, 3, 1), utc(2026, 3, 9, 10),
     "older sends outside the window do not count"),
])
def test_earliest_respects_gap_and_weekly_limit(sent: list[datetime], floor: datetime, expected: datetime,
                                                 why: str) -> None:
    assert CLOCK.earliest(floor, sent) == expected, why


def test_quiet_hours_inside_one_day_and_none() -> None:
    lunch = Clock(Cadence(quiet_hours=("12:00", "13:00"), skip_weekends=False))
    assert lunch.allowed(utc(2026, 3, 14, 12, 30), zone("UTC", NY)) == utc(2026, 3, 14, 13)
    never = Clock(Cadence(quiet_hours=("00:00", "00:00"), skip_weekends=False))
    assert never.allowed(utc(2026, 3, 14, 3), zone("UTC", NY)) == utc(2026, 3, 14, 3)


@pytest.mark.parametrize(("value", "expected"), [
    ("Asia/Tokyo", "Asia/Tokyo"), ("america_slash_new_york", "America/New_York"),
    ("europe_slash_berlin", "Europe/Berlin"), ("Mars/Olympus", NY), (None, NY), ("", NY),
])
def test_zone_from_field_value(value: str | None, expected: str) -> None:
    assert zone(value, NY).key == expected
