"""What preflight costs: API calls and wall time of the full checklist and of the cheap part serve and worker
run at start, on the shipped configuration against the sandbox CRMs (N contacts on each side).

    .venv/bin/python benchmarks/preflight.py [--people 2000] [--runs 5]

The checklist's cost does not grow with the number of contacts (it counts them with one search and one
COUNT() per object); it grows with the number of ids named in config (one call per workflow, list, owner;
one SOQL per id type).
"""

from __future__ import annotations

import argparse
import statistics
import time

from rig import machine, start

from connector.commands.preflight_cmds import preflight_checks
from connector.engine.install import apply_plan, plan_install
from connector.sandbox.fake_people import generate_people


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000, help="contacts on each side")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench = start()
    try:
        people = generate_people(2 * args.people, seed=42)
        bench.boxes.hubspot.seed(people[: args.people])
        bench.boxes.salesforce.seed(people[args.people:])
        apply_plan(plan_install(bench.settings, bench.clients, bench.workdir / "install", None, None), bench.clients)
        for cheap in (False, True):
            times, calls = [], []
            for _ in range(args.runs):
                bench.reset_calls()
                began = time.perf_counter()
                checks = preflight_checks(bench.settings, cheap=cheap)
                times.append(time.perf_counter() - began)
                calls.append(sum(bench.calls().values()))
                assert all(c.ok for c in checks), [c for c in checks if not c.ok]
            label = "cheap (serve/worker start)" if cheap else "full checklist"
            print(f"{label:<28} {len(checks):>4} checks  {calls[-1]:>3} API calls  "
                  f"median {statistics.median(times) * 1000:,.0f} ms (min {min(times) * 1000:,.0f} ms)")
        print(f"{args.people:,} contacts on each side; {machine()}")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
