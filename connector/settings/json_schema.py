"""JSON Schemas of the config files, for editors (yaml-language-server) and for tests.

A value may be written as ${ENV_NAME} or ${ENV_NAME:-default} anywhere; the schema allows that string
wherever it expects a number or a boolean, so an editor does not flag the shipped app.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector.settings.app_config import AppConfig
from connector.settings.loader import RULE_FILES

ENV_REFERENCE = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"}


def schemas() -> dict[str, dict[str, Any]]:
    """File stem -> JSON Schema, e.g. 'app' for app.yaml, 'scoring' for config/scoring.yaml."""
    models = {"app": AppConfig, **RULE_FILES}
    result = {}
    for name, model in models.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"Nurture Connector {name} configuration"
        result[name] = _allow_env_references(schema)
    return result


def write_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = out_dir / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _allow_env_references(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _allow_env_references(v) for k, v in node.items()}
        if node.get("type") in ("integer", "number", "boolean") and "anyOf" not in node:
            typed = {k: v for k, v in node.items() if k not in ("title", "description", "default")}
            rest = {k: v for k, v in node.items() if k in ("title", "description", "default")}
            return {**rest, "anyOf": [typed, ENV_REFERENCE]}
        return node
    if isinstance(node, list):
        return [_allow_env_references(v) for v in node]
    return node
