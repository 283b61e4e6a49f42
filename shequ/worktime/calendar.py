"""Which days are working days.

Order of truth for a day:

a. an administrator's override (`CalendarOverride`);
b. a year the administrator has marked as entered (`CalendarYear`): its overrides are the whole
   schedule, every other day is a weekday (working) or a weekend (rest);
c. the official schedule known to the `chinese_calendar` package (published years only);
d. otherwise a *provisional* rule: weekends and the statutory holidays of
   《全国年节及纪念日放假办法》 (revised 2024, in force 2025) are rest days.

In (b) and (d) the statutory holidays stay rest days: a known holiday is never a working day,
and `services` refuses an override that would make one a working day.

The administrator's rows are read once per calendar revision into an immutable `WorkCalendar`
snapshot cached in the process; every write renews the revision token (see `services`), and
`get_calendar` compares tokens with one primary-key query, so a change is seen at once by every
process. Bulk callers take one snapshot and pass it along (`calendar=`) to skip even that query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

import chinese_calendar
from django.utils import timezone
from django.utils.translation import gettext
from lunardate import LunarDate

from .choices import DaySource, Holiday
from .models import MAX_YEAR, MIN_YEAR, CalendarOverride, CalendarRevision, CalendarYear

REVISION_PK = 1

# The revised Measures (国务院令第795号) apply from this year on; earlier years had other rules.
STATUTORY_RULES_FROM = 2025

# chinese_calendar names its holidays by English value; map them to our codes.
_PACKAGE_HOLIDAYS: dict[str, str] = {
    chinese_calendar.Holiday.new_years_day.value: Holiday.NEW_YEAR,
    chinese_calendar.Holiday.spring_festival.value: Holiday.SPRING_FESTIVAL,
    chinese_calendar.Holiday.tomb_sweeping_day.value: Holiday.QINGMING,
    chinese_calendar.Holiday.labour_day.value: Holiday.LABOUR_DAY,
    chinese_calendar.Holiday.dragon_boat_festival.value: Holiday.DRAGON_BOAT,
    chinese_calendar.Holiday.mid_autumn_festival.value: Holiday.MID_AUTUMN,
    chinese_calendar.Holiday.national_day.value: Holiday.NATIONAL_DAY,
    chinese_calendar.Holiday.anti_fascist_70th_day.value: Holiday.ANTI_FASCIST_70,
}


@dataclass(frozen=True, slots=True)
class DayInfo:
    """How one day is classified, and why.

    `provisional` is about the day's *year*: True while neither an administrator nor the
    package knows that year's official schedule, so anything computed over it may change.
    """

    date: dt.date
    is_working: bool
    name: str
    provisional: bool
    source: str  # a DaySource value


class _Status(NamedTuple):
    is_working: bool
    holidays: tuple[str, ...]  # Holiday codes; a make-up working day names the holiday it serves
    custom_name: str  # an override's own name
    source: str


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the supported range {MIN_YEAR}-{MAX_YEAR}")


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> Mapping[dt.date, tuple[str, ...]]:
    """The rest days that 《全国年节及纪念日放假办法》 (2024 revision) fixes for `year`.

    Empty before 2025, when the revised Measures did not apply yet. 除夕 is the day before
    正月初一 (lunar month 12 has 29 or 30 days, so it is never "12/30" by rule); 清明 is the solar
    term, computed by chinese_calendar's 寿星 formula with its table of exception years.
    """
    _check_year(year)
    days: dict[dt.date, tuple[str, ...]] = {}
    if year < STATUTORY_RULES_FROM:
        return MappingProxyType(days)

    def add(day: dt.date, code: str) -> None:
        days[day] = (*days.get(day, ()), code)

    add(dt.date(year, 1, 1), Holiday.NEW_YEAR)
    new_year = LunarDate(year, 1, 1).to_solar_date()
    for offset in range(-1, 3):  # 除夕, 正月初一 to 初三
        add(new_year + dt.timedelta(days=offset), Holiday.SPRING_FESTIVAL)
    for day, term in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 30)):
        if term == "清明":
            add(day, Holiday.QINGMING)
    add(dt.date(year, 5, 1), Holiday.LABOUR_DAY)
    add(dt.date(year, 5, 2), Holiday.LABOUR_DAY)
    add(LunarDate(year, 5, 5).to_solar_date(), Holiday.DRAGON_BOAT)
    add(LunarDate(year, 8, 15).to_solar_date(), Holiday.MID_AUTUMN)
    for day in (1, 2, 3):
        add(dt.date(year, 10, day), Holiday.NATIONAL_DAY)
    return MappingProxyType(days)


@lru_cache(maxsize=1)
def _package_years() -> dict[int, dict[dt.date, tuple[bool, tuple[str, ...]]]]:
    """The package's special days grouped by year: date -> (is_working, holiday codes)."""
    by_year: dict[int, dict[dt.date, tuple[bool, tuple[str, ...]]]] = {}
    first = min(chinese_calendar.holidays).year
    last = max(chinese_calendar.holidays).year
    for year in range(first, last + 1):
        by_year[year] = {}
    for source, working in ((chinese_calendar.holidays, False), (chinese_calendar.workdays, True)):
        for day, value in source.items():
            code = _PACKAGE_HOLIDAYS.get(value, value)
            by_year.setdefault(day.year, {})[day] = (working, (code,))
    return by_year


def package_knows(year: int) -> bool:
    """Whether chinese_calendar has the official schedule of `year`."""
    return year in _package_years()


def holiday_label(code: str) -> str:
    """The display name of a holiday code (a name the package has but we lack passes through)."""
    return str(Holiday(code).label) if code in Holiday.values else code


class WorkCalendar:
    """An immutable snapshot of the calendar: administrator rows plus the fixed rules."""

    __slots__ = ("_entered", "_overrides", "token")

    def __init__(
        self,
        *,
        overrides: Mapping[dt.date, tuple[bool, str]] | None = None,
        entered_years: frozenset[int] = frozenset(),
        token: str | None = None,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._entered = frozenset(entered_years)
        self.token = token

    def is_provisional_year(self, year: int) -> bool:
        return year not in self._entered and not package_knows(year)

    def is_working_day(self, day: dt.date) -> bool:
        return self._status(_as_date(day)).is_working

    def day_info(self, day: dt.date) -> DayInfo:
        day = _as_date(day)
        status = self._status(day)
        if status.custom_name:
            name = status.custom_name
        else:
            name = "、".join(holiday_label(code) for code in status.holidays)
            if status.is_working and name:
                name = gettext("%(holiday)s调休") % {"holiday": name}
        return DayInfo(
            date=day,
            is_working=status.is_working,
            name=name,
            provisional=self.is_provisional_year(day.year),
            source=status.source,
        )

    def _status(self, day: dt.date) -> _Status:
        override = self._overrides.get(day)
        if override is not None:
            return _Status(override[0], (), override[1], DaySource.OVERRIDE)
        weekday = day.weekday() < 5
        year = day.year
        if year in self._entered:
            codes = statutory_holidays(year).get(day)
            if codes:
                return _Status(False, codes, "", DaySource.ENTERED_YEAR)
            return _Status(weekday, (), "", DaySource.ENTERED_YEAR)
        package_year = _package_years().get(year)
        if package_year is not None:
            special = package_year.get(day)
            if special is not None:
                return _Status(special[0], special[1], "", DaySource.OFFICIAL)
            return _Status(weekday, (), "", DaySource.OFFICIAL)
        codes = statutory_holidays(year).get(day)
        if codes:
            return _Status(False, codes, "", DaySource.PROVISIONAL)
        return _Status(weekday, (), "", DaySource.PROVISIONAL)


def _as_date(value: dt.date) -> dt.date:
    """A date; an aware datetime counts as its local (Asia/Shanghai) date."""
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValueError("naive datetime: pass an aware datetime or a date")
        return value.astimezone(timezone.get_default_timezone()).date()
    return value


def current_token() -> str | None:
    return CalendarRevision.objects.filter(pk=REVISION_PK).values_list("token", flat=True).first()


def load_calendar(token: str | None) -> WorkCalendar:
    overrides = {
        day: (working, name)
        for day, working, name in CalendarOverride.objects.values_list("date", "is_working", "name")
    }
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return WorkCalendar(overrides=overrides, entered_years=years, token=token)


_cached: WorkCalendar | None = None


def get_calendar() -> WorkCalendar:
    """The current snapshot: one primary-key query, and a reload only after a write.

    The token is read *before* the rows, so a write landing in between leaves the snapshot
    labelled with the older token and the next call reloads it.
    """
    global _cached
    token = current_token()
    cached = _cached
    if cached is not None and cached.token == token:
        return cached
    _cached = load_calendar(token)
    return _cached


def is_working_day(day: dt.date) -> bool:
    return get_calendar().is_working_day(day)


def day_info(day: dt.date) -> DayInfo:
    return get_calendar().day_info(day)


def is_provisional_year(year: int) -> bool:
    return get_calendar().is_provisional_year(year)
