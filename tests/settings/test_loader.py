"""The config loader: the shipped files pass, and each kind of mistake is reported at its file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector.settings import ConfigError, load_settings


def test_shipped_configuration_loads(config_dir: Path, shipped_env: dict[str, str]) -> None:
    settings = load_settings(config_dir / "app.yaml")
    assert settings.mapping.field_names()[0] == "email"
    assert settings.app.hubspot.base_url.host == "api.hubapi.com"
    assert settings.segments.personas[0].name == "executive_buyer"
    assert set(settings.secret_values()) >= {"test-client-secret-0000", "pat-test-token-0000"}


def test_environment_fills_references(config_dir: Path, shipped_env: dict[str, str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:8101")
    monkeypatch.setenv("NURTURE_PORT", "9001")
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "62515")
    settings = load_settings(config_dir / "app.yaml")
    assert str(settings.app.hubspot.base_url) == "http://127.0.0.1:8101/"
    assert settings.app.web.port == 9001
    assert settings.app.hubspot.portal_id == 62515


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def _line_of(path: Path, needle: str) -> int:
    """The last line holding needle: a duplicate is reported where it repeats."""
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line + "\n"][-1]


# (file to break, text to replace, replacement, a line that should be named, message pattern)
BROKEN = {
    "yaml syntax": ("config/scoring.yaml", "  max: 50\n", "  max: [50\n", "max: [50",
                    r"YAML syntax error: .* \(in the flow sequence that starts at line \d+"),
    "unknown key": ("app.yaml", "  workers: 2\n", "  workers: 2\n  wrokers: 3\n", "wrokers",
                    r"unknown key 'wrokers' — did you mean 'workers'\?"),
    "unknown sync rule": ("mappings/contact.yaml", "    sync: prefer_salesforce_unless_blank\n",
                          "    sync: prefer-salesforce\n", "prefer-salesforce",
                          r"unknown sync rule 'prefer-salesforce' — did you mean 'prefer_salesforce'\? "
                          r"\(valid: .*two_way"),
    "wrong type": ("config/nurture.yaml", "  max_per_week: 2\n", "  max_per_week: twice\n", "max_per_week",
                   r"'max_per_week' must be a whole number, not 'twice'"),
    "duplicate canonical field": ("mappings/contact.yaml", "  - name: first_name\n", "  - name: email\n",
                                  "- name: email\n",
                                  r"canonical field 'email' is mapped twice — it is also mapped at line"),
    "missing file": ("app.yaml", "nurture: config/nurture.yaml", "nurture: config/nurtur.yaml", "nurtur.yaml",
                     r"file 'config/nurtur.yaml' does not exist"),
    "field typo in a rule": ("config/segments.yaml", "field: employees, gte: 1000}", "field: employes, gte: 1000}",
                             "employes", r"unknown field 'employes' — did you mean 'employees'\?"),
    "bad regex": ("config/scoring.yaml", r'matches: "(?i)\\bmanager\\b"', 'matches: "(unclosed"', "(unclosed",
                  r"invalid regular expression"),
    "duplicate yaml key": ("config/alerts.yaml", "sla_hours: 24\n", "sla_hours: 24\nsla_hours: 12\n", "sla_hours: 12",
                           r"duplicate key 'sla_hours'"),
    "two operators": ("config/segments.yaml", "{field: employees, lt: 100}", "{field: employees, lt: 100, gt: 5}",
                      "gt: 5", r"exactly one operator"),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_each_mistake_is_reported_at_its_line(config_dir: Path, shipped_env: dict[str, str],
                                              case: tuple[str, str, str, str, str]) -> None:
    rel, old, new, needle, pattern = case
    _edit(config_dir / rel, old, new)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir / "app.yaml")
    problems = [str(p) for p in caught.value.problems]
    expected_line = _line_of(config_dir / rel, needle)
    matching = [p for p in problems if re.search(pattern, p)]
    assert matching, f"no problem matches {pattern!r}: {problems}"
    assert any(p.startswith(f"{rel}:{expected_line}:") or f"line {expected_line}," in p for p in matching), (
        expected_line, matching)
    assert all(re.match(r"^[\w./-]+:\d+:\d+: ", p) for p in problems)


def test_missing_environment_variable_is_named(config_dir: Path, shipped_env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_CLIENT_SECRET")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir / "app.yaml")
    (problem,) = caught.value.problems
    assert problem.file == "app.yaml"
    assert problem.line == _line_of(config_dir / "app.yaml", "client_secret_env: HUBSPOT")
    assert "HUBSPOT_CLIENT_SECRET is not set" in problem.message


def test_unset_reference_without_default_is_named(config_dir: Path, shipped_env: dict[str, str]) -> None:
    _edit(config_dir / "app.yaml", "${NURTURE_STORE_URL:-sqlite:///nurture.db}", "${NURTURE_STORE_URL_X}")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir / "app.yaml")
    assert any("NURTURE_STORE_URL_X is not set" in str(p) for p in caught.value.problems)


def test_every_problem_is_reported_at_once(config_dir: Path, shipped_env: dict[str, str]) -> None:
    _edit(config_dir / "app.yaml", "  workers: 2\n", "  workers: many\n")
    _edit(config_dir / "mappings/contact.yaml", "    sync: two_way\n", "    sync: both\n")
    _edit(config_dir / "config/alerts.yaml", "priority: High", "priority: Urgent")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir / "app.yaml")
    files = {p.file for p in caught.value.problems}
    assert files == {"app.yaml", "mappings/contact.yaml", "config/alerts.yaml"}


def test_secrets_file_supplies_secrets(config_dir: Path, shipped_env: dict[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    (config_dir / "secrets.env").write_text("# comment\nexport HUBSPOT_ACCESS_TOKEN='from-file-token'\n")
    _edit(config_dir / "app.yaml", "logging:\n", "secrets_file: secrets.env\nlogging:\n")
    settings = load_settings(config_dir / "app.yaml")
    assert settings.secrets.get("HUBSPOT_ACCESS_TOKEN") == "from-file-token"
    assert "from-file-token" in settings.secret_values()


def test_removed_match_key_and_bad_default_are_file_line_errors(config_dir: Path, shipped_env: dict[str, str]) -> None:
    """Issue 10, item 8: `match:` did nothing, so it is refused where it is written, with the reason; a `default`
    that is not a key of `values` is refused too."""
    path = config_dir / "mappings" / "contact.yaml"
    text = path.read_text().replace("\nfields:\n", "\nmatch: [email, phone]\nfields:\n", 1)
    text = text.replace("      CONSTRUCTION: Construction\n", "      CONSTRUCTION: Construction\n    default: NOPE\n")
    path.write_text(text)
    match_line = text.splitlines().index("match: [email, phone]") + 1
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir / "app.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"mappings/contact.yaml:{match_line}:") and "`match:` is not supported" in p
               for p in problems), problems
    assert any("`default` 'NOPE' is not a key of `values`" in p for p in problems), problems
