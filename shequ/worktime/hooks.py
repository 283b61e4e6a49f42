"""What this app adds to the shell: a menu entry and an alert panel on the staff home page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shequ.accounts.choices import STAFF_ROLES
from shequ.accounts.navigation import NavItem, register
from shequ.core.home import Panel, register_panel

from .alerts import calendar_alerts


def _alerts_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Only superusers can enter a schedule, so only they are nagged about a missing one."""
    if not getattr(request.user, "is_superuser", False):
        return None
    alerts = calendar_alerts()
    return {"alerts": alerts} if alerts else None


register(
    NavItem(
        key="worktime.calendar",
        label=_("工作日历"),
        url_name="worktime:calendar",
        roles=STAFF_ROLES,
        order=900,
    )
)
register_panel(
    Panel(key="worktime.alerts", template="worktime/partials/alerts_panel.html", build=_alerts_panel, order=5)
)
