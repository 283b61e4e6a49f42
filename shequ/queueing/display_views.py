"""Public screens of the hall: the TV display, its long-poll, the rating tablet at a window and
the rating page (reached from the tablet or by the ticket's QR code).

None of them needs a login and none of them shows a name or a phone number: the display shows
ticket and window numbers, the tablet and the rating page the ticket number only.

The display long-polls `display_state`: the request waits until the centre's display version
(bumped by every call, recall, finish, sign-in …) moves past `since`, re-checking every
`POLL_INTERVAL` seconds for at most `LONG_POLL_SECONDS`. Each waiting display holds one server
thread, so serve the app with threads (gunicorn `--threads`, granian) rather than a handful of
sync workers. The tablet polls its own page every few seconds instead (see tablet.html).
"""

from __future__ import annotations

import datetime as dt
import time

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from shequ.places.models import Place
from shequ.workorders.choices import Channel, RatingLevel

from . import display as display_state_builder
from . import services
from .choices import TicketStatus
from .models import Ticket, Window

LONG_POLL_SECONDS = 20.0
POLL_INTERVAL = 0.2
TABLET_POLL_SECONDS = 4
RATE_RETURN_SECONDS = 5
RATE_MAX_AGE = dt.timedelta(days=7)


def _levels() -> list[dict[str, object]]:
    """The five rating levels, best first, each with its stars (★★★☆☆) for the buttons."""
    return [
        {"value": value, "label": label, "stars": "★" * value + "☆" * (5 - value)}
        for value, label in RatingLevel.choices
    ]


def _centre_or_404(centre_code: str) -> Place:
    centre = display_state_builder.centre_with_windows(centre_code)
    if centre is None:
        raise Http404
    return centre


@require_GET
@never_cache
def display(request: HttpRequest, centre_code: str) -> HttpResponse:
    """The hall TV: the current call at each window, the recent calls and the waiting counts."""
    centre = _centre_or_404(centre_code)
    state = display_state_builder.build_state(centre)
    zh = (get_language() or "zh-hans").lower().startswith("zh")
    return render(
        request,
        "queueing/display.html",
        {
            "centre": centre,
            "state": state,
            "long_poll_seconds": LONG_POLL_SECONDS,
            "speech_lang": "zh-CN" if zh else "en-US",
        },
    )


@require_GET
@never_cache
def display_state(request: HttpRequest, centre_code: str) -> HttpResponse:
    """The display's state as JSON. With `?since=<version>` the answer waits until the version
    differs (or `LONG_POLL_SECONDS` pass, then the unchanged state comes back)."""
    centre = _centre_or_404(centre_code)
    since_raw = request.GET.get("since", "")
    try:
        since: int | None = int(since_raw) if since_raw else None
    except ValueError:
        since = None
    if since is not None:
        deadline = time.monotonic() + LONG_POLL_SECONDS
        while services.display_version(centre.code) == since and time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)
    state = display_state_builder.build_state(centre)
    return JsonResponse(state, json_dumps_params={"ensure_ascii": False})


# ------------------------------------------------------------------------------------ tablet


def _ticket_to_rate(window: Window, now: dt.datetime | None = None) -> Ticket | None:
    """The window's most recently finished ticket, if it finished in the last 30 minutes and is
    not rated yet."""
    now = now or timezone.now()
    latest = (
        Ticket.objects.filter(
            window=window, status=TicketStatus.DONE, finished_at__gte=now - services.RATING_WINDOW
        )
        .order_by("-finished_at", "-id")
        .only("pk", "number", "token", "rating", "finished_at")
        .first()
    )
    return latest if latest is not None and latest.rating is None else None


@require_GET
@never_cache
def tablet(request: HttpRequest, centre_code: str, window_number: int) -> HttpResponse:
    """The rating tablet at a window: a welcome, or the just-finished ticket and five buttons.
    `?partial=1` answers only the panel, for the page's own poll."""
    window = get_object_or_404(
        Window.objects.select_related("centre"), centre__code=centre_code, number=window_number
    )
    ticket = _ticket_to_rate(window)
    context = {
        "window": window,
        "centre": window.centre,
        "ticket": ticket,
        "levels": _levels(),
        "poll_seconds": TABLET_POLL_SECONDS,
        "partial": bool(request.GET.get("partial")),
    }
    return render(request, "queueing/tablet.html", context)


# ------------------------------------------------------------------------------------ rating


def _tablet_url(ticket: Ticket) -> str:
    if ticket.window is None:
        return ""
    return reverse(
        "queueing:tablet",
        kwargs={"centre_code": ticket.centre_code, "window_number": ticket.window.number},
    )


@require_http_methods(["GET", "POST"])
@never_cache
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """好差评 of one visit: GET shows the ticket number and the five levels, POST records one."""
    ticket = get_object_or_404(Ticket.objects.select_related("window", "category"), token=token)
    from_tablet = request.POST.get("channel") == Channel.COUNTER or request.GET.get("from") == "tablet"
    back = reverse("queueing:rate", kwargs={"token": token}) + ("?from=tablet" if from_tablet else "")
    if request.method == "POST":
        channel = Channel.COUNTER if request.POST.get("channel") == Channel.COUNTER else Channel.APP
        try:
            level = int(request.POST.get("level", ""))
        except ValueError:
            level = 0
        try:
            services.rate_ticket(
                ticket=ticket, level=level, comment=request.POST.get("comment", "")[:500], channel=channel
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                messages.error(request, message)
        return redirect(back)  # the page itself thanks for a recorded rating

    now = timezone.now()
    if ticket.rating is not None:
        stage = "rated"
    elif ticket.status != TicketStatus.DONE or ticket.finished_at is None:
        stage = "not_finished"
    elif now - ticket.finished_at > RATE_MAX_AGE:
        stage = "expired"
    else:
        stage = "open"
    rating_label = RatingLevel(ticket.rating).label if ticket.rating in RatingLevel.values else ""
    return render(
        request,
        "queueing/rate.html",
        {
            "ticket": ticket,
            "stage": stage,
            "rating_label": rating_label,
            "levels": _levels(),
            "from_tablet": from_tablet,
            "tablet_url": _tablet_url(ticket) if from_tablet else "",
            "return_seconds": RATE_RETURN_SECONDS,
        },
    )
