"""Scale-out on PostgreSQL: events/s, sync latency and CRM calls with 1, 2 and 4 worker processes.

    .venv/bin/python benchmarks/scale.py [--workers 1,2,4] [--contacts 300] [--events 1500] [--seconds 15]
                                         [--latency-ms 100] [--postgres URL]

For each worker count: fresh sandboxes (HubSpot's real rate limits on: 190 requests per rolling 10 s,
5 searches/s; every API call answered after --latency-ms), a fresh PostgreSQL schema, --contacts HubSpot
contacts linked to Salesforce Leads by a backfill (not measured). Then `nurture serve` (gunicorn) and N
`nurture worker` processes run while --events HubSpot edits of `city` arrive as signed webhooks over
--seconds. Measured: the time until every contact's last edit is in Salesforce (so edits/s through the
whole loop), the edit → Salesforce latency of those last edits (p50/p95), and API calls per CRM.
The ceiling is HubSpot's rate limit (share 0.8 → 152 calls / 10 s), not the CPU: docs/PERFORMANCE.md
draws it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from rig import REPO, machine
from sqlalchemy import select, text

from connector.engine.backfill import backfill
from connector.engine.clients import build_clients
from connector.engine.nurture_step import setup_hubspot_properties
from connector.sandbox.fake_people import generate_people
from connector.sandbox.launcher import start_sandboxes
from connector.sandbox.runtime import free_port, wait_until_ready
from connector.settings import load_settings
from connector.store import open_engine, upgrade
from connector.store.models import contacts


def run(workers: int, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, connector_url=f"http://127.0.0.1:{port}",
                            retry_base_s=0.2)
    schema = f"nurture_scale_{uuid.uuid4().hex[:8]}"
    admin = open_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    workdir = Path(tempfile.mkdtemp(prefix="nurture-scale-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        env = {**os.environ, **boxes.env(), "NURTURE_ENGAGEMENT_SECRET": "scale-secret", "NURTURE_PORT": str(port),
               "NURTURE_STORE_URL": f"{args.postgres}?options=-csearch_path%3D{schema}"}
        settings = load_settings(REPO / "app.yaml", env=env)
        engine = open_engine(settings.store_url)
        upgrade(engine)
        clients = build_clients(settings, engine)
        setup_hubspot_properties(settings, clients)
        people = [p for p in generate_people(args.contacts * 2, seed=5) if "@" in p.email and "." in p.email]
        ids = boxes.hubspot.seed(people[: args.contacts])
        backfill(settings, engine, clients)
        with engine.connect() as conn:
            links = dict(conn.execute(select(contacts.c.hubspot_id, contacts.c.salesforce_id)
                                      .where(contacts.c.hubspot_id.in_(ids), contacts.c.salesforce_id.is_not(None))
                                      ).all())
        ids = sorted(links)
        boxes.hubspot.flush_webhooks()
        boxes.salesforce.flush_outbound()
        for box in (boxes.hubspot, boxes.salesforce):
            box.deliverer.wait_idle(30)
            box.faults.update({"latency_ms": args.latency_ms})
        base = [sys.executable, "-m", "connector", "--config", str(REPO / "app.yaml")]
        procs.append(subprocess.Popen([*base, "serve"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=open(workdir / "serve.log", "w")))  # noqa: SIM115
        if not wait_until_ready(f"http://127.0.0.1:{port}/readyz"):
            raise SystemExit("the connector did not start")
        for n in range(workers):
            procs.append(subprocess.Popen([*base, "worker"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=open(workdir / f"worker{n}.log", "w")))  # noqa: SIM115
        time.sleep(2)  # workers up, migrations checked
        boxes.hubspot.calls.reset()
        boxes.salesforce.calls.reset()
        leads = boxes.salesforce.state.records["Lead"]
        edited_at: dict[str, float] = {}
        appeared: dict[str, float] = {}
        last: dict[str, str] = {}
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                now = time.monotonic()
                for lead_id in list(links.values()):
                    value = leads.get(lead_id, {}).get("City")
                    if value in edited_at and value not in appeared:
                        appeared[value] = now
                time.sleep(0.02)

        threading.Thread(target=watch, daemon=True).start()
        rng = random.Random(workers)
        started = time.monotonic()
        gap = args.seconds / args.events
        for n in range(args.events):
            hs_id = rng.choice(ids)
            value = f"City {n}"
            edited_at[value] = time.monotonic()
            requests.patch(f"{boxes.hubspot.url}/__sandbox/ui/contacts/{hs_id}", timeout=10,
                           json={"properties": {"city": value}}).raise_for_status()
            last[hs_id] = value
            time.sleep(max(0.0, started + (n + 1) * gap - time.monotonic()))
        deadline = time.monotonic() + 300
        while any(v not in appeared for v in last.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        done = max((appeared[v] for v in last.values() if v in appeared), default=time.monotonic())
        stop.set()
        latencies = sorted(appeared[v] - edited_at[v] for v in last.values() if v in appeared)
        hs_calls = sum(boxes.hubspot.calls.snapshot().values())
        sf_calls = sum(boxes.salesforce.calls.snapshot().values())
        wall = done - started
        return {"workers": workers, "events": args.events, "synced": len(latencies), "people": len(last),
                "wall_s": wall, "events_per_s": args.events / wall,
                "p50_s": statistics.median(latencies) if latencies else float("nan"),
                "p95_s": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else float("nan"),
                "hubspot_calls": hs_calls, "salesforce_calls": sf_calls,
                "hubspot_calls_per_10s": hs_calls / wall * 10}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        boxes.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--postgres", default=os.environ.get("NURTURE_TEST_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{args.events} HubSpot edits over {args.contacts} contacts in {args.seconds:.0f} s, API latency "
          f"{args.latency_ms:.0f} ms, HubSpot limit 190/10 s (connector share 152/10 s), PostgreSQL store")
    print("workers  synced/people  wall s  edits/s  p50 s  p95 s  HubSpot calls  per 10 s  Salesforce calls")
    for count in [int(w) for w in args.workers.split(",")]:
        r = run(count, args)
        print(f"{r['workers']:7d}  {r['synced']:6d}/{r['people']:<6d}  {r['wall_s']:6.1f}  {r['events_per_s']:7.1f}  "
              f"{r['p50_s']:5.2f}  {r['p95_s']:5.2f}  {r['hubspot_calls']:13d}  {r['hubspot_calls_per_10s']:8.1f}  "
              f"{r['salesforce_calls']:16d}", flush=True)


if __name__ == "__main__":
    main()
