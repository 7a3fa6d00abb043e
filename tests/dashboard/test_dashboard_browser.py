"""The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no browser download):
login, every page with real data from a simulated run and no console errors, contact search, dead-letter
replay, CSRF and login enforcement, no request leaving the machine; a screenshot of each page is saved
under test-artifacts/dashboard/."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select

from connector.demo.stack import DemoStack
from connector.store.models import contacts, dead_letters

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = [("health", "/dashboard", "#dead-letters"), ("funnel", "/dashboard/funnel", "#funnel"),
         ("cohorts", "/dashboard/cohorts", "#cohorts"), ("tracks", "/dashboard/tracks", "#ab"),
         ("contacts", "/dashboard/contacts", "#contacts"), ("activity", "/dashboard/activity", "#activity")]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: run `make browser` (apt-get install chromium) to run the browser "
                    "tests; they never download a browser")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[test]'")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield instance
        instance.close()


class Watch:
    """Everything a page asks for and complains about."""

    def __init__(self, page: object, base: str) -> None:
        self.base = urlsplit(base)
        self.foreign: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)  # type: ignore[attr-defined]
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: self.errors.append(str(e)))  # type: ignore[attr-defined]

    def _request(self, request: object) -> None:
        url = urlsplit(request.url)  # type: ignore[attr-defined]
        if url.scheme != "data" and (url.hostname, url.port) != (self.base.hostname, self.base.port):
            self.foreign.append(request.url)  # type: ignore[attr-defined]


@pytest.fixture
def page(browser: object, demo: DemoStack) -> Iterator[tuple[object, Watch]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    watch = Watch(page, demo.base_url)
    yield page, watch
    context.close()
    assert watch.foreign == [], f"requests left the machine: {watch.foreign}"
    assert watch.errors == [], f"console errors: {watch.errors}"


def login(page: object, demo: DemoStack) -> None:
    page.goto(f"{demo.base_url}/dashboard/login")  # type: ignore[attr-defined]
    page.fill("input[name=password]", demo.env["NURTURE_ADMIN_TOKEN"])  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/dashboard/?$"))  # type: ignore[attr-defined]


def test_unauthenticated_pages_redirect_to_login(page: tuple[object, Watch], demo: DemoStack) -> None:
    p, _ = page
    p.goto(f"{demo.base_url}/dashboard/tracks")  # type: ignore[attr-defined]
    assert urlsplit(p.url).path == "/dashboard/login"  # type: ignore[attr-defined]
    p.fill("input[name=password]", "not-the-token")  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    assert "Wrong password" in p.inner_text("form.login")  # type: ignore[attr-defined]
    p.fill("input[name=password]", demo.env["NURTURE_ADMIN_TOKEN"])  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(re.compile(r".*/dashboard/tracks$"))  # back where the admin was going  # type: ignore[attr-defined]


def test_every_page_renders_real_data_without_errors(page: tuple[object, Watch], demo: DemoStack) -> None:
    p, _ = page
    login(p, demo)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path, selector in PAGES:
        response = p.goto(f"{demo.base_url}{path}")  # type: ignore[attr-defined]
        assert response.status == 200, name
        p.wait_for_selector(selector)  # type: ignore[attr-defined]
        p.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    # real numbers from the simulated run, not empty tables
    p.goto(f"{demo.base_url}/dashboard/funnel?since=1y")  # type: ignore[attr-defined]
    lead = p.locator("#funnel tbody tr", has_text="lead").first  # type: ignore[attr-defined]
    assert int(lead.locator("td").nth(2).inner_text()) > 0  # entered the funnel in the period
    charts = p.evaluate("Array.from(document.querySelectorAll('canvas')).map(c => !!Chart.getChart(c))")  # type: ignore[attr-defined]
    assert charts and all(charts)
    p.goto(f"{demo.base_url}/dashboard/tracks?since=1y")  # type: ignore[attr-defined]
    ab = p.inner_text("#ab")  # type: ignore[attr-defined]
    assert "welcome_subject" in ab and "control" in ab
    sent = p.locator("#tracks tbody tr", has_text="welcome").first.locator("td").nth(8).inner_text()  # type: ignore[attr-defined]
    assert int(sent) > 0
    p.goto(f"{demo.base_url}/dashboard/activity?action=task")  # type: ignore[attr-defined]
    assert p.locator("#activity tbody tr td", has_text="task").count() > 0  # sales tasks from the story  # type: ignore[attr-defined]


def test_search_a_contact_and_open_its_page(page: tuple[object, Watch], demo: DemoStack) -> None:
    p, _ = page
    with demo.engine.connect() as conn:
        email = conn.execute(select(contacts.c.email).where(contacts.c.brain["track"].as_string().is_not(None))
                             .limit(1)).scalar_one()
    login(p, demo)
    p.goto(f"{demo.base_url}/dashboard/contacts")  # type: ignore[attr-defined]
    p.fill("input[name=q]", email.split("@")[0])  # type: ignore[attr-defined]
    p.click("form.search button")  # type: ignore[attr-defined]
    p.click(f"#contacts a:text-is('{email}')")  # type: ignore[attr-defined]
    p.wait_for_selector("#explain")  # type: ignore[attr-defined]
    explain = p.inner_text("#explain")  # type: ignore[attr-defined]
    assert explain.startswith("score ") and "track:" in explain
    assert p.locator("#touches tbody tr").count() >= 1  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "contact.png"), full_page=True)  # type: ignore[attr-defined]


def test_replay_a_dead_letter_and_refuse_a_csrf_less_post(page: tuple[object, Watch], demo: DemoStack) -> None:
    p, _ = page
    with demo.engine.begin() as conn:
        row = conn.execute(select(contacts.c.id, contacts.c.hubspot_id).where(contacts.c.hubspot_id.is_not(None))
                           .limit(1)).one()
        letter = conn.execute(insert(dead_letters).values(
            created_at=datetime.now(UTC), contact_id=row.id, system="hubspot", object_type="contact",
            object_id=row.hubspot_id, operation="update", payload={"jobtitle": "x" * 300}, error_code="INVALID",
            message="Property values were not valid")).inserted_primary_key[0]
    login(p, demo)
    refused = p.request.post(f"{demo.base_url}/dashboard/dead-letters/{letter}/replay")  # type: ignore[attr-defined]
    assert refused.status == 400 and "CSRF" in refused.text()
    p.goto(f"{demo.base_url}/dashboard")  # type: ignore[attr-defined]
    p.locator("#dead-letters tr", has_text="Property values were not valid").locator("button").click()  # type: ignore[attr-defined]
    p.wait_for_selector(".flash")  # type: ignore[attr-defined]
    assert "marked for the worker" in p.inner_text(".flash")  # type: ignore[attr-defined]
    with demo.engine.connect() as conn:
        assert conn.execute(select(dead_letters.c.resolved_at).where(dead_letters.c.id == letter)).scalar() is not None


def test_webhooks_stay_outside_the_login_and_metrics_sum_the_workers(demo: DemoStack) -> None:
    # no session: a webhook is judged by its signature, never redirected to a login page
    unsigned = requests.post(f"{demo.base_url}/webhooks/engagement", json={"id": "x"}, timeout=5,
                             allow_redirects=False)
    assert unsigned.status_code == 401
    text = requests.get(f"{demo.base_url}/metrics", timeout=5).text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    accepted = sum(v for (n, labels), v in samples.items() if n == "nurture_webhook_requests_total"
                   and ("source", "engagement") in labels and ("outcome", "accepted") in labels)
    assert accepted >= 5  # the player's batches, summed over both gunicorn workers' files
    assert sum(v for (n, _), v in samples.items() if n == "nurture_audit_actions_total") > 0
