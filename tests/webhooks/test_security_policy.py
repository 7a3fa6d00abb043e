"""Webhook checks cannot be turned off by accident; the outbound path token is required when public."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from pydantic import HttpUrl
from webhook_helpers import REPO, Store, env_for, hubspot_event, with_app

from connector.settings import Settings, load_settings
from connector.settings.problems import ConfigError
from webhooks.security_policy import security_problems

SANDBOX = {"hubspot": {"base_url": HttpUrl("http://127.0.0.1:8101")},
           "salesforce": {"instance_url": HttpUrl("https://127.0.0.1:8102")}}


def test_insecure_dev_mode_is_refused_against_real_crms(make_app: Callable[..., Flask], settings: Settings) -> None:
    real = with_app(settings, web={"insecure_dev_mode": True},
                    salesforce={"instance_url": HttpUrl("https://acme.my.salesforce.com")})
    with pytest.raises(ConfigError) as error:
        make_app(real)
    message = str(error.value)
    assert message.startswith("app.yaml:") and "insecure_dev_mode is on" in message and "remove" in message


def test_insecure_dev_mode_against_the_sandbox_accepts_unsigned_events(make_app: Callable[..., Flask],
                                                                        settings: Settings, store: Store) -> None:
    dev = with_app(with_app(settings, **SANDBOX), web={"insecure_dev_mode": True})
    client = make_app(dev).test_client()
    response = client.post("/webhooks/hubspot", json=[hubspot_event(1)])
    assert response.status_code == 200 and store.inbox() == 1
    # ... and without it, the same unsigned request is refused.
    plain = make_app(with_app(settings, **SANDBOX)).test_client()
    assert plain.post("/webhooks/hubspot", json=[hubspot_event(2)]).status_code == 401


@pytest.mark.parametrize(("public", "token", "refused"), [
    ("https://connector.acme.example", None, True),
    ("https://connector.acme.example", "s3cr3t-path-token-0123456789", False),
    ("http://localhost:8000", None, False),
    (None, None, False),
])
def test_the_outbound_path_token_is_required_when_public(tmp_path: Path, store_url: str, public: str | None,
                                                          token: str | None, refused: bool) -> None:
    text = re.sub(r"  public_base_url: .*\n", "", (REPO / "app.yaml").read_text())  # set here, or not at all
    if public:
        text = text.replace("  trusted_proxies: 0\n", f"  trusted_proxies: 0\n  public_base_url: {public}\n")
    (tmp_path / "app.yaml").write_text(text)
    for sub in ("mappings", "config"):
        (tmp_path / sub).symlink_to(REPO / sub)
    extra = {"SALESFORCE_OUTBOUND_TOKEN": token} if token else {}
    settings = load_settings(tmp_path / "app.yaml", env=env_for(store_url, **extra), check_env=False)
    problems = security_problems(settings)
    assert bool(problems) is refused
    if refused:
        (problem,) = problems
        line = text.splitlines()[problem.line - 1]
        assert "outbound_path_token_env" in line, "the error points at the line to fix"
        assert "SALESFORCE_OUTBOUND_TOKEN is not set" in problem.message and "openssl rand" in problem.hint
