"""Navigation by role. Each module adds its entries with `register`; the shell shows a user
the entries one of their roles (or superuser status) opens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise

from .scoping import user_roles


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    roles: frozenset[str] = field(default_factory=frozenset)  # empty = every signed-in staff user
    order: int = 100
    superuser_only: bool = False

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_ITEMS: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _ITEMS[item.key] = item


def items_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    roles = user_roles(user)
    visible: Iterable[NavItem] = (
        item
        for item in _ITEMS.values()
        if user.is_superuser or (not item.superuser_only and (not item.roles or roles & item.roles))
    )
    return sorted(visible, key=lambda item: (item.order, item.key))
