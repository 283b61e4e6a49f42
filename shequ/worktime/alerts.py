"""Warnings for administrators about years whose official schedule is not entered yet.

The State Council publishes next year's schedule around November; until it is entered here,
deadlines reaching into that year are provisional.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from .calendar import WorkCalendar, get_calendar

# From this day of the year on, a missing schedule for next year is worth a warning.
WARN_FROM_MONTH_DAY = (11, 1)


def calendar_alerts(today: dt.date | None = None, *, calendar: WorkCalendar | None = None) -> list[str]:
    """Messages for administrators; empty when nothing needs doing."""
    today = today or timezone.localdate()
    cal = calendar or get_calendar()
    alerts: list[str] = []
    if cal.is_provisional_year(today.year):
        alerts.append(
            _(
                "本年度（%(year)s年）法定节假日安排尚未录入，当前期限按临时规则（周末+法定节日）计算，"
                "录入后将自动重算。"
            )
            % {"year": today.year}
        )
    if (today.month, today.day) >= WARN_FROM_MONTH_DAY and cal.is_provisional_year(today.year + 1):
        alerts.append(
            _(
                "%(year)s年法定节假日安排尚未录入，跨入该年的期限按临时规则（周末+法定节日）计算，"
                "录入后将自动重算。"
            )
            % {"year": today.year + 1}
        )
    return alerts
