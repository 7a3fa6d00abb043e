"""Turn pydantic's validation errors into Problems an admin can act on, at the YAML position."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, Tag, ValidationError

from connector.settings.problems import Problem, suggest
from connector.settings.yaml_source import Path_, YamlDocument

# What a misspelt value is, named after the key that holds it.
_VALUE_NAMES = {
    "sync": "sync rule",
    "transform": "transform",
    "type": "field type",
    "channel": "channel",
    "flow": "auth flow",
    "stage": "lifecycle stage",
    "back_to": "lifecycle stage",
    "priority": "priority",
    "target": "target CRM",
    "signature_versions": "signature version",
    "deletions": "deletion policy",
    "level": "log level",
    "format": "log format",
}

_CONDITION_TAGS = ("field", "event", "all", "any", "not")

_TYPE_HINTS = {
    "int_parsing": ("a whole number", "write it like 50"),
    "int_type": ("a whole number", "write it like 50"),
    "int_from_float": ("a whole number", "drop the decimals"),
    "float_parsing": ("a number", "write it like 2.5"),
    "float_type": ("a number", "write it like 2.5"),
    "bool_parsing": ("true or false", "write true or false"),
    "bool_type": ("true or false", "write true or false"),
    "string_type": ("text", "quote it, like \"value\""),
    "list_type": ("a list", "write it as [a, b] or as lines starting with '- '"),
    "dict_type": ("a mapping", "write it as key: value lines"),
    "model_type": ("a mapping", "write it as key: value lines"),
    "model_attributes_type": ("a mapping", "write it as key: value lines"),
    "url_parsing": ("a URL", "write it like https://host.example.com"),
    "url_scheme": ("an http(s) URL", "start it with https://"),
    "tuple_type": ("a list", "write it as [a, b]"),
}


def problems_from(error: ValidationError, doc: YamlDocument, model: type[BaseModel]) -> list[Problem]:
    problems: list[Problem] = []
    seen_paths: set[Path_] = set()
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _yaml_path(doc.data, loc)
        if path in seen_paths and err["type"] != "extra_forbidden":
            continue  # a union reports one error per member; the first says enough
        seen_paths.add(path)
        message, hint = _describe(err, loc, model)
        problems.append(doc.problem(path, message, hint))
    return problems


def _yaml_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """Walk the data along pydantic's loc, skipping union tags and member names that are not in the data."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        following = loc[i + 1] if i + 1 < len(loc) else None
        if isinstance(node, dict) and part in _CONDITION_TAGS and following in node:
            continue  # the discriminator's tag, not a key: {field: x, bogus: 1} -> ('field', 'bogus')
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        # Otherwise a missing key or a union member's name: the error belongs at the parent.
    return tuple(path)


def _describe(err: Any, loc: tuple[Any, ...], model: type[BaseModel]) -> tuple[str, str]:
    kind = err["type"]
    key = next((p for p in reversed(loc) if isinstance(p, str) and not p[:1].isupper()), "value")
    value = err.get("input")
    if kind == "extra_forbidden":
        valid = _valid_keys(model, loc[:-1])
        return f"unknown key {loc[-1]!r}", suggest(str(loc[-1]), valid) if valid else "remove it"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}", f"add {loc[-1]}: …"
    if kind in ("literal_error", "enum"):
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        what = _VALUE_NAMES.get(str(key), f"value for {key!r}")
        return f"unknown {what} {value!r}", suggest(str(value), expected)
    if kind in _TYPE_HINTS:
        wanted, hint = _TYPE_HINTS[kind]
        return f"{key!r} must be {wanted}, not {value!r}", hint
    if kind == "union_tag_not_found" or kind == "condition_kind":
        return "not a condition", "a condition starts with one of: field, event, all, any, not"
    msg = str(err.get("msg", kind))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if " — " in msg:
        message, hint = msg.split(" — ", 1)
        return f"{key}: {message}", hint
    return f"{key!r}: {msg[:1].lower() + msg[1:]}", "see `nurture schema` for what this key accepts"


def _valid_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    target: Any = model
    for part in loc:
        target = _step(target, part)
        if target is None:
            return []
    target = _unwrap_to_model(target)
    if target is None:
        return []
    return [field.alias or name for name, field in target.model_fields.items()]


def _step(tp: Any, part: Any) -> Any:
    tp = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        for raw in typing.get_args(tp):  # a discriminated union's loc names the member by its Tag
            tags = [m.tag for m in getattr(raw, "__metadata__", ()) if isinstance(m, Tag)]
            if part in tags:
                return _strip_annotated(raw)
        members = [_strip_annotated(m) for m in typing.get_args(tp)]
        for member in members:  # a tag in the loc names the member directly
            if isinstance(member, type) and issubclass(member, BaseModel) and part in (
                member.__name__, *_keys_of(member)
            ):
                return member if part == member.__name__ else _step(member, part)
        return None
    if origin in (list, tuple):
        return typing.get_args(tp)[0] if isinstance(part, int) else None
    if origin is dict:
        return typing.get_args(tp)[1]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    return None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _unwrap_to_model(tp: Any) -> type[BaseModel] | None:
    tp = _strip_annotated(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    if typing.get_origin(tp) in (Union, types.UnionType):
        models = [m for m in map(_strip_annotated, typing.get_args(tp)) if isinstance(m, type)
                  and issubclass(m, BaseModel)]
        return models[0] if len(models) == 1 else None
    return None
