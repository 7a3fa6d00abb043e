"""Dashboard and report speed on a synthetic store: every page through the real Flask app, logged in.

    .venv/bin/python benchmarks/dashboard.py [--contacts 500] [--contacts 100000] [--repeat 5]

For each store size, builds a SQLite store of N contacts, each with brain state (stage, track, two touches
with A/B arms), three lifecycle writes in the audit log and six engagement facts (all timestamped in the
last 90 days), computes the 90-day report snapshot, then times each dashboard page (median of --repeat
requests after one warm-up; report pages read the snapshot), and, separately, computing a
snapshot (history load + every report), which a stale page triggers in the background. Prints a table;
the figures are written down in docs/PERFORMANCE-dashboard.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from connector.settings.loader import load_settings  # noqa: E402
from connector.store import open_engine, upgrade  # noqa: E402
from connector.store.models import audit, contacts, engagement  # noqa: E402

STAGES = ["lead", "lead", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
TYPES = ["email_open", "email_open", "email_click", "page_view", "content_download", "demo_request"]
PAGES = ["/dashboard", "/dashboard/funnel", "/dashboard/cohorts", "/dashboard/tracks", "/dashboard/contacts",
         "/dashboard/contacts?q=person17", "/dashboard/contacts/7", "/dashboard/activity",
         "/dashboard/activity?action=task"]


def build(url: str, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = open_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            people, writes, facts = [], [], []
            for i in range(start, min(n, start + 5000)):
                born = now - timedelta(days=rng.uniform(1, 90))
                stage = rng.choice(STAGES)
                arm = rng.choice("AB")
                sent = [["awareness:welcome", (born + timedelta(hours=1)).isoformat(), "welcome",
                         f"welcome_subject={arm}"],
                        ["awareness:industry report", (born + timedelta(days=3)).isoformat(), "industry-report"]]
                people.append({"id": i + 1, "email": f"person{i}@corp{i % 97}.io", "hubspot_id": str(100000 + i),
                               "salesforce_id": None, "synced": {"first_name": "Person", "last_name": str(i)},
                               "brain": {"lifecycle": stage, "lifecycle_at": born.isoformat(), "track": "awareness",
                                         "sent": sent}, "created_at": born, "updated_at": born})
                ladder = ["lead", "marketingqualifiedlead", "salesqualifiedlead"][:1 + STAGES.index(stage) % 3]
                for k, s in enumerate(ladder):
                    writes.append({"run_id": "bench", "at": born + timedelta(days=k * rng.uniform(1, 10)),
                                   "contact_id": i + 1, "system": "hubspot", "object_type": "contact",
                                   "object_id": str(100000 + i), "action": "update", "field": "lifecyclestage",
                                   "before": None, "after": s, "rule": "brain: write-back", "message": None})
                for j in range(6):
                    facts.append({"event_key": f"b:{i}:{j}", "source": "default", "event_type": rng.choice(TYPES),
                                  "occurred_at": born + timedelta(days=rng.uniform(0, 20)), "email": None,
                                  "hubspot_id": str(100000 + i), "salesforce_id": None, "contact_id": None,
                                  "content_id": None, "properties": {}})
            conn.execute(insert(contacts), people)
            conn.execute(insert(audit), writes)
            conn.execute(insert(engagement), facts)
    engine.dispose()


def run(n: int, repeat: int) -> list[tuple[str, float]]:
    os.environ["NURTURE_ADMIN_TOKEN"] = "bench-token"
    tmp = Path(tempfile.mkdtemp(prefix="nurture-bench-"))
    url = f"sqlite:///{tmp / 'store.db'}"
    t0 = time.perf_counter()
    build(url, n)
    print(f"{n} contacts: store built in {time.perf_counter() - t0:.1f} s", flush=True)
    from webhooks import create_app

    settings = load_settings(REPO / "app.yaml", env={"NURTURE_STORE_URL": url}, check_env=False)
    app = create_app(settings)
    client = app.test_client()
    with client.session_transaction() as session:
        session["admin"] = True
    from connector.engine.report_snapshots import compute

    compute(app.extensions["nurture"].engine, settings, "90d")  # what a page's background refresh leaves behind
    results = []
    for page in PAGES:
        times = []
        for attempt in range(repeat + 1):
            started = time.perf_counter()
            response = client.get(page)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (page, response.status_code)
            if attempt:
                times.append(elapsed)
        results.append((page, statistics.median(times) * 1000))
    from connector.engine.report_data import load_history, parse_since

    engine = app.extensions["nurture"].engine
    started = time.perf_counter()
    load_history(engine, settings, parse_since("90d"))
    results.append(("load_history (90 days)", (time.perf_counter() - started) * 1000))
    started = time.perf_counter()
    compute(engine, settings, "90d")
    results.append(("snapshot: history + all reports", (time.perf_counter() - started) * 1000))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, action="append", help="store size (repeatable; default 500)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for n in args.contacts or [500]:
        for page, ms in run(n, args.repeat):
            print(f"  {page:40s} {ms:9.1f} ms")


if __name__ == "__main__":
    main()
