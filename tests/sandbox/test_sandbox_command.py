"""`nurture sandbox` as an admin runs it: config lines on stdout, both servers up, Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests

from connector.sandbox.runtime import free_port

EXPECTED = {"HUBSPOT_BASE_URL", "HUBSPOT_ACCESS_TOKEN", "HUBSPOT_CLIENT_SECRET", "HUBSPOT_PORTAL_ID",
            "SALESFORCE_INSTANCE_URL", "SALESFORCE_TOKEN_URL", "SALESFORCE_CA_BUNDLE", "SALESFORCE_ORG_ID",
            "SALESFORCE_ACCESS_TOKEN", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET", "SALESFORCE_USERNAME",
            "SALESFORCE_PASSWORD", "NURTURE_ENGAGEMENT_SECRET"}


def test_sandbox_prints_config_lines_serves_and_stops_on_ctrl_c() -> None:
    hs_port, sf_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--hubspot-port", str(hs_port), "--salesforce-port",
         str(sf_port), "--seed", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = dict(process.stdout.readline().strip().split("=", 1) for _ in EXPECTED)  # type: ignore[union-attr]
        assert set(lines) == EXPECTED
        assert lines["HUBSPOT_BASE_URL"] == f"http://127.0.0.1:{hs_port}"
        headers = {"Authorization": f"Bearer {lines['HUBSPOT_ACCESS_TOKEN']}"}
        page = requests.get(f"{lines['HUBSPOT_BASE_URL']}/crm/v3/objects/contacts?limit=100", headers=headers,
                            timeout=10).json()
        assert len(page["results"]) == 10  # half of the seeded people
        assert requests.get(f"{lines['HUBSPOT_BASE_URL']}/crm/v3/objects/contacts", timeout=10).status_code == 401
        token = requests.post(lines["SALESFORCE_TOKEN_URL"], verify=lines["SALESFORCE_CA_BUNDLE"], timeout=10, data={
            "grant_type": "password", "client_id": lines["SALESFORCE_CLIENT_ID"],
            "client_secret": lines["SALESFORCE_CLIENT_SECRET"], "username": lines["SALESFORCE_USERNAME"],
            "password": lines["SALESFORCE_PASSWORD"]})
        assert token.status_code == 200 and token.json()["instance_url"] == lines["SALESFORCE_INSTANCE_URL"]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
    assert code == 0
    assert "sandbox stopped" in process.stderr.read()  # type: ignore[union-attr]
