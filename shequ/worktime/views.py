"""The working-day calendar page: a month grid for staff, and the year entry form for superusers."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import services
from .alerts import calendar_alerts
from .calendar import DayInfo, get_calendar
from .forms import YearScheduleForm
from .models import MAX_YEAR, MIN_YEAR


@dataclass(frozen=True)
class Cell:
    info: DayInfo
    in_month: bool
    is_today: bool


def _month_from(params: QueryDict, today: dt.date) -> tuple[int, int]:
    """The month asked for; anything unparsable falls back to the current month."""
    try:
        year = int(params.get("year", today.year))
        month = int(params.get("month", today.month))
    except (TypeError, ValueError):
        return today.year, today.month
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return today.year, today.month
    return year, month


def _shift(year: int, month: int, delta: int) -> tuple[int, int] | None:
    index = year * 12 + (month - 1) + delta
    shifted = divmod(index, 12)
    if not MIN_YEAR <= shifted[0] <= MAX_YEAR:
        return None
    return shifted[0], shifted[1] + 1


def _month_url(year_month: tuple[int, int] | None) -> str | None:
    if year_month is None:
        return None
    return f"{reverse('worktime:calendar')}?year={year_month[0]}&month={year_month[1]}"


@login_required
@require_http_methods(["GET", "POST"])
def calendar_month(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    year, month = _month_from(request.GET, today)
    form: YearScheduleForm | None = None
    if request.method == "POST":
        if not request.user.is_superuser:
            raise PermissionDenied
        form = YearScheduleForm(request.POST)
        if form.is_valid():
            try:
                summary = services.enter_year(
                    year=form.cleaned_data["year"],
                    entries=form.cleaned_data["entries"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error("schedule", exc)
            else:
                messages.success(request, summary.message)
                return redirect(_month_url((summary.year, 1)) or "worktime:calendar")
    elif request.user.is_superuser:
        form = YearScheduleForm(initial={"year": today.year + 1 if today.month >= 11 else today.year})

    cal = get_calendar()
    weeks = [
        [Cell(info=cal.day_info(day), in_month=day.month == month, is_today=day == today) for day in week]
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    context: dict[str, Any] = {
        "year": year,
        "month": month,
        "weeks": weeks,
        "provisional": cal.is_provisional_year(year),
        "prev_url": _month_url(_shift(year, month, -1)),
        "next_url": _month_url(_shift(year, month, 1)),
        "today_url": _month_url((today.year, today.month)),
        "form": form,
        "alerts": calendar_alerts(today, calendar=cal) if request.user.is_superuser else [],
    }
    return render(request, "worktime/calendar.html", context)
