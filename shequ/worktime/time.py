"""Working time: deadlines in working days and working hours, and time spent between instants.

All functions take and return aware datetimes and compute in the project time zone
(Asia/Shanghai); a naive datetime is refused, never guessed. Office hours come from
`settings.WORKTIME_OFFICE_HOURS` ("HH:MM-HH:MM" periods, e.g. 09:00-12:00 and 13:30-17:30).

Each function takes one calendar snapshot (one query, see `calendar.get_calendar`) unless the
caller passes `calendar=`; a bulk recompute should take one snapshot and pass it to every call.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .calendar import WorkCalendar, get_calendar

Amount = dt.timedelta | Decimal | float | int

# A stretch this long without a single working day means the calendar data is broken.
_MAX_IDLE_DAYS = 400


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed deadline; `provisional` means it crossed a year whose schedule is unknown
    and will be recomputed when an administrator enters that year."""

    at: dt.datetime
    provisional: bool


Period = tuple[dt.time, dt.time]


@lru_cache(maxsize=8)
def _parse_office_hours(spec: tuple[str, ...]) -> tuple[Period, ...]:
    periods: list[Period] = []
    for item in spec:
        try:
            start_text, end_text = item.split("-")
            start = dt.time.fromisoformat(start_text.strip())
            end = dt.time.fromisoformat(end_text.strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"WORKTIME_OFFICE_HOURS: {item!r} is not 'HH:MM-HH:MM'") from exc
        if start >= end:
            raise ImproperlyConfigured(f"WORKTIME_OFFICE_HOURS: {item!r} ends before it starts")
        if periods and start < periods[-1][1]:
            raise ImproperlyConfigured(
                f"WORKTIME_OFFICE_HOURS: {item!r} overlaps or precedes the period before"
            )
        periods.append((start, end))
    if not periods:
        raise ImproperlyConfigured("WORKTIME_OFFICE_HOURS needs at least one period")
    return tuple(periods)


def office_hours() -> tuple[Period, ...]:
    """The configured office periods of a working day, in order."""
    return _parse_office_hours(tuple(settings.WORKTIME_OFFICE_HOURS))


def _tz() -> dt.tzinfo:
    return timezone.get_default_timezone()


def _local(value: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if timezone.is_naive(value):
        raise ValueError(f"{what} is a naive datetime; pass an aware one")
    return value.astimezone(_tz())


def _periods(day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    tz = _tz()
    return [
        (dt.datetime.combine(day, start, tzinfo=tz), dt.datetime.combine(day, end, tzinfo=tz))
        for start, end in office_hours()
    ]


def _to_timedelta(amount: Amount) -> dt.timedelta:
    if isinstance(amount, bool):
        raise TypeError("hours must be a number or a timedelta, not a bool")
    if isinstance(amount, dt.timedelta):
        result = amount
    elif isinstance(amount, Decimal):
        if not amount.is_finite():
            raise ValueError("hours must be finite")
        micro = (amount * 3_600_000_000).to_integral_value(rounding=ROUND_HALF_EVEN)
        result = dt.timedelta(microseconds=int(micro))
    elif isinstance(amount, int | float):
        if isinstance(amount, float) and not math.isfinite(amount):
            raise ValueError("hours must be finite")
        result = dt.timedelta(hours=amount)
    else:
        raise TypeError(f"hours must be a number or a timedelta, got {type(amount).__name__}")
    if result < dt.timedelta(0):
        raise ValueError("hours must not be negative")
    return result


def _next_working_day(cal: WorkCalendar, day: dt.date) -> dt.date:
    """The first working day on or after `day`."""
    for _ in range(_MAX_IDLE_DAYS):
        if cal.is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    raise RuntimeError(f"no working day within {_MAX_IDLE_DAYS} days of {day}")


def add_working_days(start: dt.datetime, n: int, *, calendar: WorkCalendar | None = None) -> dt.datetime:
    """End of office hours of the n-th working day after the day of `start`.

    The Chinese government convention: a limit of "n working days" runs from the next day, and
    the start day does not count whatever the hour. n = 0 means the end of the start day if it
    is a working day, else of the next working day.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    if n < 0:
        raise ValueError("n must not be negative")
    cal = calendar or get_calendar()
    day = _local(start, "start").date()
    if n == 0:
        day = _next_working_day(cal, day)
    for _ in range(n):
        day = _next_working_day(cal, day + dt.timedelta(days=1))
    return _periods(day)[-1][1]


def add_working_hours(
    start: dt.datetime, hours: Amount, *, calendar: WorkCalendar | None = None
) -> dt.datetime:
    """The instant when `hours` of office time on working days have passed since `start`.

    Time outside office hours does not count: a start in the evening counts from the next
    office period. The result is the earliest such instant, so it may be the end of a period
    (12:00), never the start of the next one. Zero hours gives the first office instant at or
    after `start`.
    """
    remaining = _to_timedelta(hours)
    cal = calendar or get_calendar()
    cursor = _local(start, "start")
    day = cursor.date()
    idle = 0
    while True:
        if cal.is_working_day(day):
            idle = 0
            for period_start, period_end in _periods(day):
                if period_end <= cursor:
                    continue
                begin = max(period_start, cursor)
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        else:
            idle += 1
            if idle > _MAX_IDLE_DAYS:
                raise RuntimeError(f"no working day within {_MAX_IDLE_DAYS} days of {day}")
        day += dt.timedelta(days=1)


def working_time_between(
    start: dt.datetime, end: dt.datetime, *, calendar: WorkCalendar | None = None
) -> dt.timedelta:
    """Office time on working days between two instants; zero when `end` is not after `start`."""
    a = _local(start, "start")
    b = _local(end, "end")
    if b <= a:
        return dt.timedelta(0)
    cal = calendar or get_calendar()
    total = dt.timedelta(0)
    day = a.date()
    last = b.date()
    while day <= last:
        if cal.is_working_day(day):
            for period_start, period_end in _periods(day):
                low = max(period_start, a)
                high = min(period_end, b)
                if high > low:
                    total += high - low
        day += dt.timedelta(days=1)
    return total


def is_provisional_between(
    start: dt.date | dt.datetime, end: dt.date | dt.datetime, *, calendar: WorkCalendar | None = None
) -> bool:
    """Whether any day from `start` to `end` (either order) lies in a year not known yet."""
    first, last = sorted((_day_of(start, "start"), _day_of(end, "end")))
    cal = calendar or get_calendar()
    return any(cal.is_provisional_year(year) for year in range(first.year, last.year + 1))


def _day_of(value: dt.date | dt.datetime, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return _local(value, what).date()
    return value


def compute_deadline(
    start: dt.datetime,
    *,
    days: int | None = None,
    hours: Amount | None = None,
    calendar: WorkCalendar | None = None,
) -> Deadline:
    """A deadline `days` working days or `hours` working hours after `start` (give exactly one)."""
    if (days is None) == (hours is None):
        raise ValueError("give exactly one of days or hours")
    cal = calendar or get_calendar()
    local_start = _local(start, "start")
    if days is not None:
        at = add_working_days(local_start, days, calendar=cal)
        # The start day itself is not consulted when counting from the next day.
        first = local_start.date() + dt.timedelta(days=1 if days > 0 else 0)
    else:
        assert hours is not None
        at = add_working_hours(local_start, hours, calendar=cal)
        first = local_start.date()
    return Deadline(at=at, provisional=is_provisional_between(first, at, calendar=cal))
