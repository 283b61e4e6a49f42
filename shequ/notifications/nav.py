"""What this app adds to the shell: the "消息" menu entry and the unread panel on the home page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shequ.accounts.navigation import NavItem, register
from shequ.core.home import Panel, register_panel

from . import selectors, services

PANEL_SIZE = 5


def _unread_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.is_authenticated:
        return None
    items = selectors.newest_unread(user, limit=PANEL_SIZE)  # type: ignore[arg-type]
    if not items:
        return None
    # Fewer than a full panel means that is all of them: no count query needed.
    count = len(items) if len(items) < PANEL_SIZE else services.unread_count(user)  # type: ignore[arg-type]
    return {"unread_count": count, "items": items}


register(NavItem("notifications", _("消息"), "notifications:inbox", order=5))
register_panel(
    Panel(
        key="notifications.unread",
        template="notifications/partials/home_panel.html",
        build=_unread_panel,
        order=10,
    )
)
