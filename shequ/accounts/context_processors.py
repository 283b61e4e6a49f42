from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import items_for
from .scoping import active_assignments


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "my_assignments": []}
    return {"nav_items": items_for(user), "my_assignments": active_assignments(user)}
