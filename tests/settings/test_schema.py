"""`nurture schema` output validates the shipped YAML, rejects mistakes, and the committed copy is current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from connector.settings.json_schema import schemas

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {
    "app": "app.yaml",
    "mappings": "mappings/contact.yaml",
    "scoring": "config/scoring.yaml",
    "segments": "config/segments.yaml",
    "lifecycle": "config/lifecycle.yaml",
    "nurture": "config/nurture.yaml",
    "alerts": "config/alerts.yaml",
}


@pytest.mark.parametrize("name", SHIPPED)
def test_schema_validates_shipped_file(name: str) -> None:
    data = yaml.safe_load((REPO / SHIPPED[name]).read_text())
    jsonschema.validate(data, schemas()[name])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_points_editors_at_its_schema(name: str) -> None:
    first = (REPO / SHIPPED[name]).read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (REPO / SHIPPED[name]).parent / first.split("$schema=", 1)[1]
    assert target.resolve() == (REPO / "schemas" / f"{name}.schema.json").resolve()


def test_committed_schemas_are_current(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from connector.cli import cli

    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in SHIPPED:
        fresh = json.loads((tmp_path / f"{name}.schema.json").read_text())
        committed = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text())
        assert fresh == committed, f"schemas/{name}.schema.json is stale: run `make schema`"


def test_schema_rejects_unknown_sync_rule() -> None:
    data = yaml.safe_load((REPO / "mappings/contact.yaml").read_text())
    data["fields"][0]["sync"] = "two-way"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schemas()["mappings"])


def test_schema_rejects_unknown_key() -> None:
    data = yaml.safe_load((REPO / "app.yaml").read_text())
    data["web"]["wrokers"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schemas()["app"])
