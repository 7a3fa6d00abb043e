"""Brain throughput: score, segment, place, plan and alert synthetic contacts with 50 events each.

    .venv/bin/python benchmarks/brain.py [--contacts 20000] [--full 1000000] [--events 50] [--workers N]
    .venv/bin/python benchmarks/brain.py --side-by-side OLD_SCORING_PY [--rounds 9] [--contacts 1500] --full 0

Phase 1 times `Brain.think` alone over pre-built contacts (the core's own speed, one core), first with
no previous state, then with last run's state a day later.
Phase 2 is a full rescore of `--full` contacts streamed from a generator over `--workers` processes
(default: every core this process may use; the rescore is embarrassingly parallel). Each worker builds
its contacts on the fly and drops each result after a digest, so nothing accumulates; it reports its
peak and current RSS every 100,000 contacts, to show memory stays flat. The generator reuses
`TEMPLATES` pre-built event ledgers (immutable `Event`s, shared, so building a contact costs a few
random draws for its facts, not 50 `datetime`s and `Event`s); its own cost is measured and printed
separately, and it is included in the phase 2 wall time.

`--side-by-side FILE` compares the scoring kernel with another version of `connector/core/scoring.py`
(e.g. `git show main:connector/core/scoring.py > /tmp/old_scoring.py`) in one process, on the same
contacts, in interleaved rounds (the order alternates every round): `Scorer.score` alone, then the
whole `Brain.think` with each scorer plugged in. It prints medians of CPU time per contact (this
process only, so other load on a shared machine inflates it less than wall time), the median of the
per-round ratios, and the plain reference scorer's speed for scale. Digests must match.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
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
from connector.core.ledger import index_events  # noqa: E402
from connector.core.predicates import Ctx  # noqa: E402
from connector.core.scoring import Scorer  # noqa: E402
from connector.core.scoring_reference import reference_score  # noqa: E402
from connector.settings.loader import load_settings  # noqa: E402

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TITLES = ["VP Sales", "Software Engineer", "Marketing Manager", "Data Analyst", "Student", "CEO", "", "Director of IT"]
INDUSTRIES = ["COMPUTER_SOFTWARE", "FINANCIAL_SERVICES", "HOSPITAL_HEALTH_CARE", "RETAIL", None]
EVENT_TYPES = ["email_open"] * 12 + ["email_click"] * 5 + ["page_view"] * 10 + [
    "content_download", "webinar_attend", "form_submit", "ad_click", "social_click", "survey_answer"]
URLS = ["/blog/a", "/pricing", "/docs", "/case-studies/x", "/"]
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "america_slash_los_angeles", None]
TEMPLATES = 2000  # distinct event ledgers the streamed rescore cycles through
PROGRESS_EVERY = 100_000


def _facts(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "email": f"user{i}@{rng.choice(['acme.com', 'gmail.com', 'bank.example'])}",
        "job_title": rng.choice(TITLES), "employees": rng.choice([5, 60, 400, 2000, None]),
        "industry": rng.choice(INDUSTRIES), "country": rng.choice(["United States", "Germany", "Japan"]),
        "timezone": rng.choice(ZONES), "email_optout": rng.random() < 0.03, "lifecycle_stage": None,
        "lead_status": rng.choice(["NEW", "NEW", "IN_PROGRESS", None]), "owner_id": None,
    }


def _events(rng: random.Random, events_each: int, with_ts: bool = True) -> list[Event]:
    """`with_ts`: fill in `Event.ts` as the store loader does (else the brain converts every datetime)."""
    events = []
    for _ in range(events_each):
        kind = rng.choice(EVENT_TYPES)
        at = NOW - timedelta(seconds=rng.randrange(0, 200 * 86400))
        props = {"url": rng.choice(URLS)} if kind == "page_view" else {}
        events.append(Event(kind, at, props, f"c{rng.randrange(40)}" if kind != "page_view" else None,
                            at.timestamp() if with_ts else None))
    if rng.random() < 0.02:
        at = NOW - timedelta(hours=rng.randrange(1, 500))
        events.append(Event("demo_request", at, ts=at.timestamp() if with_ts else None))
    return events


def contacts(n: int, events_each: int, seed: int = 7, with_ts: bool = True) -> Iterator[BrainInput]:
    """Every contact with its own freshly drawn facts and ledger (phase 1: built before timing)."""
    rng = random.Random(seed)
    for i in range(n):
        facts = _facts(i, rng)
        yield BrainInput(facts, _events(rng, events_each, with_ts), None, NOW)


def templates(events_each: int, seed: int = 11) -> list[list[Event]]:
    rng = random.Random(seed)
    return [_events(rng, events_each) for _ in range(TEMPLATES)]


def stream(start: int, stop: int, ledgers: list[list[Event]], seed: int = 11) -> Iterator[BrainInput]:
    """Contacts start..stop-1: fresh facts (unique email), a pre-built ledger, one `now` (one rescore)."""
    rng = random.Random(seed * 1_000_003 + start)
    for i in range(start, stop):
        yield BrainInput(_facts(i, rng), ledgers[(i * 7919) % len(ledgers)], None, NOW)


def rss_mb() -> tuple[float, float]:
    """(peak, current) resident set size of this process in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return peak, current


_BRAIN: Brain | None = None
_LEDGERS: list[list[Event]] = []


def _rescore(args: tuple[int, int, int, Any]) -> tuple[int, int, int]:
    worker, start, stop, progress = args
    assert _BRAIN is not None
    think = _BRAIN.think
    writes = digest = 0
    for n, inp in enumerate(stream(start, stop, _LEDGERS), 1):
        result = think(inp)
        writes += bool(result.writeback["score"])
        digest += result.score
        if n % PROGRESS_EVERY == 0:
            progress.put((worker, n, False, *rss_mb()))
    progress.put((worker, stop - start, True, *rss_mb()))
    return stop - start, writes, digest


def _load_scoring(path: str) -> Any:
    """Another version of connector/core/scoring.py as a module of its own (its imports are this tree's)."""
    spec = importlib.util.spec_from_file_location("baseline_scoring", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_scoring"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def side_by_side(brain: Brain, baseline_path: str, n: int, events_each: int, rounds: int) -> None:
    settings_scoring = brain.scorer.config
    scorers = {"baseline": _load_scoring(baseline_path).Scorer(settings_scoring), "this tree": Scorer(settings_scoring)}
    inputs = list(contacts(n, events_each))
    ctxs = [Ctx(dict(i.facts), index_events(i.events, i.now), i.now) for i in inputs]
    print(f"side by side: {n} contacts x {events_each} events, {rounds} interleaved rounds, CPU time of this process")

    def timed(run: Any) -> tuple[float, float, int]:
        cpu, wall = time.process_time(), time.perf_counter()
        digest = run()
        return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6, digest

    def score_all(scorer: Any) -> int:
        return sum(scorer.score(ctx).score for ctx in ctxs)

    def think_all(scorer: Any) -> int:
        brain.scorer = scorer
        return sum(brain.think(inp).score for inp in inputs)

    for label, run in (("Scorer.score", score_all), ("Brain.think", think_all)):
        for scorer in scorers.values():
            run(scorer)  # warm the memos of both
        cpu: dict[str, list[float]] = {name: [] for name in scorers}
        wall: dict[str, list[float]] = {name: [] for name in scorers}
        digests = set()
        for r in range(rounds):
            for name in (list(scorers) if r % 2 else list(reversed(scorers))):
                c, w, digest = timed(lambda name=name, run=run: run(scorers[name]))
                cpu[name].append(c)
                wall[name].append(w)
                digests.add(digest)
        ratios = [b / t for b, t in zip(cpu["baseline"], cpu["this tree"], strict=True)]
        for name in scorers:
            print(f"  {label:12} {name:9}: median {statistics.median(cpu[name]):6.1f} us CPU "
                  f"({1e6 / statistics.median(cpu[name]):,.0f} contacts/s per CPU-second), "
                  f"wall median {statistics.median(wall[name]):6.1f} us")
        print(f"  {label:12} baseline / this tree, median of per-round CPU ratios: {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f}); digests {sorted(digests)}")
    brain.scorer = scorers["this tree"]
    some = inputs[: max(1, n // 10)]
    c, _, _ = timed(lambda: sum(reference_score(settings_scoring, i.facts, i.events, i.now).score for i in some))
    print(f"  reference_score (plain rules, for scale): {c * n / len(some):.1f} us CPU per contact")


def main() -> None:
    global _BRAIN, _LEDGERS
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--full", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-ts", action="store_true",
                        help="phase 1 events without Event.ts: the brain computes the POSIX times itself")
    parser.add_argument("--side-by-side", metavar="SCORING_PY",
                        help="compare this tree's scoring kernel with another scoring.py, interleaved, one process")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    settings = load_settings(REPO / "app.yaml", check_env=False)
    brain = Brain(settings.scoring, settings.segments, settings.lifecycle, settings.nurture, settings.alerts)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"python {platform.python_version()}, {cpu}, nproc {len(os.sched_getaffinity(0))}")

    if args.side_by_side:
        side_by_side(brain, args.side_by_side, args.contacts, args.events, args.rounds)
    elif args.contacts:
        inputs = list(contacts(args.contacts, args.events, with_ts=not args.no_ts))
        for inp in inputs[:500]:  # warm the regex and zone caches
            brain.think(inp)
        started, cpu = time.perf_counter(), time.process_time()
        digest = 0
        for inp in inputs:
            digest += brain.think(inp).score
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"think only{' (events without ts)' if args.no_ts else ''}: {len(inputs)} contacts × "
              f"{args.events} events in {elapsed:.2f} s = "
              f"{len(inputs) / elapsed:,.0f} contacts/s, one core (digest {digest}); "
              f"{len(inputs) / cpu:,.0f} per CPU-second of this process")

        # Second pass with last run's state, as the periodic rescore sees it.
        states = [brain.think(inp).state for inp in inputs]
        started = time.perf_counter()
        for inp, state in zip(inputs, states, strict=True):
            brain.think(BrainInput(inp.facts, inp.events, state, NOW + timedelta(days=1)))
        elapsed = time.perf_counter() - started
        print(f"think with state: {len(inputs) / elapsed:,.0f} contacts/s, one core")
        del inputs, states

    if args.full:
        _BRAIN, _LEDGERS = brain, templates(args.events)
        started = time.perf_counter()
        made = sum(1 for _ in stream(0, min(args.full, 200_000), _LEDGERS))
        print(f"generator alone: {made / (time.perf_counter() - started):,.0f} contacts/s "
              f"({TEMPLATES} pre-built ledgers, fresh facts per contact)")
        workers = max(1, args.workers)
        bounds = [args.full * w // workers for w in range(workers + 1)]
        base = rss_mb()
        started = time.perf_counter()
        ctx = mp.get_context("fork")
        with ctx.Manager() as manager:
            progress = manager.Queue()
            with ctx.Pool(workers) as pool:
                pending = pool.map_async(_rescore, [(w, bounds[w], bounds[w + 1], progress) for w in range(workers)])
                done = 0
                while done < workers:
                    worker, n, finished, peak, current = progress.get()
                    done += finished
                    print(f"  worker {worker}: {n:>9,} contacts{' (done)' if finished else ''}  "
                          f"{time.perf_counter() - started:6.1f} s  "
                          f"peak RSS {peak:.0f} MB, current {current:.0f} MB", flush=True)
                results = pending.get()
        elapsed = time.perf_counter() - started
        total = sum(r[0] for r in results)
        print(f"full rescore: {total:,} contacts in {elapsed:.1f} s over {workers} process(es) = "
              f"{total / elapsed:,.0f} contacts/s incl. generation; {sum(r[1] for r in results):,} score writes "
              f"(digest {sum(r[2] for r in results)}); parent RSS peak {base[0]:.0f} MB before")


if __name__ == "__main__":
    main()
