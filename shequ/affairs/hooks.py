"""Menu entries of the acceptance centre."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.accounts.navigation import NavItem, register

register(
    NavItem(
        "affairs.desk",
        _("前台受理"),
        "affairs:desk",
        roles=frozenset({Role.FRONT_DESK, Role.CENTRE_MANAGER}),
        order=20,
    )
)
register(
    NavItem(
        "affairs.inquiries",
        _("首问登记"),
        "affairs:inquiries",
        roles=frozenset({Role.FRONT_DESK, Role.CENTRE_MANAGER, Role.LEADER}),
        order=22,
    )
)
register(NavItem("affairs.catalogue", _("事项目录"), "catalogue:list", order=25))
register(
    NavItem(
        "affairs.stats",
        _("受理统计"),
        "affairs:stats",
        roles=frozenset({Role.CENTRE_MANAGER, Role.LEADER}),
        order=60,
    )
)
