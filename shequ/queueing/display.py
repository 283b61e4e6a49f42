"""What the hall display shows: one JSON-ready state of a centre, built in a fixed number of
queries however many windows and tickets there are.

The state holds ticket numbers and window numbers only: no names, no phone numbers. The display
page renders it on the server for the first paint and the long-poll hands the same dict to the
page's script for every update.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.places.models import Place

from . import services
from .choices import TicketStatus
from .models import ServiceCategory, Ticket, Window, WindowSession

RECENT_CALLS = 8

# Window states, in the order a resident cares about them.
CALLING = "calling"  # a number is called and the resident should come
SERVING = "serving"  # the resident is at the window
IDLE = "idle"  # a clerk is signed in, nobody called
CLOSED = "closed"  # nobody signed in


def centre_with_windows(code: str) -> Place | None:
    """The centre (a street) with this code, if it has any window at all."""
    return (
        Place.objects.filter(code=code)
        .filter(Exists(Window.objects.filter(centre=OuterRef("pk"))))
        .only("pk", "code", "name")
        .first()
    )


def window_label(number: int) -> str:
    return _("%(number)s 号窗口") % {"number": number}


def _state_labels() -> dict[str, str]:
    return {CALLING: _("叫号中"), SERVING: _("办理中"), IDLE: _("空闲"), CLOSED: _("暂停服务")}


def build_state(centre: Place, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The display's state of `centre` today. The version is read first, so a change that lands
    while the state is being built makes the next long-poll answer at once."""
    version = services.display_version(centre.code)
    now = now or timezone.now()
    day = timezone.localdate(now)
    labels = _state_labels()

    windows = list(
        Window.objects.filter(centre=centre, is_active=True)
        .annotate(staffed=Exists(WindowSession.objects.filter(window=OuterRef("pk"), ended_at__isnull=True)))
        .order_by("number")
        .only("pk", "number", "name")
    )
    current: dict[int, Ticket] = {}
    for open_ticket in (
        Ticket.objects.filter(
            centre_code=centre.code,
            day=day,
            status__in=[TicketStatus.CALLED, TicketStatus.SERVING],
            window__isnull=False,
        )
        .order_by("called_at", "id")
        .only("pk", "number", "status", "window_id", "called_at", "recalls")
    ):
        assert open_ticket.window_id is not None
        current[open_ticket.window_id] = open_ticket  # the latest call wins should a window hold two

    window_rows: list[dict[str, Any]] = []
    for window in windows:
        staffed = bool(window.staffed)  # type: ignore[attr-defined]
        ticket = current.get(window.pk) if staffed else None
        if not staffed:
            state = CLOSED
        elif ticket is None:
            state = IDLE
        else:
            state = CALLING if ticket.status == TicketStatus.CALLED else SERVING
        window_rows.append(
            {
                "number": window.number,
                "label": window_label(window.number),
                "state": state,
                "state_label": labels[state],
                "ticket": ticket.number if ticket is not None else "",
            }
        )

    calls: list[dict[str, Any]] = []
    recent: list[dict[str, Any]] = []
    for called in (
        Ticket.objects.filter(centre_code=centre.code, day=day, called_at__isnull=False, window__isnull=False)
        .select_related("window")
        .order_by("-called_at", "-id")
        .only("pk", "number", "called_at", "recalls", "window__number")[:RECENT_CALLS]
    ):
        assert called.window is not None and called.called_at is not None
        time = timezone.localtime(called.called_at).strftime("%H:%M")
        calls.append(
            {
                "id": called.pk,
                "number": called.number,
                "window": called.window.number,
                "called_at": called.called_at.isoformat(),
                "time": time,
                "recalls": called.recalls,
            }
        )
        recent.append(
            {
                "number": called.number,
                "window": called.window.number,
                "window_label": window_label(called.window.number),
                "time": time,
            }
        )

    categories = list(
        ServiceCategory.objects.filter(centre=centre, is_active=True)
        .order_by("sort_order", "prefix")
        .only("pk", "prefix", "name")
    )
    counts: dict[int, int] = dict(
        Ticket.objects.filter(centre_code=centre.code, day=day, status=TicketStatus.WAITING)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting = [{"prefix": c.prefix, "name": c.name, "count": counts.get(c.pk, 0)} for c in categories]

    return {
        "version": version,
        "now": now.isoformat(),
        "centre": {"code": centre.code, "name": centre.name},
        "windows": window_rows,
        "recent": recent,
        "calls": calls,
        "waiting": waiting,
        "waiting_total": sum(counts.get(c.pk, 0) for c in categories),
    }
