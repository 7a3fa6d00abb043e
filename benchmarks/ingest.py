"""Webhook ingest throughput and latency: the real server against a bare Flask app on the same gunicorn settings.

    .venv/bin/python benchmarks/ingest.py [--rounds 3] [--single 12000] [--batches 1500] [--connections 16]

Starts both servers as subprocesses (the real one exactly as `nurture serve` does, with the shipped
app.yaml and a temporary SQLite store), then from this process drives them with keep-alive HTTP/1.1
connections carrying pre-built, validly signed HubSpot requests (every event unique, so every one is
stored). Each round: bare app and real app with single-event requests (closed loop, as fast as they
go), then the real app with 100-event batches; rounds alternate the two apps so that a busy neighbour
on a shared machine slows both alike, and the figures are the medians over the rounds. Last, the real
app open-loop at half its median maximum single-event rate for the p99 ack latency. The load generator
shares the machine's cores with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connector.sandbox.runtime import free_port  # noqa: E402
from webhooks.signatures import sign_hubspot_v3  # noqa: E402

SECRET = "bench-client-secret"
PATH = "/webhooks/hubspot"


# --- the servers -------------------------------------------------------------------------------------------------

def bare_server(port: int, workers: int) -> None:
    """A Flask app that only answers 204, under the same gunicorn options as the real server."""
    from flask import Flask

    from webhooks.server import WebServer, gunicorn_options

    app = Flask("bare")

    @app.post(PATH)
    def hook() -> tuple[str, int]:
        return "", 204

    WebServer(lambda: app, gunicorn_options("127.0.0.1", port, workers)).run()



def start(cmd: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"server did not start: {log.read_text()}")


# --- the requests ------------------------------------------------------------------------------------------------

def event(event_id: int) -> dict[str, object]:
    return {"eventId": event_id, "subscriptionId": 4242, "portalId": 62515, "appId": 54321,
            "occurredAt": 1764000000000 + event_id, "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
            "objectId": 10_000 + event_id % 5000, "propertyName": "lifecyclestage", "propertyValue": "lead",
            "changeSource": "CRM", "sourceId": "userId:123"}


def build(port: int, first_id: int, count: int, per_request: int) -> list[bytes]:
    uri = f"http://127.0.0.1:{port}{PATH}"
    out = []
    for n in range(count):
        start_id = first_id + n * per_request
        body = json.dumps([event(start_id + i) for i in range(per_request)], separators=(",", ":")).encode()
        headers = sign_hubspot_v3(SECRET, "POST", uri, body)
        head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
        out.append(head.encode() + body)
    return out


# --- the load generator ------------------------------------------------------------------------------------------

async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


@dataclass
class Result:
    name: str
    requests: int
    events: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
        return (f"{self.name:<34} {self.requests / self.seconds:>9,.0f} req/s {self.events / self.seconds:>10,.0f}"
                f" events/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  errors {self.errors}")


async def closed_loop(name: str, port: int, raws: list[bytes], connections: int, per_request: int) -> Result:
    queue = list(reversed(raws))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            raw = queue.pop()
            t = time.perf_counter()
            status = await exchange(reader, writer, raw)
            latencies.append(time.perf_counter() - t)
            errors += status >= 300 and status != 204
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    seconds = time.perf_counter() - started
    return Result(name, len(raws), len(raws) * per_request, seconds, latencies, errors)


async def open_loop(name: str, port: int, raws: list[bytes], rate: float, connections: int) -> Result:
    """Requests due at a fixed rate; latency counts from when each was due, so queueing shows."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    errors = 0

    async def one(raw: bytes, due: float) -> None:
        nonlocal errors
        conn = await pool.get()
        status = await exchange(*conn, raw)
        latencies.append(time.perf_counter() - due)
        errors += status >= 300
        pool.put_nowait(conn)

    started = time.perf_counter()
    tasks = []
    for n, raw in enumerate(raws):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    return Result(name, len(raws), len(raws), seconds, latencies, errors)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/real rounds; medians are reported")
    parser.add_argument("--single", type=int, default=12_000, help="single-event requests per phase")
    parser.add_argument("--batches", type=int, default=1_500, help="100-event requests")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server, args.workers)
        return

    tmp = Path(tempfile.mkdtemp(prefix="nurture-bench-"))
    env = {**os.environ, "HUBSPOT_CLIENT_SECRET": SECRET, "SALESFORCE_ORG_ID": "00D5e000000AbCdEAA",
           "NURTURE_ENGAGEMENT_SECRET": "bench", "NURTURE_STORE_URL": f"sqlite:///{tmp / 'store.db'}",
           "HUBSPOT_PORTAL_ID": ""}
    real_port, bare_port = free_port(), free_port()
    processes = [
        start([sys.executable, "-m", "webhooks.server", "--config", str(REPO / "app.yaml"), "--port", str(real_port),
               "--workers", str(args.workers)], env, real_port, tmp / "real.log"),
        start([sys.executable, __file__, "--bare-server", str(bare_port), "--workers", str(args.workers)], env,
              bare_port, tmp / "bare.log"),
    ]
    try:
        from webhooks.server import THREADS

        print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
              f"{args.workers} gunicorn gthread workers x {THREADS} threads, "
              f"{args.connections} keep-alive connections, SQLite store at {tmp}")
        rounds, half = asyncio.run(run(args, real_port, bare_port))
        ratios = []
        for number, (bare, single, batch) in enumerate(rounds, 1):
            ratios.append(single.rate / bare.rate)
            print(f"round {number}: single-event ratio real/bare {ratios[-1]:.2f}")
            for result in (bare, single, batch):
                print("  " + result.line())
        print(half.line())
        bare_rate = statistics.median(r[0].rate for r in rounds)
        single_rate = statistics.median(r[1].rate for r in rounds)
        batch_events = statistics.median(r[2].events / r[2].seconds for r in rounds)
        print(f"median single-event req/s: bare {bare_rate:,.0f}, real {single_rate:,.0f}")
        print(f"single-event throughput ratio real/bare: {single_rate / bare_rate:.2f} of the medians, "
              f"{statistics.median(ratios):.2f} median of the rounds' ratios (goal >= 0.5)")
        print(f"events/s with 100-event batches: {batch_events:,.0f} median (goal >= 50,000)")
        lat = sorted(half.latencies)
        print(f"p99 ack at half the max single-event rate: {lat[int(len(lat) * 0.99)] * 1000:.2f} ms (goal < 50 ms)")
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


async def run(args: argparse.Namespace, real_port: int, bare_port: int) -> tuple[list[list[Result]], Result]:
    n, c = args.single, args.connections
    await closed_loop("warm-up", real_port, build(real_port, 9 * 10**11, 500, 1), c, 1)
    await closed_loop("warm-up", bare_port, build(bare_port, 9 * 10**11, 500, 1), c, 1)
    rounds = []
    for number in range(args.rounds):
        first = number * 10**7  # every event of every round unique
        bare = await closed_loop("bare Flask 204, single event", bare_port, build(bare_port, first, n, 1), c, 1)
        single = await closed_loop("real, single-event requests", real_port, build(real_port, first, n, 1), c, 1)
        batch = await closed_loop("real, 100-event batches", real_port,
                                  build(real_port, 10**9 + first * 100, args.batches, 100), c, 100)
        rounds.append([bare, single, batch])
    rate = statistics.median(r[1].rate for r in rounds) / 2
    half_n = int(min(n, rate * 5))
    half = await open_loop(f"real, open loop at {rate:,.0f} req/s", real_port,
                           build(real_port, 5 * 10**11, half_n, 1), rate, c)
    return rounds, half


if __name__ == "__main__":
    main()
