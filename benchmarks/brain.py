"""Brain throughput: score, segment, place, plan and alert synthetic contacts with 50 events each.

    .venv/bin/python benchmarks/brain.py [--contacts 20000] [--full 1000000] [--events 50]

Phase 1 times `Brain.think` alone over pre-built contacts (the core's own speed, one core).
Phase 2 is a full rescore streamed from a generator (contacts built on the fly, results dropped after
a digest), reporting the rate and the peak RSS sampled every 100,000 contacts, to show memory stays
flat. Generation time is included in phase 2, as it would be for a real store read.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connector.core.brain import Brain, BrainInput  # noqa: E402
from connector.core.events import Event  # noqa: E402
from connector.settings.loader import load_settings  # noqa: E402

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TITLES = ["VP Sales", "Software Engineer", "Marketing Manager", "Data Analyst", "Student", "CEO", "", "Director of IT"]
INDUSTRIES = ["COMPUTER_SOFTWARE", "FINANCIAL_SERVICES", "HOSPITAL_HEALTH_CARE", "RETAIL", None]
EVENT_TYPES = ["email_open"] * 12 + ["email_click"] * 5 + ["page_view"] * 10 + [
    "content_download", "webinar_attend", "form_submit", "ad_click", "social_click", "survey_answer"]
URLS = ["/blog/a", "/pricing", "/docs", "/case-studies/x", "/"]
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "america_slash_los_angeles", None]


def contacts(n: int, events_each: int, seed: int = 7) -> Iterator[BrainInput]:
    rng = random.Random(seed)
    for i in range(n):
        facts: dict[str, Any] = {
            "email": f"user{i}@{rng.choice(['acme.com', 'gmail.com', 'bank.example'])}",
            "job_title": rng.choice(TITLES), "employees": rng.choice([5, 60, 400, 2000, None]),
            "industry": rng.choice(INDUSTRIES), "country": rng.choice(["United States", "Germany", "Japan"]),
            "timezone": rng.choice(ZONES), "email_optout": rng.random() < 0.03, "lifecycle_stage": None,
            "lead_status": rng.choice(["NEW", "NEW", "IN_PROGRESS", None]), "owner_id": None,
        }
        events = []
        for _ in range(events_each):
            kind = rng.choice(EVENT_TYPES)
            at = NOW - timedelta(seconds=rng.randrange(0, 200 * 86400))
            props = {"url": rng.choice(URLS)} if kind == "page_view" else {}
            events.append(Event(kind, at, props, f"c{rng.randrange(40)}" if kind != "page_view" else None))
        if rng.random() < 0.02:
            events.append(Event("demo_request", NOW - timedelta(hours=rng.randrange(1, 500))))
        yield BrainInput(facts, events, None, NOW)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--full", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    settings = load_settings(REPO / "app.yaml", check_env=False)
    brain = Brain(settings.scoring, settings.segments, settings.lifecycle, settings.nurture, settings.alerts)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"python {platform.python_version()}, {cpu}, nproc {len(__import__('os').sched_getaffinity(0))}")

    inputs = list(contacts(args.contacts, args.events))
    for inp in inputs[:500]:  # warm the regex and zone caches
        brain.think(inp)
    started = time.perf_counter()
    digest = 0
    for inp in inputs:
        digest += brain.think(inp).score
    elapsed = time.perf_counter() - started
    print(f"think only: {len(inputs)} contacts × {args.events} events in {elapsed:.2f} s = "
          f"{len(inputs) / elapsed:,.0f} contacts/s (digest {digest})")

    # Second pass with last run's state, as the periodic rescore sees it.
    states = [brain.think(inp).state for inp in inputs]
    started = time.perf_counter()
    for inp, state in zip(inputs, states, strict=True):
        brain.think(BrainInput(inp.facts, inp.events, state, NOW + timedelta(days=1)))
    elapsed = time.perf_counter() - started
    print(f"think with state: {len(inputs) / elapsed:,.0f} contacts/s")
    del inputs, states

    if args.full:
        started = time.perf_counter()
        base = rss_mb()
        writes = 0
        for i, inp in enumerate(contacts(args.full, args.events, seed=11), 1):
            writes += bool(brain.think(inp).writeback["score"])
            if i % 100_000 == 0:
                rate = i / (time.perf_counter() - started)
                print(f"  {i:>9,} contacts  {rate:,.0f}/s  peak RSS {rss_mb():.0f} MB", flush=True)
        elapsed = time.perf_counter() - started
        print(f"full rescore: {args.full:,} contacts in {elapsed:.1f} s ({args.full / elapsed:,.0f}/s incl. "
              f"generation), peak RSS {base:.0f} MB before → {rss_mb():.0f} MB after")


if __name__ == "__main__":
    main()
