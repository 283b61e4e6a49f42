"""Menu entries of grid management."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.accounts.navigation import NavItem, register

from .scopes import CENTRES, LOOP

register(
    NavItem("grid.report", _("网格上报"), "grid:report", roles=frozenset({Role.GRID_INSPECTOR}), order=30)
)
register(NavItem("grid.cases", _("网格案件"), "grid:cases", roles=frozenset(LOOP), order=31))
register(NavItem("grid.map", _("网格地图"), "grid:map", roles=frozenset(LOOP), order=32))
register(NavItem("grid.evaluation", _("网格考核"), "grid:evaluation", roles=frozenset(CENTRES), order=61))
register(NavItem("grid.components", _("城市部件"), "grid:components", roles=frozenset(CENTRES), order=62))
register(NavItem("grid.classes", _("部件事项分类"), "grid:classes", roles=frozenset(CENTRES), order=63))
register(NavItem("grid.apikeys", _("Open311 密钥"), "grid:apikeys", roles=frozenset(CENTRES), order=64))
register(
    NavItem(
        "grid.intake", _("代为登记"), "grid:intake", roles=frozenset({Role.SUPERVISION_OPERATOR}), order=33
    )
)
