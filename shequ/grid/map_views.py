"""The grid map (/grid/map/): unit grids drawn from their GeoJSON and reports as points coloured by
step. It needs no tile server (GRID_MAP_TILE_URL adds a base layer when set); the data comes from
/grid/map/data.json as GeoJSON FeatureCollections, scoped to what the user may view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shequ.accounts.scoping import VIEW, restrict, user_roles
from shequ.core.http import AuthedRequest
from shequ.places.choices import PlaceKind
from shequ.places.models import Place
from shequ.workorders.choices import CANCELLED, CLOSED

from .choices import ClassKind
from .models import GridReport, ManagementClass
from .processes import REPORT
from .scopes import LOOP

MAX_REPORTS = 5000
MAX_GRIDS = 20000
# Colour of each step (the legend shows them in this order).
STEP_COLOURS = {
    "filing": "#8e24aa",
    "dispatching": "#3949ab",
    "coordinating": "#6d4c41",
    "handling": "#e53935",
    "feedback": "#fb8c00",
    "verifying": "#fdd835",
    "closing": "#00897b",
    CLOSED: "#43a047",
    CANCELLED: "#9e9e9e",
}


def _step_label(step: str) -> str:
    if step == CLOSED:
        return _("已结案")
    if step == CANCELLED:
        return _("已注销")
    return str(REPORT.step_label(step))


def legend() -> list[tuple[str, str, str]]:
    return [(step, _step_label(step), colour) for step, colour in STEP_COLOURS.items()]


def _check(request: AuthedRequest) -> None:
    """The staff of the closed loop (a resident's own reports are on their case pages)."""
    if not (request.user.is_superuser or user_roles(request.user) & LOOP):
        raise PermissionDenied


@login_required
@require_GET
def grid_map(request: AuthedRequest) -> HttpResponse:
    _check(request)
    classes = ManagementClass.objects.filter(kind=ClassKind.ITEM, is_active=True).only(
        "code", "name", "major_code", "major_name"
    )
    majors = sorted({(c.major_code, c.major_name) for c in classes})
    return render(
        request,
        "grid/map.html",
        {
            "tiles": getattr(settings, "GRID_MAP_TILE_URL", ""),
            "legend": legend(),
            "classes": classes,
            "majors": majors,
            "data_url": reverse("grid:map_data"),
            "max_reports": MAX_REPORTS,
        },
    )


def _filtered(request: AuthedRequest) -> tuple[QuerySet[GridReport], dict[str, str]]:
    """The user's reports narrowed by ?class= (2-digit major or 5-digit code), ?start=, ?end=
    (dates, both included, on the report's creation) and ?step=."""
    reports = restrict(GridReport.objects.all(), request.user, VIEW)
    errors: dict[str, str] = {}
    code = request.GET.get("class", "").strip()
    if code:
        field = "management_class__major_code" if len(code) == 2 else "management_class__code"
        reports = reports.filter(**{field: code})
    tz = timezone.get_current_timezone()
    for name, lookup, shift in (("start", "gte", 0), ("end", "lt", 1)):
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        try:
            day = parse_date(raw)
        except ValueError:
            day = None
        if day is None:
            errors[name] = _("“%(v)s”不是有效的日期（YYYY-MM-DD）。") % {"v": raw[:20]}
            continue
        moment = dt.datetime.combine(day + dt.timedelta(days=shift), dt.time.min, tzinfo=tz)
        reports = reports.filter(**{f"order__created_at__{lookup}": moment})
    step = request.GET.get("step", "").strip()
    if step:
        reports = reports.filter(order__step=step)
    return reports, errors


def _report_feature(report: GridReport) -> dict[str, Any]:
    order = report.order
    cls = report.management_class
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [report.longitude, report.latitude]},
        "properties": {
            "number": order.number,
            "class_code": cls.code,
            "class_name": cls.name,
            "step": order.step,
            "step_label": _step_label(order.step),
            "colour": STEP_COLOURS.get(order.step, "#607d8b"),
            "created_at": timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M"),
            "url": reverse("grid:case", args=[order.number]),
        },
    }


@login_required
@require_GET
def map_data(request: AuthedRequest) -> JsonResponse:
    _check(request)
    reports, errors = _filtered(request)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    rows = list(
        reports.select_related("order", "management_class")
        .only(
            "longitude",
            "latitude",
            "order__number",
            "order__step",
            "order__created_at",
            "management_class__code",
            "management_class__name",
        )
        .order_by("-order__created_at")[: MAX_REPORTS + 1]
    )
    capped = len(rows) > MAX_REPORTS
    grids = list(
        restrict(
            Place.objects.filter(kind=PlaceKind.GRID, is_active=True, geometry__isnull=False),
            request.user,
            VIEW,
        )
        .order_by("code")
        .values_list("code", "name", "geometry")[:MAX_GRIDS]
    )
    payload = {
        "grids": {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": geometry, "properties": {"code": code, "name": name}}
                for code, name, geometry in grids
            ],
        },
        "reports": {
            "type": "FeatureCollection",
            "features": [_report_feature(r) for r in rows[:MAX_REPORTS]],
        },
        "capped": capped,
        "max_reports": MAX_REPORTS,
        "message": _("案件超过 %(n)d 件，只显示最新的 %(n)d 件，请缩小时间或类别范围。") % {"n": MAX_REPORTS}
        if capped
        else "",
    }
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
