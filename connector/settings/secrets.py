"""Secrets come from the environment or a secrets file, never from the YAML; and they can be listed for redaction."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class MissingSecret(Exception):
    """A secret the running configuration needs is not set. The message names the variable, never a value."""


class Secrets:
    def __init__(self, env: Mapping[str, str] | None = None, secrets_file: Path | None = None) -> None:
        self._file_values = _read_secrets_file(secrets_file) if secrets_file else {}
        self._env = os.environ if env is None else env

    def get(self, name: str | None) -> str | None:
        if not name:
            return None
        value = self._env.get(name) or self._file_values.get(name)
        return value or None

    def require(self, name: str, purpose: str) -> str:
        value = self.get(name)
        if value is None:
            raise MissingSecret(f"{purpose} needs the environment variable {name} — export {name}=… "
                                f"or add it to the secrets file")
        return value

    def get_list(self, name: str | None) -> list[str]:
        """A comma-separated secret: several values let an admin rotate without downtime."""
        raw = self.get(name) or ""
        return [part.strip() for part in raw.split(",") if part.strip()]

    def is_set(self, name: str) -> bool:
        return self.get(name) is not None


def _read_secrets_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values
