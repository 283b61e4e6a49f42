"""Property tests of the working-time arithmetic over 2025-2028 (known and provisional years)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from shequ.worktime.calendar import WorkCalendar
from shequ.worktime.time import add_working_days, add_working_hours, office_hours, working_time_between

from .conftest import SHANGHAI

CAL = WorkCalendar()

instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 6, 30), timezones=st.just(SHANGHAI)
)
amounts = st.integers(min_value=0, max_value=60 * 7 * 40).map(lambda minutes: dt.timedelta(minutes=minutes))
positive_amounts = st.integers(min_value=1, max_value=60 * 7 * 40).map(
    lambda minutes: dt.timedelta(minutes=minutes)
)


def _inside_office_hours(moment: dt.datetime) -> bool:
    local = moment.astimezone(SHANGHAI)
    return CAL.is_working_day(local.date()) and any(
        start <= local.time() <= end for start, end in office_hours()
    )


@settings(max_examples=200, deadline=None)
@given(start=instants, amount=amounts)
def test_hours_round_trip(start: dt.datetime, amount: dt.timedelta) -> None:
    end = add_working_hours(start, amount, calendar=CAL)
    assert end >= start
    assert working_time_between(start, end, calendar=CAL) == amount


@settings(max_examples=200, deadline=None)
@given(start=instants, amount=positive_amounts)
def test_hours_result_is_inside_office_hours_of_a_working_day(
    start: dt.datetime, amount: dt.timedelta
) -> None:
    assert _inside_office_hours(add_working_hours(start, amount, calendar=CAL))


@settings(max_examples=100, deadline=None)
@given(start=instants, n=st.integers(min_value=0, max_value=40))
def test_days_result_is_end_of_a_working_day(start: dt.datetime, n: int) -> None:
    result = add_working_days(start, n, calendar=CAL)
    assert CAL.is_working_day(result.date())
    assert result.timetz().replace(tzinfo=None) == office_hours()[-1][1]
    if n > 0:
        assert result.date() > start.astimezone(SHANGHAI).date()


@settings(max_examples=100, deadline=None)
@given(start=instants, n=st.integers(min_value=0, max_value=30))
def test_days_monotonic_in_n(start: dt.datetime, n: int) -> None:
    this, following = add_working_days(start, n, calendar=CAL), add_working_days(start, n + 1, calendar=CAL)
    # n = 0 on a rest day already lands on the next working day, the same as n = 1.
    assert this < following if n >= 1 else this <= following


@settings(max_examples=100, deadline=None)
@given(start=instants, a=amounts, b=amounts)
def test_hours_monotonic(start: dt.datetime, a: dt.timedelta, b: dt.timedelta) -> None:
    low, high = sorted((a, b))
    assert add_working_hours(start, low, calendar=CAL) <= add_working_hours(start, high, calendar=CAL)


@settings(max_examples=100, deadline=None)
@given(moments=st.lists(instants, min_size=3, max_size=3).map(sorted))
def test_working_time_is_additive(moments: list[dt.datetime]) -> None:
    a, b, c = moments
    assert working_time_between(a, b, calendar=CAL) + working_time_between(
        b, c, calendar=CAL
    ) == working_time_between(a, c, calendar=CAL)
