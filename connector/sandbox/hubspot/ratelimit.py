"""HubSpot's request budgets: a rolling ten-second window, a daily cap, and search's own 5/s."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass


@dataclass
class Verdict:
    allowed: bool
    policy: str  # TEN_SECONDLY_ROLLING | SECONDLY | DAILY
    remaining: int


class RollingWindow:
    def __init__(self, limit: int, interval_s: float) -> None:
        self.limit = limit
        self.interval_s = interval_s
        self._hits: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int]:
        """Spend one request if the window has room; (allowed, remaining after this one)."""
        now = time.monotonic()
        with self._lock:
            while self._hits and now - self._hits[0] >= self.interval_s:
                self._hits.popleft()
            if len(self._hits) >= self.limit:
                return False, 0
            self._hits.append(now)
            return True, self.limit - len(self._hits)

    def remaining(self) -> int:
        now = time.monotonic()
        with self._lock:
            return self.limit - sum(1 for t in self._hits if now - t < self.interval_s)


class RateLimiter:
    def __init__(self, per_ten_seconds: int = 190, daily: int = 625_000, search_per_second: int = 5) -> None:
        self.configure(per_ten_seconds, daily, search_per_second)

    def configure(self, per_ten_seconds: int, daily: int, search_per_second: int) -> None:
        self.per_ten_seconds = per_ten_seconds
        self.daily = daily
        self.window = RollingWindow(per_ten_seconds, 10.0)
        self.search = RollingWindow(search_per_second, 1.0)
        self.daily_used = 0
        self._day = time.strftime("%Y-%m-%d", time.gmtime())
        self._lock = threading.Lock()

    def take(self, is_search: bool) -> Verdict:
        with self._lock:
            today = time.strftime("%Y-%m-%d", time.gmtime())
            if today != self._day:
                self._day, self.daily_used = today, 0
            if self.daily_used >= self.daily:
                return Verdict(False, "DAILY", 0)
        if is_search:
            ok, _ = self.search.take()
            if not ok:
                return Verdict(False, "SECONDLY", self.window.remaining())
        ok, remaining = self.window.take()
        if not ok:
            return Verdict(False, "TEN_SECONDLY_ROLLING", 0)
        with self._lock:
            self.daily_used += 1
        return Verdict(True, "", remaining)

    def headers(self, remaining: int | None = None) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(self.per_ten_seconds),
            "X-HubSpot-RateLimit-Remaining": str(self.window.remaining() if remaining is None else remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily - self.daily_used)),
        }
