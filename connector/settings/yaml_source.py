"""Read YAML keeping where every value came from, so errors can name file:line:column.

PyYAML's composed node tree carries marks; we build plain Python data from it and a table from the
path of each value (("fields", 3, "sync")) to its position. Duplicate keys, which PyYAML silently
lets the last one win, are reported. `${NAME}` and `${NAME:-default}` in strings are replaced from
the environment, and unset names are reported, so one file serves the sandbox and production.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connector.settings.problems import Problem

Path_ = tuple[str | int, ...]
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class YamlDocument:
    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path_) -> tuple[int, int]:
        """Position of the value at path, or of its nearest ancestor that has one."""
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def problem(self, path: Path_, message: str, hint: str = "") -> Problem:
        line, column = self.where(path)
        return Problem(self.file, line, column, message, hint)


def load_yaml(path: Path, display: str | None = None, env: Mapping[str, str] | None = None) -> YamlDocument:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return YamlDocument(name, None, problems=[Problem(name, 1, 1, "file not found", "create it or fix the path")])
    except (OSError, UnicodeDecodeError) as exc:
        return YamlDocument(name, None, problems=[Problem(name, 1, 1, f"cannot read file: {exc}")])
    return parse_yaml(text, name, os.environ if env is None else env)


def parse_yaml(text: str, name: str, env: Mapping[str, str]) -> YamlDocument:
    doc = YamlDocument(name, None)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            # The parser notices late; name where the unclosed construct began, which is usually the mistake.
            construct = exc.context.removeprefix("while parsing ").removeprefix("while scanning ").removeprefix("a ")
            what += (f" (in the {construct} that starts at line {exc.context_mark.line + 1},"
                     f" column {exc.context_mark.column + 1})")
        doc.problems.append(Problem(name, line, column, f"YAML syntax error: {what}", _syntax_hint(what)))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(name, 1, 1, f"YAML error: {exc}"))
        return doc
    doc.data = _build(root, (), doc, env) if root is not None else {}
    return doc


def _syntax_hint(what: str) -> str:
    if "tab" in what:
        return "indent with spaces, not tabs"
    if "mapping values" in what:
        return "a value with ': ' inside must be quoted"
    if "expected <block end>" in what or "could not find expected" in what:
        return "check the indentation and closing quotes or brackets above this line"
    return "check the indentation, quotes and brackets around this position"


def _build(node: yaml.Node, path: Path_, doc: YamlDocument, env: Mapping[str, str]) -> Any:
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            key_pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen:
                doc.problems.append(
                    Problem(doc.file, *key_pos, f"duplicate key {key!r}",
                            f"it is already set at line {seen[key][0]}; keep one")
                )
            seen[key] = key_pos
            result[key] = _build(value_node, (*path, key), doc, env)
            doc.positions[(*path, key)] = key_pos  # point errors about a key at the key itself
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, env) for i, item in enumerate(node.value)]
    value = _scalar(node)
    if isinstance(value, str) and "${" in value:
        value = _interpolate(value, path, doc, env)
    return value


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _interpolate(value: str, path: Path_, doc: YamlDocument, env: Mapping[str, str]) -> Any:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        doc.problems.append(
            doc.problem(path, f"environment variable {name} is not set",
                        f"export {name}=… or write ${{{name}:-default}} in the file")
        )
        return ""

    replaced = _ENV_REF.sub(replace, value)
    # A whole-value reference like port: ${PORT:-8000} should still read as a number.
    if _ENV_REF.fullmatch(value.strip()):
        return yaml.safe_load(replaced) if replaced.strip() else None
    return replaced
