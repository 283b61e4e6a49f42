"""Menu entry of the resident database."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shequ.accounts.navigation import NavItem, register

from .scopes import READERS

register(NavItem("people.search", _("人口信息"), "people:search", roles=frozenset(READERS), order=30))
