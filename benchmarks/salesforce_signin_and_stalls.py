"""Sign-in cost per flow, and how long a stalled Salesforce call holds a worker.

    .venv/bin/python benchmarks/salesforce_signin_and_stalls.py [--rounds 20]

Sign-in: median wall time of one token request (JWT: signing the RS256 assertion included) against
the sandbox over HTTPS. Stalls: one read through the adapter while the sandbox holds a share of calls
unanswered (hang_rate 0.5, seed 13: the first call hangs), for a few read timeouts; without a
timeout the same call would wait the whole hang (30 s here) before the retry.
"""

from __future__ import annotations

import argparse
import statistics
import time

from connector.crm.salesforce import Credentials, SalesforceClient
from connector.crm.salesforce_auth import request_token
from connector.crm.timed_session import TimedSession
from connector.sandbox.salesforce.testing import CLIENT_ID, CLIENT_SECRET, PASSWORD, TOKEN, USERNAME, start_sandbox


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    sb = start_sandbox()
    try:
        session = TimedSession(5, 30)
        session.verify, session.trust_env = str(sb.ca_bundle), False
        base = {"token_url": sb.token_url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "username": USERNAME, "password": PASSWORD, "refresh_token": sb.refresh_token,
                "private_key": str(sb.jwt_private_key_file)}
        print("sign-in (median of", args.rounds, "token requests)")
        for flow in ("jwt", "client_credentials", "refresh_token", "password"):
            times = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                request_token(session, Credentials(flow=flow, **base), session.timeout)
                times.append(time.perf_counter() - started)
            print(f"  {flow:<20} {statistics.median(times) * 1000:7.1f} ms")
        lead = SalesforceClient(sb.instance_url, Credentials(flow="session", token_url=sb.token_url,
                                                             access_token=TOKEN), ca_bundle=str(sb.ca_bundle))
        lead_id = lead.sdk.Lead.create({"LastName": "Bench", "Company": "B", "Email": "bench@example.com"})["id"]
        print("a read whose first call stalls (hung 30 s by the sandbox)")
        for read_timeout in (0.5, 2.0, 5.0):
            sb.faults.update({"hang_s": 30, "hang_rate": 0.5, "seed": 13})
            client = SalesforceClient(sb.instance_url, Credentials(flow="session", token_url=sb.token_url,
                                                                   access_token=TOKEN),
                                      ca_bundle=str(sb.ca_bundle), timeout_s=read_timeout, max_wait_s=0.5)
            started = time.perf_counter()
            client.read("Lead", [lead_id], ["Email"])
            print(f"  read timeout {read_timeout:>4} s -> done in {time.perf_counter() - started:5.2f} s")
            sb.faults.clear()
    finally:
        sb.stop()


if __name__ == "__main__":
    main()
