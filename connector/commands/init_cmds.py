"""`nurture init [DIR]`: a starter app.yaml, mappings/ and config/, from flags or questions.

Questions are asked only on a terminal; without one (CI, a script, `< /dev/null`) init takes the flags and
the defaults and never waits. The rule files are the shipped, commented samples; app.yaml is written from
the answers. Its output validates with `nurture validate` once the named environment variables are set.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from connector.commands.common import EXIT_FAILURE, EXIT_USAGE, fail

REPO = Path(__file__).resolve().parents[2]  # the checkout `pip install -e .` points at
FLOWS = ("password", "client_credentials", "refresh_token", "session")
FLOW_ENV = {"password": ("client_id_env", "client_secret_env", "username_env", "password_env"),
            "client_credentials": ("client_id_env", "client_secret_env"),
            "refresh_token": ("client_id_env", "client_secret_env", "refresh_token_env"),
            "session": ("access_token_env",)}
DEFAULT_ENV = {"client_id_env": "SALESFORCE_CLIENT_ID", "client_secret_env": "SALESFORCE_CLIENT_SECRET",
               "username_env": "SALESFORCE_USERNAME", "password_env": "SALESFORCE_PASSWORD",
               "refresh_token_env": "SALESFORCE_REFRESH_TOKEN", "access_token_env": "SALESFORCE_ACCESS_TOKEN"}


@dataclass
class Answers:
    name: str
    hubspot: bool
    salesforce: bool
    public_url: str | None
    hubspot_token_env: str
    hubspot_secret_env: str
    salesforce_url: str
    flow: str
    store_url: str


def app_yaml(a: Answers) -> str:
    auth = "\n".join(f"    {key}: {DEFAULT_ENV[key]}" for key in FLOW_ENV[a.flow])
    public = f"{a.public_url}" if a.public_url else "${NURTURE_PUBLIC_URL:-}"
    return f"""# yaml-language-server: $schema=schemas/app.schema.json
# The installation manifest, written by `nurture init`. Values like ${{NAME:-default}} come from the
# environment; secrets are never written here, only the names of the variables that hold them (*_env).
# Next: export the variables named below, then `nurture validate`, `nurture preflight`, `nurture install`.
name: {a.name}

hubspot:
  enabled: {str(a.hubspot).lower()}
  base_url: ${{HUBSPOT_BASE_URL:-https://api.hubapi.com}}
  portal_id: ${{HUBSPOT_PORTAL_ID:-}}                # webhooks from other portals are refused
  access_token_env: {a.hubspot_token_env}       # private app token (scopes: `nurture preflight` lists them)
  client_secret_env: {a.hubspot_secret_env}     # the app's client secret; comma-separate two to rotate
  signature_versions: [v3]
  rate_limit: {{per_10s: 190, daily: 625000, share: 0.8}}

salesforce:
  enabled: {str(a.salesforce).lower()}
  instance_url: ${{SALESFORCE_INSTANCE_URL:-{a.salesforce_url}}}
  # sign-in: login.salesforce.com for production orgs, test.salesforce.com for Salesforce sandboxes
  token_url: ${{SALESFORCE_TOKEN_URL:-https://login.salesforce.com/services/oauth2/token}}
  api_version: "59.0"
  ca_bundle: ${{SALESFORCE_CA_BUNDLE:-}}           # only for the sandbox's self-signed certificate
  auth:
    flow: {a.flow}                              # session | password | client_credentials | refresh_token
{auth}
  org_ids_env: SALESFORCE_ORG_ID                # outbound messages from other orgs are refused
  daily_api_share: 0.8

objects:
  hubspot: [contacts]
  salesforce: [Lead, Contact]

store:
  url: ${{NURTURE_STORE_URL:-{a.store_url}}}        # sqlite:///file.db or postgresql://user@host/db

web:
  host: ${{NURTURE_HOST:-127.0.0.1}}
  port: ${{NURTURE_PORT:-8000}}
  workers: 2
  max_body_bytes: 1048576
  trusted_proxies: 0                            # how many proxies' X-Forwarded-* headers to trust
  public_base_url: {public}     # the https address the CRMs call

engagement:
  sources:
    - name: default
      secret_env: NURTURE_ENGAGEMENT_SECRET
  tolerance_s: 300

worker:
  batch_size: 100
  lease_s: 600
  poll_interval_s: 300

paths:
  mappings: mappings/contact.yaml
  scoring: config/scoring.yaml
  segments: config/segments.yaml
  lifecycle: config/lifecycle.yaml
  nurture: config/nurture.yaml
  alerts: config/alerts.yaml

logging:
  level: INFO
  format: auto
"""


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(interactive: bool, value: object, prompt: str, default: object, **kwargs: object) -> object:
    if value is not None or not interactive:
        return default if value is None else value
    return click.prompt(prompt, default=default, **kwargs)  # type: ignore[arg-type]


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--name", default=None, help="A name for this installation.")
@click.option("--hubspot/--no-hubspot", "hubspot", default=None, help="Sync HubSpot (default: yes).")
@click.option("--salesforce/--no-salesforce", "salesforce", default=None, help="Sync Salesforce (default: yes).")
@click.option("--public-url", default=None, help="The https address the CRMs will call (web.public_base_url).")
@click.option("--hubspot-token-env", default=None, help="Variable holding the HubSpot private app token.")
@click.option("--hubspot-secret-env", default=None, help="Variable holding the HubSpot app's client secret.")
@click.option("--salesforce-url", default=None, help="https://yourorg.my.salesforce.com")
@click.option("--auth-flow", default=None, type=click.Choice(FLOWS), help="Salesforce sign-in flow.")
@click.option("--store-url", default=None, help="Default: sqlite:///nurture.db beside app.yaml.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(directory: str, name: str | None, hubspot: bool | None, salesforce: bool | None, public_url: str | None,
         hubspot_token_env: str | None, hubspot_secret_env: str | None, salesforce_url: str | None,
         auth_flow: str | None, store_url: str | None, force: bool) -> None:
    """Write a starter app.yaml, mappings/ and config/ into DIR (default: here). Asks on a terminal; without
    one, takes the flags and defaults and never waits for input."""
    interactive = stdin_is_terminal()
    target = Path(directory)
    samples = [REPO / "mappings", REPO / "config"]
    if not all(p.is_dir() for p in samples):
        fail(f"init copies the sample rules from the project checkout ({REPO}), which is not there — install "
             "with `pip install -e .` from a clone", EXIT_FAILURE)
    existing = [p for p in (target / "app.yaml", target / "mappings", target / "config") if p.exists()]
    if existing and not force:
        fail(f"{', '.join(str(p) for p in existing)} already exist(s) — pass --force to overwrite", EXIT_USAGE)
    answers = Answers(
        name=str(_ask(interactive, name, "Installation name", "Nurture Connector")),
        hubspot=bool(_ask(interactive, hubspot, "Sync HubSpot?", True, type=bool)),
        salesforce=bool(_ask(interactive, salesforce, "Sync Salesforce?", True, type=bool)),
        public_url=str(_ask(interactive, public_url, "Public https URL the CRMs call (blank: set later)", "",
                            show_default=False)) or None,
        hubspot_token_env=str(_ask(interactive, hubspot_token_env, "Variable for the HubSpot token",
                                   "HUBSPOT_ACCESS_TOKEN")),
        hubspot_secret_env=str(_ask(interactive, hubspot_secret_env, "Variable for the HubSpot client secret",
                                    "HUBSPOT_CLIENT_SECRET")),
        salesforce_url=str(_ask(interactive, salesforce_url, "Salesforce instance URL",
                                "https://yourorg.my.salesforce.com")),
        flow=str(_ask(interactive, auth_flow, "Salesforce sign-in flow", "password", type=click.Choice(FLOWS))),
        store_url=str(_ask(interactive, store_url, "Store URL", "sqlite:///nurture.db")),
    )
    target.mkdir(parents=True, exist_ok=True)
    (target / "app.yaml").write_text(app_yaml(answers), encoding="utf-8")
    for sample in samples:
        shutil.copytree(sample, target / sample.name, dirs_exist_ok=True)
    from connector.settings.json_schema import write_schemas

    write_schemas(target / "schemas")
    click.echo(f"wrote {target / 'app.yaml'}, {target / 'mappings'}/, {target / 'config'}/, {target / 'schemas'}/")
    from connector.settings.app_config import SalesforceAuth

    names = [answers.hubspot_token_env, answers.hubspot_secret_env] if answers.hubspot else []
    if answers.salesforce:
        names += [getattr(SalesforceAuth(), key) for key in FLOW_ENV[answers.flow]] + ["SALESFORCE_ORG_ID"]
    names.append("NURTURE_ENGAGEMENT_SECRET")
    click.echo("next: export " + " ".join(f"{n}=…" for n in names))
    click.echo(f"then: nurture --config {target / 'app.yaml'} validate, then preflight, then install")
