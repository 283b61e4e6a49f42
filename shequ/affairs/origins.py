"""Where a desk acceptance came from: a queue ticket today, a hotline call or a grid report later.

The desk stays ignorant of those modules. Each registers an origin kind with two functions: one
that pre-fills the desk form for this clerk (or refuses, returning None), and one that links the
new case back once it is accepted. The desk carries the origin as ``kind:key`` in a hidden field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shequ.workorders.models import WorkOrder


@dataclass(frozen=True)
class Origin:
    kind: str
    label: Callable[[str, Any], str | None]
    """A short text for the desk banner (e.g. "排队号 A012"), or None if the clerk may not use it."""
    prefill: Callable[[str, Any], dict[str, Any]]
    link: Callable[[str, Any, WorkOrder], None]
    """Called after the case is accepted; may raise ValidationError/ConflictError/PermissionDenied."""


_ORIGINS: dict[str, Origin] = {}


def register_origin(origin: Origin) -> None:
    _ORIGINS[origin.kind] = origin


def resolve(value: str, user: Any) -> tuple[Origin, str, str] | None:
    """(origin, key, banner label) for a ``kind:key`` value this user may use, else None."""
    kind, _sep, key = (value or "").partition(":")
    origin = _ORIGINS.get(kind)
    if origin is None or not key:
        return None
    label = origin.label(key, user)
    return None if label is None else (origin, key, label)
