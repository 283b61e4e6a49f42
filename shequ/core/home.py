"""Panels of the staff home page (工作台). Modules register a panel; the page shows those that
return a context for the current user (None hides the panel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    build: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def home_panels(request: HttpRequest) -> list[tuple[Panel, dict[str, Any]]]:
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        context = panel.build(request)
        if context is not None:
            shown.append((panel, context))
    return shown
