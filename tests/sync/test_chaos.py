"""Bounded chaos: 3 worker processes and a 2-process web server, SIGKILLed and restarted at random while
people are created and edited on both sides (including conflicting edits of one field within a second),
with sandbox faults on. Then, read through the CRMs: one record per person on each side, fields agree, no
enrollment twice, no dead letters. On SQLite and on PostgreSQL. (The long version: benchmarks/scale.py.)"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from secret_scan import SECRET_NAMES
from sqlalchemy import func, select, text

from connector.engine.clients import build_clients
from connector.engine.nurture_step import setup_hubspot_properties
from connector.sandbox.launcher import Sandboxes, start_sandboxes
from connector.settings import load_settings
from connector.store import open_engine, upgrade
from connector.store.models import dead_letters, dirty, leases

PEOPLE = 24
CHAOS_S = 18
CONVERGE_S = 120
FIELDS = [("firstname", "FirstName"), ("lastname", "LastName"), ("company", "Company")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chaos.db'}"
        return
    base = os.environ.get("NURTURE_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("NURTURE_TEST_POSTGRES_URL is not set")
    schema = f"nurture_chaos_{uuid.uuid4().hex[:8]}"
    admin = open_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


class Fleet:
    """The connector's processes, killed and restarted by the test."""

    def __init__(self, config: Path, env: dict[str, str], port: int, logs: Path) -> None:
        self.base = [sys.executable, "-m", "connector", "--config", str(config)]
        self.env, self.port, self.logs = env, port, logs
        self.workers: list[subprocess.Popen[bytes]] = []
        self.web: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{args[0]}-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - child owns it
        return subprocess.Popen([*self.base, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_web(self) -> None:
        self.web = self._start("serve", "--port", str(self.port), "--workers", "2")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError("the web server did not start")

    def start_worker(self) -> None:
        self.workers.append(self._start("worker"))

    def kill_worker(self, rng: random.Random) -> None:
        victim = self.workers.pop(rng.randrange(len(self.workers)))
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        self.kills += 1
        self.start_worker()

    def kill_web(self) -> None:
        assert self.web is not None
        os.killpg(self.web.pid, signal.SIGKILL)  # master and its workers, mid-request or not
        self.web.wait()
        self.kills += 1
        self.start_web()

    def stop(self) -> None:
        for process in [*self.workers, *([self.web] if self.web else [])]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _hs_contacts(boxes: Sandboxes) -> dict[str, dict[str, Any]]:
    with boxes.hubspot.state.lock:
        return {cid: dict(rec.properties) for cid, rec in boxes.hubspot.state.contacts.items()}


def _sf_people(boxes: Sandboxes) -> list[dict[str, Any]]:
    records = boxes.salesforce.state.records
    people = [dict(r) for r in records.get("Lead", {}).values() if not r.get("IsConverted")]
    return people + [dict(r) for r in records.get("Contact", {}).values()]


def _disagreements(boxes: Sandboxes) -> list[str]:
    problems = []
    hs = {p.get("email", "").lower(): p for p in _hs_contacts(boxes).values() if p.get("email")}
    sf_by_email: dict[str, list[dict[str, Any]]] = {}
    for record in _sf_people(boxes):
        sf_by_email.setdefault((record.get("Email") or "").lower(), []).append(record)
    for email in sorted(set(hs) | set(sf_by_email)):
        sf = sf_by_email.get(email, [])
        if email not in hs or len(sf) != 1:
            problems.append(f"{email}: {int(email in hs)} HubSpot contact(s), {len(sf)} Salesforce record(s)")
            continue
        for hs_name, sf_name in FIELDS:
            if (hs[email].get(hs_name) or "") != (sf[0].get(sf_name) or ""):
                problems.append(f"{email}: {hs_name} {hs[email].get(hs_name)!r} vs {sf_name} {sf[0].get(sf_name)!r}")
    return problems


def test_chaos_converges_with_nothing_lost_or_doubled(config_dir: Path, tmp_path: Path, store_url: str) -> None:
    rng = random.Random(11)
    port = _free_port()
    boxes = start_sandboxes(hubspot_port=0, salesforce_port=0, connector_url=f"http://127.0.0.1:{port}",
                            retry_base_s=0.2)
    fleet: Fleet | None = None
    try:
        env = {**os.environ, **boxes.env(), "NURTURE_STORE_URL": store_url,
               "NURTURE_ENGAGEMENT_SECRET": "chaos-engagement-secret"}
        settings = load_settings(config_dir / "app.yaml", env=env)
        engine = open_engine(settings.store_url)
        upgrade(engine)
        setup_hubspot_properties(settings, build_clients(settings, engine))  # `nurture setup`, once
        for box in (boxes.hubspot, boxes.salesforce):  # faults on from here: 5 % of API calls answer 503
            box.faults.update({"error_rate": 0.05})
        fleet = Fleet(config_dir / "app.yaml", env, port, tmp_path)
        fleet.start_web()
        for _ in range(3):
            fleet.start_worker()

        def hs_post(path: str, props: dict[str, str], method: str = "post") -> Any:
            response = getattr(requests, method)(f"{boxes.hubspot.url}/__sandbox/ui/contacts{path}",
                                                 json={"properties": props}, timeout=10)
            response.raise_for_status()
            return response.json() if response.content else None

        hubspot_ids: list[str] = []
        lead_ids: list[str] = []
        for n in range(PEOPLE):  # half start in HubSpot, half in Salesforce
            props = {"email": f"chaos{n}@people.example", "firstname": f"First{n}", "lastname": f"Last{n}",
                     "company": f"Company {n}"}
            if n % 2:
                hubspot_ids.append(str(hs_post("", props)["id"]))
            else:
                lead_ids.append(_sf_create(boxes, props))
        end = time.monotonic() + CHAOS_S
        next_kill = time.monotonic() + 2
        killed_web = False
        while time.monotonic() < end:
            word = rng.choice(["Amélie", "Bruno", "Chen", "Dara", "Emeka"]) + str(rng.randrange(100))
            email = f"chaos{rng.randrange(PEOPLE)}@people.example"
            hs_id = next((cid for cid, p in _hs_contacts(boxes).items() if p.get("email") == email), None)
            sf = next((r for r in _sf_people(boxes) if (r.get("Email") or "") == email), None)
            action = rng.random()
            if hs_id and (action < 0.4 or not sf):
                hs_post(f"/{hs_id}", {"company": f"HS {word}"}, "patch")
            elif sf and (action < 0.8 or not hs_id):
                boxes.salesforce.ui_edit("Lead" if sf["Id"].startswith("00Q") else "Contact", sf["Id"],
                                         {"Company": f"SF {word}"})
            elif hs_id and sf:  # a conflict: the same field on both sides within a second
                hs_post(f"/{hs_id}", {"firstname": f"H{word}"}, "patch")
                boxes.salesforce.ui_edit("Lead" if sf["Id"].startswith("00Q") else "Contact", sf["Id"],
                                         {"FirstName": f"S{word}"})
            if time.monotonic() >= next_kill:
                if not killed_web and time.monotonic() > end - CHAOS_S / 2:
                    fleet.kill_web()
                    killed_web = True
                else:
                    fleet.kill_worker(rng)
                next_kill = time.monotonic() + rng.uniform(0.5, 2.0)
            time.sleep(0.15)
        assert fleet.kills >= 4, "the run must actually kill processes"

        deadline = time.monotonic() + CONVERGE_S
        problems = _disagreements(boxes)
        while problems and time.monotonic() < deadline:
            time.sleep(1.0)
            problems = _disagreements(boxes)
        assert not problems, problems[:10]
        with engine.connect() as conn:
            refused = conn.execute(select(dead_letters.c.system, dead_letters.c.error_code,
                                          dead_letters.c.message)).all()
            backlog = conn.execute(select(func.count()).select_from(dirty)).scalar_one()
            live = conn.execute(select(func.count()).select_from(leases)).scalar_one()
        assert refused == [], refused[:5]
        enrolled = Counter((e["workflowId"], e.get("contactId") or e.get("email"))
                           for e in boxes.hubspot.state.enrollments)
        assert all(count == 1 for count in enrolled.values()), [k for k, c in enrolled.items() if c > 1][:5]
        keys = Counter(t.get("Nurture_Alert_Key__c") for t in boxes.salesforce.state.records.get("Task", {}).values()
                       if t.get("Nurture_Alert_Key__c"))
        assert all(count == 1 for count in keys.values())
        # The processes' own logs (JSON lines on stderr) must not carry a secret either (tests/secret_scan.py
        # covers this process's records).
        secrets = {name: value for name, value in env.items() if SECRET_NAMES.search(name) and len(value) >= 8
                   and not value.startswith(("/", "http"))}
        logs = list(tmp_path.glob("*.log"))
        assert len(logs) >= 4 and any(f.stat().st_size for f in logs)
        for log_file in logs:
            text_ = log_file.read_text(errors="replace")
            assert not [n for n, v in secrets.items() if v in text_], f"{log_file.name} logged a secret value"
        print(f"chaos: {fleet.kills} kills, backlog at the end {backlog}, leases in flight {live}")
        engine.dispose()
    finally:
        if fleet is not None:
            fleet.stop()
        boxes.stop()


def _sf_create(boxes: Sandboxes, props: dict[str, str]) -> str:
    from simple_salesforce import Salesforce

    box = boxes.salesforce
    api = Salesforce(instance_url=box.instance_url, session_id=box.access_token, session=box.requests_session(),
                     version="59.0")
    for attempt in range(10):  # the faults answer 503 to us too; a person retries
        try:
            return str(api.Lead.create({"Email": props["email"], "FirstName": props["firstname"],
                                        "LastName": props["lastname"], "Company": props["company"]})["id"])
        except Exception:
            if attempt == 9:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")
