"""Menu entries of queue numbering."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.accounts.navigation import NavItem, register

register(
    NavItem(
        "queueing.windows",
        _("窗口叫号"),
        "queueing:index",
        roles=frozenset({Role.FRONT_DESK, Role.BACK_OFFICE, Role.CENTRE_MANAGER, Role.MEDIATOR, Role.LEADER}),
        order=21,
    )
)
register(
    NavItem(
        "queueing.stats",
        _("排队统计"),
        "queueing:stats",
        roles=frozenset({Role.CENTRE_MANAGER, Role.LEADER}),
        order=61,
    )
)
