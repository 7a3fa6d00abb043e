"""A burst of webhooks: 1,000 HubSpot edits over 200 linked contacts within 10 s, through the whole loop.

    .venv/bin/python benchmarks/sync_burst.py [--contacts 200] [--events 1000] [--latency-ms 100]

Both sandboxes answer every API call after --latency-ms (a real CRM's round trip). The HubSpot sandbox
delivers signed webhooks to the real server (`nurture serve`, gunicorn, SQLite); a worker runs beside it
as `nurture worker` would. Prints API calls per event (goal <= 0.05) and the latency from an edit in
HubSpot to its value appearing in Salesforce, p50/p95 (goal p95 <= 3 s), for the last edit of each contact
(earlier edits of the same field are superseded before they are synced, by design).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import threading
import time

import requests
from rig import REPO, machine, start

from connector.engine.backfill import backfill
from connector.engine.worker import Worker
from connector.sandbox.fake_people import generate_people
from connector.sandbox.runtime import free_port, wait_until_ready


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--property", choices=["jobtitle", "city"], default="jobtitle",
                        help="jobtitle also moves the fit score, so the brain writes back too; city only syncs")
    args = parser.parse_args()
    port = free_port()
    bench = start(connector_url=f"http://127.0.0.1:{port}", port=port)
    server = subprocess.Popen([sys.executable, "-m", "connector", "--config", str(REPO / "app.yaml"), "serve"],
                              stdout=subprocess.DEVNULL, stderr=open(bench.workdir / "server.log", "w"))  # noqa: SIM115 (lives with the process)
    try:
        if not wait_until_ready(f"http://127.0.0.1:{port}/readyz"):
            raise SystemExit("the connector did not start")
        people = [p for p in generate_people(args.contacts * 2, seed=5) if "@" in p.email and "." in p.email]
        ids = bench.boxes.hubspot.seed(people[: args.contacts])
        backfill(bench.settings, bench.engine, bench.clients)  # link them all first; not measured
        worker = Worker(bench.settings, bench.engine, bench.clients)
        _settle(bench, worker)
        bench.boxes.hubspot.faults.update({"latency_ms": args.latency_ms})
        bench.boxes.salesforce.faults.update({"latency_ms": args.latency_ms})
        links = {hs: lead for hs in ids if (lead := _lead_of(bench, hs))}
        ids = sorted(links)  # contacts the mapping's create_when kept out of Salesforce are not in the burst
        bench.reset_calls()

        # The worker runs in its own process, as `nurture worker` does in production.
        worker_proc = subprocess.Popen([sys.executable, "-m", "connector", "--config", str(REPO / "app.yaml"),
                                        "worker"], stdout=subprocess.DEVNULL,
                                       stderr=open(bench.workdir / "worker.log", "w"))  # noqa: SIM115
        last_edit: dict[str, tuple[str, float]] = {}
        edited_at: dict[str, float] = {}  # value -> when it was written in HubSpot
        appeared: dict[str, float] = {}  # value -> when Salesforce first showed it
        leads = bench.boxes.salesforce.state.records["Lead"]
        watching = threading.Event()
        sf_field = {"jobtitle": "Title", "city": "City"}[args.property]

        def watch() -> None:
            while not watching.is_set():
                now = time.monotonic()
                for lead_id in list(links.values()):
                    value = leads[lead_id].get(sf_field)
                    if value in edited_at and value not in appeared:
                        appeared[value] = now
                time.sleep(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        rng = random.Random(1)
        started = time.monotonic()
        gap = 10.0 / args.events
        for n in range(args.events):
            hs_id = rng.choice(ids)
            value = f"{'Title' if args.property == 'jobtitle' else 'City'} {n}"
            edited_at[value] = time.monotonic()
            requests.patch(f"{bench.boxes.hubspot.url}/__sandbox/ui/contacts/{hs_id}", timeout=10,
                           json={"properties": {args.property: value}}).raise_for_status()
            last_edit[hs_id] = (value, edited_at[value])
            time.sleep(max(0.0, started + (n + 1) * gap - time.monotonic()))
        burst_s = time.monotonic() - started
        deadline = time.monotonic() + 60
        while any(v not in appeared for v, _ in last_edit.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        watching.set()
        seen = {h: appeared[v] for h, (v, _) in last_edit.items() if v in appeared}
        time.sleep(3)  # let echoes come back and settle before counting calls
        worker_proc.terminate()
        worker_proc.wait(timeout=30)
        calls = bench.calls()
        latencies = sorted(seen[h] - last_edit[h][1] for h in seen)
        total = sum(calls.values())
        print(f"machine: {machine()}")
        print(f"{args.events} HubSpot edits of {args.property} over {len(ids)} contacts in {burst_s:.1f} s, "
              f"API latency {args.latency_ms:.0f} ms per call")
        print(f"synced {len(seen)}/{len(last_edit)} contacts' last edit")
        print("API calls by endpoint:")
        for name, count in sorted(calls.items(), key=lambda kv: -kv[1]):
            print(f"  {count:5d}  {name}")
        for name, box in (("HubSpot", bench.boxes.hubspot), ("Salesforce", bench.boxes.salesforce)):
            log = list(box.deliverer.log)
            retried = sum(1 for entry in log if entry.attempt > 0)
            print(f"{name} webhook deliveries: {len(log)} requests, {retried} retries, "
                  f"{sum(1 for e in log if not e.acknowledged)} failed attempts")
        print(f"API calls per event: {total}/{args.events} = {total / args.events:.3f} (goal <= 0.05)")
        if latencies:
            p50 = statistics.median(latencies)
            p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
            print(f"edit -> Salesforce latency: p50 {p50:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s "
                  f"(goal p95 <= 3 s)")
    finally:
        server.terminate()
        server.wait(timeout=10)
        bench.stop()


def _settle(bench: object, worker: Worker) -> None:
    boxes = bench.boxes  # type: ignore[attr-defined]
    for _ in range(10):
        boxes.hubspot.flush_webhooks()
        boxes.salesforce.flush_outbound()
        boxes.hubspot.deliverer.wait_idle(30)
        boxes.salesforce.deliverer.wait_idle(30)
        if worker.drain().claimed == 0:
            return


def _lead_of(bench: object, hs_id: str) -> str:
    """The Lead linked to a HubSpot contact, or "" if there is none."""
    from sqlalchemy import select

    from connector.store.models import contacts

    with bench.engine.connect() as conn:  # type: ignore[attr-defined]
        lead = conn.execute(select(contacts.c.salesforce_id).where(contacts.c.hubspot_id == hs_id)).scalar()
    return str(lead) if lead else ""


if __name__ == "__main__":
    main()
