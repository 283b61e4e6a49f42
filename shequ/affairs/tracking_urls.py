"""The public tracking pages under /track/ (no login): the web page and the kiosk layout.

GET shows the form (``?number=`` prefills the case number: the QR code on the receipt points
there); POST looks the case up, so the phone digits never land in a URL, a proxy log or the
kiosk's browser history. The logic lives in `tracking.py`, shared with the API.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import tracking


def _page(request: HttpRequest, template: str) -> HttpResponse:
    context: dict[str, Any] = {
        "number": tracking.normalise_number(request.GET.get("number", ""))[:24],
        "errors": {},
        "message": "",
        "status": None,
        "focus": "number",
    }
    if context["number"]:
        context["focus"] = "phone"  # prefilled from the receipt's QR code: the digits come next
    http_status = 200
    if request.method == "POST":
        number = request.POST.get("number", "")
        context["number"] = tracking.normalise_number(number)[:24]
        context["focus"] = "number"
        try:
            case = tracking.lookup(request, number, request.POST.get("phone4", ""))
        except ValidationError as exc:
            context["errors"] = exc.message_dict
        except tracking.RateLimited:
            context["message"] = tracking.RATE_LIMITED_MESSAGE
            http_status = 429
        else:
            if case is None:
                context["message"] = tracking.NOT_FOUND_MESSAGE
            else:
                context["status"] = tracking.public_status(case)
                # The form below stays empty for the next scan, without stealing the focus
                # (and the scroll position) from the result.
                context["number"] = ""
                context["focus"] = ""
    return render(request, template, context, status=http_status)


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    return _page(request, "affairs/tracking/track.html")


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest) -> HttpResponse:
    return _page(request, "affairs/tracking/kiosk.html")


app_name = "tracking"
urlpatterns = [
    path("", track, name="track"),
    path("kiosk/", kiosk, name="kiosk"),
]
