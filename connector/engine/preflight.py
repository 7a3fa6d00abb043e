"""Preflight: connect to each CRM and check, before anything runs, everything the configuration assumes.

Each check is one line of a checklist with its fix. The full run (`nurture preflight`) also asks about ids,
the public webhook URL and API headroom; the cheap part (`cheap=True`: credentials, mapped fields and
write-back properties exist) runs when `serve` and `worker` start, so a worker never dead-letters every
write because a property is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from connector.crm.errors import CrmError
from connector.engine.clients import Clients
from connector.settings import Settings

# What a first backfill costs, per record, at the batch sizes the engine uses (an upper bound: every
# record read once, and written once on each side).
HUBSPOT_PAGE, HUBSPOT_BATCH = 200, 100
SALESFORCE_PAGE, SALESFORCE_BATCH = 2000, 200


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    fix: str = ""
    skipped: bool = False  # could not be checked here (nothing configured to check); not a failure

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def passed(name: str, message: str) -> Check:
    return Check(name, True, message)


def failed(name: str, message: str, fix: str) -> Check:
    return Check(name, False, message, fix)


def skipped(name: str, message: str, fix: str = "") -> Check:
    return Check(name, True, message, fix, skipped=True)


def run_preflight(settings: Settings, clients: Clients, cheap: bool = False) -> list[Check]:
    from connector.engine.preflight_hubspot import hubspot_checks
    from connector.engine.preflight_salesforce import salesforce_checks

    checks: list[Check] = []
    counts: dict[str, int] = {}
    app = settings.app
    if app.hubspot.enabled:
        token = settings.secrets.require(app.hubspot.access_token_env, "HubSpot")
        checks += _guarded("hubspot", lambda: hubspot_checks(settings, clients.hubspot, token, cheap, counts))
    if app.salesforce.enabled:
        checks += _guarded("salesforce", lambda: salesforce_checks(settings, clients.salesforce, cheap, counts))
    if not cheap:
        checks.append(webhook_url_check(settings))
        checks += budget_checks(settings, clients, counts)
    return checks


def _guarded(crm: str, run: Callable[[], Iterator[Check]]) -> list[Check]:
    """Collect a CRM's checks; a CRM that stops answering midway becomes one failed check, not a traceback."""
    checks: list[Check] = []
    try:
        for check in run():
            checks.append(check)
    except CrmError as exc:
        checks.append(failed(f"{crm}: reachable", f"{crm} stopped answering: {exc}",
                             "check the base URL and network, then run preflight again"))
    return checks


def webhook_url_check(settings: Settings) -> Check:
    import requests

    base = settings.app.web.public_base_url
    if base is None:
        return skipped("web: public webhook URL", "web.public_base_url is not set, so it was not called",
                       "set web.public_base_url (NURTURE_PUBLIC_URL) to the https address the CRMs call")
    url = f"{str(base).rstrip('/')}/healthz"
    try:
        response = requests.get(url, timeout=10)
    except requests.RequestException as exc:
        return failed("web: public webhook URL", f"{url} did not answer: {type(exc).__name__}",
                      "start `nurture serve` and make that address reach it (DNS, TLS proxy, firewall)")
    if response.status_code != 200:
        return failed("web: public webhook URL", f"{url} answered HTTP {response.status_code}",
                      "point the proxy at `nurture serve`; /healthz answers 200 when it is up")
    return passed("web: public webhook URL", f"{url} answers 200")


def budget_checks(settings: Settings, clients: Clients, counts: dict[str, int]) -> list[Check]:
    """API headroom on both CRMs, against the calls a first backfill of every record would cost."""
    from connector.crm.hubspot_schema import HubSpotSchema
    from connector.crm.salesforce_schema import SalesforceSchema

    app = settings.app
    total = sum(counts.values())
    checks: list[Check] = []
    if app.hubspot.enabled and "hubspot" in counts:
        cost = math.ceil(counts["hubspot"] / HUBSPOT_PAGE) + 2 * math.ceil(total / HUBSPOT_BATCH)
        try:
            usage = HubSpotSchema(clients.hubspot).daily_usage()
        except CrmError as exc:
            usage = None
            checks.append(skipped("hubspot: API usage", f"usage not read: {exc}"))
        limit = usage.limit if usage else app.hubspot.rate_limit.daily
        used = usage.used if usage else 0
        checks.append(_headroom("hubspot", limit, used, app.hubspot.rate_limit.share, cost,
                                "" if usage else " (usage not reported; assuming none used today)"))
    if app.salesforce.enabled and "salesforce" in counts:
        cost = len(settings.mapping.salesforce.objects) + math.ceil(counts["salesforce"] / SALESFORCE_PAGE) \
            + math.ceil(total / SALESFORCE_BATCH)
        try:
            limit, remaining = SalesforceSchema(clients.salesforce).daily_api()
        except CrmError as exc:
            return [*checks, failed("salesforce: API usage", f"limits not read: {exc}", "check the connection")]
        checks.append(_headroom("salesforce", limit, limit - remaining, app.salesforce.daily_api_share, cost, ""))
    return checks


def _headroom(crm: str, limit: int, used: int, share: float, cost: int, note: str) -> Check:
    allowed = int(limit * share) - used
    message = (f"{used:,} of {limit:,} daily calls used; this connector may spend {allowed:,} more today "
               f"({share:.0%} share); a first backfill costs about {cost:,}{note}")
    if cost > allowed:
        return failed(f"{crm}: API headroom", message,
                      "run the backfill in parts (`nurture backfill --limit N`) over several days, or raise the share")
    return passed(f"{crm}: API headroom", message)


def summary(checks: list[Check]) -> tuple[int, int, int]:
    """(passed, failed, skipped)."""
    bad = sum(1 for c in checks if not c.ok)
    skip = sum(1 for c in checks if c.skipped)
    return len(checks) - bad - skip, bad, skip
