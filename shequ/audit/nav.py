from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import Role
from shequ.accounts.navigation import NavItem, register

register(
    NavItem(
        "audit_changes",
        _("变更日志"),
        "audit:changes",
        roles=frozenset({Role.LEADER, Role.CENTRE_MANAGER}),
        order=90,
    )
)
register(NavItem("audit_access", _("访问日志"), "audit:access", roles=frozenset({Role.LEADER}), order=91))
