"""Load app.yaml and every file it names, check them together, and report every problem at once."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connector.settings.alerts_config import AlertsConfig
from connector.settings.app_config import AppConfig, Paths
from connector.settings.conditions import (
    AllCondition,
    AnyCondition,
    EventCondition,
    FieldCondition,
    NotCondition,
)
from connector.settings.lifecycle_config import LifecycleConfig
from connector.settings.mapping_config import MappingConfig
from connector.settings.nurture_config import NurtureConfig
from connector.settings.problems import ConfigError, Problem, suggest
from connector.settings.pydantic_errors import problems_from
from connector.settings.scoring_config import ScoringConfig
from connector.settings.secrets import Secrets
from connector.settings.segments_config import SegmentsConfig
from connector.settings.semantic import semantic_problems
from connector.settings.yaml_source import Path_, YamlDocument, load_yaml

M = TypeVar("M", bound=BaseModel)

# Values the brain computes, usable in conditions beside the mapped fields.
BRAIN_FIELDS = (
    "score", "fit_score", "engagement_score", "persona", "segments", "journey_stage", "lifecycle_stage",
    "content_interactions", "touches_sent", "track", "owner_id", "salesforce_type", "lead_status",
    "is_converted", "has_opportunity", "is_customer", "unsubscribed", "bounced", "email_valid",
)

# The rule files app.yaml points at, with the model each must satisfy.
RULE_FILES: dict[str, type[BaseModel]] = {
    "mappings": MappingConfig,
    "scoring": ScoringConfig,
    "segments": SegmentsConfig,
    "lifecycle": LifecycleConfig,
    "nurture": NurtureConfig,
    "alerts": AlertsConfig,
}


@dataclass(frozen=True)
class Settings:
    """Everything an admin configured, validated; the single object the rest of the connector reads."""

    path: Path
    app: AppConfig
    mapping: MappingConfig
    scoring: ScoringConfig
    segments: SegmentsConfig
    lifecycle: LifecycleConfig
    nurture: NurtureConfig
    alerts: AlertsConfig
    secrets: Secrets

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def store_url(self) -> str:
        """The store URL with a relative SQLite path taken from app.yaml's folder, not from wherever a
        process was started: the webhook server and the worker must open the same file."""
        url = self.app.store.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            return f"sqlite:///{self.root / url[len('sqlite:///'):]}"
        return url

    def secret_values(self) -> list[str]:
        """Every secret value this configuration can reach, so logs can redact them."""
        values: list[str] = []
        for name in _env_names(self.app):
            values.extend(self.secrets.get_list(name))
            values.append(self.secrets.get(name) or "")
        return [v for v in values if v]


def _env_names(node: BaseModel) -> Iterator[str]:
    for name in type(node).model_fields:
        value = getattr(node, name)
        if name.endswith("_env") and isinstance(value, str):
            yield value
        elif isinstance(value, BaseModel):
            yield from _env_names(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, BaseModel):
                    yield from _env_names(item)


def load_settings(
    path: str | Path = "app.yaml", env: Mapping[str, str] | None = None, check_env: bool = True
) -> Settings:
    """Raise ConfigError with every problem, or return Settings. Never raises anything else for bad config."""
    env = os.environ if env is None else env
    app_path = Path(path)
    display_root = app_path.parent
    problems: list[Problem] = []

    app_doc = load_yaml(app_path, _display(app_path, display_root), env)
    app = _validate(app_doc, AppConfig, problems)
    if app is None and app_doc.data is None:
        raise ConfigError(problems)
    # Even when app.yaml has mistakes, check the rule files too, so the admin sees every problem at once.
    paths = app.paths if app is not None else _paths_or_default(app_doc.data)

    docs: dict[str, YamlDocument] = {}
    models: dict[str, Any] = {}
    for key, model in RULE_FILES.items():
        rel = getattr(paths, key)
        file_path = app_path.parent / rel
        if not file_path.is_file():
            problems.append(app_doc.problem(("paths", key), f"file {rel!r} does not exist",
                                            f"create it or point paths.{key} at an existing file"))
            continue
        docs[key] = load_yaml(file_path, _display(file_path, display_root), env)
        models[key] = _validate(docs[key], model, problems)

    problems.extend(_cross_checks(models, docs))
    problems.extend(semantic_problems(app, app_doc, models, docs))
    if app is None:
        raise ConfigError(problems)
    secrets_file = None
    if app.secrets_file:
        secrets_file = app_path.parent / app.secrets_file
        if not secrets_file.is_file():
            problems.append(app_doc.problem(("secrets_file",), f"secrets file {app.secrets_file!r} does not exist",
                                            "create it or remove secrets_file"))
            secrets_file = None
    secrets = Secrets(env, secrets_file)
    if check_env:
        problems.extend(_missing_secrets(app, app_doc, secrets))

    if problems:
        raise ConfigError(problems)
    return Settings(app_path.resolve(), app, models["mappings"], models["scoring"], models["segments"],
                    models["lifecycle"], models["nurture"], models["alerts"], secrets)


def _paths_or_default(data: Any) -> Paths:
    try:
        return Paths.model_validate(data.get("paths", {}) if isinstance(data, dict) else {})
    except ValidationError:
        return Paths()


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) if str(root) not in ("", ".") else str(path)
    except ValueError:
        return str(path)


def _validate(doc: YamlDocument, model: type[M], problems: list[Problem]) -> M | None:
    problems.extend(doc.problems)
    if doc.problems and doc.data is None:
        return None
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "the file must be a mapping of keys to values",
                                    "start with top-level keys like `fields:`"))
        return None
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, doc, model))
        return None
    return None if doc.problems else result


def _missing_secrets(app: AppConfig, doc: YamlDocument, secrets: Secrets) -> Iterator[Problem]:
    needed: list[tuple[Path_, str, str]] = []
    if app.hubspot.enabled:
        needed += [(("hubspot", "access_token_env"), app.hubspot.access_token_env, "HubSpot API calls"),
                   (("hubspot", "client_secret_env"), app.hubspot.client_secret_env, "HubSpot webhook signatures")]
    if app.salesforce.enabled:
        needed += [(("salesforce", "auth"), name, f"Salesforce sign-in ({app.salesforce.auth.flow})")
                   for name in app.salesforce.auth.required_env()]
        needed.append((("salesforce", "org_ids_env"), app.salesforce.org_ids_env, "Salesforce outbound messages"))
    needed += [(("engagement", "sources", i, "secret_env"), s.secret_env, f"engagement source {s.name!r}")
               for i, s in enumerate(app.engagement.sources)]
    for path, name, purpose in needed:
        if not secrets.is_set(name):
            yield doc.problem(path, f"environment variable {name} is not set (needed for {purpose})",
                              f"export {name}=… or add it to the secrets file")


def _cross_checks(models: dict[str, Any], docs: dict[str, YamlDocument]) -> Iterator[Problem]:
    """Checks across files, run on whichever files validated on their own."""
    mapping: MappingConfig | None = models.get("mappings")
    if mapping is None:
        return
    mdoc = docs["mappings"]
    first_seen: dict[str, int] = {}
    for i, field in enumerate(mapping.fields):
        if field.name in first_seen:
            line = mdoc.where(("fields", first_seen[field.name], "name"))[0]
            yield mdoc.problem(("fields", i, "name"), f"canonical field {field.name!r} is mapped twice",
                               f"it is also mapped at line {line}; merge the two entries")
        else:
            first_seen[field.name] = i
    known = set(first_seen) | set(BRAIN_FIELDS)
    for i, field in enumerate(mapping.fields):
        if field.values is not None:  # so a picklist problem can say where to add the value
            field.locate_values(f"{mdoc.file}:{mdoc.where(('fields', i, 'values'))[0]}")
    for key, model in models.items():
        if model is None:
            continue
        for path, cond in _conditions(model, ()):
            if isinstance(cond, FieldCondition) and path[-1] != "where" and cond.field not in known:
                yield docs[key].problem((*path, "field"), f"unknown field {cond.field!r}", suggest(cond.field, known))
    yield from _name_references(models, docs)


def _name_references(models: dict[str, Any], docs: dict[str, YamlDocument]) -> Iterator[Problem]:
    segments: SegmentsConfig | None = models.get("segments")
    lifecycle: LifecycleConfig | None = models.get("lifecycle")
    nurture: NurtureConfig | None = models.get("nurture")
    if segments is None or lifecycle is None or nurture is None:
        return
    personas = [p.name for p in segments.personas]
    stages = [s.name for s in lifecycle.journey]
    if segments.default_persona and segments.default_persona not in personas:
        yield docs["segments"].problem(("default_persona",), f"unknown persona {segments.default_persona!r}",
                                       suggest(segments.default_persona, personas))
    for i, track in enumerate(nurture.tracks):
        for j, name in enumerate(track.for_.personas or []):
            if name not in personas:
                yield docs["nurture"].problem(("tracks", i, "for", "personas", j), f"unknown persona {name!r}",
                                              suggest(name, personas))
        for j, name in enumerate(track.for_.stages or []):
            if name not in stages:
                yield docs["nurture"].problem(("tracks", i, "for", "stages", j), f"unknown journey stage {name!r}",
                                              suggest(name, stages))


def _conditions(node: Any, path: Path_) -> Iterator[tuple[Path_, Any]]:
    """Every condition inside a config model, with its YAML path."""
    if isinstance(node, FieldCondition | EventCondition):
        yield path, node
        if isinstance(node, EventCondition) and node.where is not None:
            yield (*path, "where"), node.where
        return
    if isinstance(node, AllCondition | AnyCondition):
        key = "all" if isinstance(node, AllCondition) else "any"
        for i, child in enumerate(getattr(node, key)):
            yield from _conditions(child, (*path, key, i))
        return
    if isinstance(node, NotCondition):
        yield from _conditions(node.not_, (*path, "not"))
        return
    if isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            yield from _conditions(getattr(node, name), (*path, field.alias or name))
    elif isinstance(node, list | tuple):
        for i, child in enumerate(node):
            yield from _conditions(child, (*path, i))
