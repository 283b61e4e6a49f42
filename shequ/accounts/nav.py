from django.utils.translation import gettext_lazy as _

from .navigation import NavItem, register
from .scopes import MANAGERS

register(NavItem("home", _("工作台"), "core:home", order=0))
register(NavItem("staff", _("工作人员"), "accounts:staff", roles=frozenset(MANAGERS), order=80))
register(NavItem("tokens", _("API 令牌"), "accounts:tokens", order=95))
