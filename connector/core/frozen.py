"""Building frozen slots dataclasses on the hot path.

The generated __init__ of a frozen dataclass sets each field through object.__setattr__, a detour that
costs about twice a direct slot write. The brain builds several such results per contact, so it builds
them here instead: the same frozen object, each field set through its slot descriptor, in field order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def slot_builder(cls: type[T]) -> Callable[..., T]:
    """A positional constructor for `cls` (a frozen dataclass with slots), arguments in field order."""
    setters = tuple(cls.__dict__[f.name].__set__ for f in fields(cls))  # type: ignore[arg-type]
    new = object.__new__

    def build(*values: Any) -> T:
        obj = new(cls)
        for setter, value in zip(setters, values, strict=True):
            setter(obj, value)
        return obj

    return build
