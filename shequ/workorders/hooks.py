"""What the engine adds to the shell: the inbox menu entry, a home panel, the calendar hook."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import STAFF_ROLES
from shequ.accounts.navigation import NavItem, register
from shequ.core.home import Panel, register_panel
from shequ.worktime.registry import register_recompute

from .services import recompute_provisional

register(NavItem("workorders.inbox", _("待办工单"), "workorders:inbox", roles=STAFF_ROLES, order=10))
register_recompute(recompute_provisional)


def _inbox_panel(request: HttpRequest) -> dict[str, Any] | None:
    from .selectors import inbox_summary

    summary = inbox_summary(request.user)
    return summary if summary["total"] else None


register_panel(
    Panel(
        key="workorders.inbox", template="workorders/partials/home_panel.html", build=_inbox_panel, order=10
    )
)
