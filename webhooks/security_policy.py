"""Start-up refusals that keep webhook authentication on (docs/SECURITY.md).

- `web.insecure_dev_mode` (accept unsigned HubSpot and engagement webhooks, for poking at the sandbox with
  curl) is refused unless both CRMs are the local sandbox: no default and no typo turns a check off
  against a real portal.
- A Salesforce outbound message carries no signature; its OrganizationId is no secret. When the CRMs can
  reach us (`web.public_base_url` is not localhost), the outbound path token is required.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from connector.settings import Settings
from connector.settings.problems import ConfigError, Problem
from connector.settings.yaml_source import load_yaml

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _local(url: object) -> bool:
    return url is not None and (urlsplit(str(url)).hostname or "") in LOCAL_HOSTS


def security_problems(settings: Settings) -> list[Problem]:
    app = settings.app
    found: list[tuple[tuple[str, ...], str, str]] = []
    if app.web.insecure_dev_mode and not (_local(app.hubspot.base_url) and _local(app.salesforce.instance_url)):
        found.append((("web", "insecure_dev_mode"),
                      f"web.insecure_dev_mode is on, but the CRMs are not the local sandbox "
                      f"(hubspot.base_url {app.hubspot.base_url}, "
                      f"salesforce.instance_url {app.salesforce.instance_url})",
                      "remove insecure_dev_mode: unsigned webhooks are only ever accepted from the sandbox"))
    public = app.web.public_base_url
    token_env = app.salesforce.outbound_path_token_env
    if app.salesforce.enabled and public is not None and not _local(public) and not (
            token_env and settings.secrets.get(token_env)):
        where = ("salesforce", "outbound_path_token_env") if token_env else ("web", "public_base_url")
        why = (f"the environment variable {token_env} is not set" if token_env
               else "salesforce.outbound_path_token_env is not set")
        found.append((where, f"web.public_base_url is {public}, so Salesforce outbound messages need a path "
                             f"token, but {why}",
                      "set salesforce.outbound_path_token_env: NAME, put a long random value in NAME (e.g. "
                      "`openssl rand -hex 24`), and point the outbound message at /webhooks/salesforce/<token>"))
    if not found:
        return []
    doc = load_yaml(settings.path, display=settings.path.name, env={})
    return [doc.problem(path, message, hint) for path, message, hint in found]


def check_security(settings: Settings) -> None:
    """Raise ConfigError (file:line: what — how) if the webhook edge would start with a check off."""
    problems = security_problems(settings)
    if problems:
        raise ConfigError(problems)
