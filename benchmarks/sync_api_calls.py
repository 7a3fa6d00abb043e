"""API calls of a backfill: 10,000 sandbox contacts on each side, against the minimum the batch endpoints allow.

    .venv/bin/python benchmarks/sync_api_calls.py [--people 10000]

HubSpot holds N contacts and Salesforce N other Leads (plausible seeded people, some duplicates and
invalid emails). `backfill` pairs, creates and stamps them all. The minimum possible is what any
correct backfill must spend with the same batch endpoints: walking every page (HubSpot search: 200 a
page; SOQL: 2,000 a page), one sign-in and one describe per object, and each kind of write at its
batch limit (HubSpot 100, Salesforce collections 200) for the writes the result needs.
"""

from __future__ import annotations

import argparse
import math
import time

from rig import machine, start

from connector.engine.backfill import backfill
from connector.sandbox.fake_people import generate_people


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000, help="contacts on each side")
    args = parser.parse_args()
    bench = start()
    try:
        people = generate_people(2 * args.people, seed=42)
        bench.boxes.hubspot.seed(people[: args.people])
        bench.boxes.salesforce.seed(people[args.people :])
        bench.reset_calls()
        started = time.monotonic()
        report = backfill(bench.settings, bench.engine, bench.clients)
        seconds = time.monotonic() - started
        calls = bench.calls()

        kinds: dict[str, int] = {}
        # Count the writes the result needed, from the audit the backfill wrote.
        from sqlalchemy import func, select

        from connector.store.models import audit

        with bench.engine.connect() as conn:
            rows = conn.execute(select(audit.c.system, audit.c.action, func.count(func.distinct(audit.c.object_id)))
                                .where(audit.c.action.in_(["create", "update"]))
                                .group_by(audit.c.system, audit.c.action)).all()
        for system, action, count in rows:
            kinds[f"{system} {action}"] = count
        limits = {"hubspot create": 100, "hubspot update": 100, "salesforce create": 200, "salesforce update": 200}
        minimum = {
            "walk hubspot (search, 200/page)": math.ceil(report.walked["hubspot"] / 200) or 1,
            **{f"walk {k} (SOQL, 2000/page)": max(1, math.ceil(v / 2000))
               for k, v in report.walked.items() if k.startswith("salesforce")},
            "salesforce sign-in": 1,
            "salesforce describe": len(bench.settings.mapping.salesforce.objects),
            **{f"{k} (batch {limits[k]})": math.ceil(v / limits[k]) for k, v in kinds.items() if k in limits},
        }
        actual = sum(calls.values())
        least = sum(minimum.values())
        print(f"machine: {machine()}")
        print(f"backfill of {args.people} HubSpot contacts + {args.people} Salesforce Leads in {seconds:.1f} s: "
              f"{report.people} people, {report.writes} writes ({report.creates} creates), "
              f"{report.dead_letters} dead letters")
        print("\nAPI calls by endpoint:")
        for name, count in sorted(calls.items(), key=lambda kv: -kv[1]):
            print(f"  {count:6d}  {name}")
        print("\nminimum possible with batch endpoints:")
        for name, count in minimum.items():
            print(f"  {count:6d}  {name}")
        print(f"\nactual {actual} / minimum {least} = ratio {actual / least:.3f} (goal <= 1.05)")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
