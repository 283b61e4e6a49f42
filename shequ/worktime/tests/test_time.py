"""Working days and hours over real 2025/2026 holidays; pure calendar, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from shequ.worktime.calendar import WorkCalendar
from shequ.worktime.time import (
    Deadline,
    add_working_days,
    add_working_hours,
    compute_deadline,
    is_provisional_between,
    working_time_between,
)

from .conftest import at

CAL = WorkCalendar()
H = dt.timedelta(hours=1)


class TestAddWorkingDays:
    @pytest.mark.parametrize(
        ("n", "expected"),
        [
            (1, at(2025, 1, 26, 17, 30)),  # Sunday make-up day counts
            (2, at(2025, 1, 27, 17, 30)),
            (3, at(2025, 2, 5, 17, 30)),  # 1-28..2-4 skipped
            (4, at(2025, 2, 6, 17, 30)),
            (6, at(2025, 2, 8, 17, 30)),  # Saturday make-up day counts
        ],
    )
    def test_across_2025_spring_festival(self, n: int, expected: dt.datetime) -> None:
        assert add_working_days(at(2025, 1, 24, 10), n, calendar=CAL) == expected

    @pytest.mark.parametrize(
        ("n", "expected"),
        [
            (1, at(2025, 9, 28, 17, 30)),
            (3, at(2025, 9, 30, 17, 30)),
            (4, at(2025, 10, 9, 17, 30)),
            (6, at(2025, 10, 11, 17, 30)),
            (7, at(2025, 10, 13, 17, 30)),
        ],
    )
    def test_across_2025_national_day(self, n: int, expected: dt.datetime) -> None:
        assert add_working_days(at(2025, 9, 26, 9), n, calendar=CAL) == expected

    def test_across_2026_spring_festival(self) -> None:
        # Friday 2026-02-13 -> Sat 14th is a make-up day; 15th..23rd rest.
        assert add_working_days(at(2026, 2, 13, 16), 1, calendar=CAL) == at(2026, 2, 14, 17, 30)
        assert add_working_days(at(2026, 2, 13, 16), 2, calendar=CAL) == at(2026, 2, 24, 17, 30)

    def test_start_day_never_counts_even_early_in_the_morning(self) -> None:
        assert add_working_days(at(2026, 3, 10, 0, 1), 1, calendar=CAL) == at(2026, 3, 11, 17, 30)

    def test_zero_days(self) -> None:
        assert add_working_days(at(2026, 3, 10, 8), 0, calendar=CAL) == at(2026, 3, 10, 17, 30)
        assert add_working_days(at(2026, 3, 14, 8), 0, calendar=CAL) == at(2026, 3, 16, 17, 30)

    def test_start_in_another_zone_uses_the_shanghai_date(self) -> None:
        # 2026-03-10 20:00 UTC is Wednesday 11th 04:00 in Shanghai.
        start = dt.datetime(2026, 3, 10, 20, tzinfo=dt.UTC)
        assert add_working_days(start, 1, calendar=CAL) == at(2026, 3, 12, 17, 30)

    def test_result_is_in_shanghai(self) -> None:
        result = add_working_days(dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC), 1, calendar=CAL)
        assert result.utcoffset() == dt.timedelta(hours=8)

    def test_rejects_naive_and_negative(self) -> None:
        with pytest.raises(ValueError):
            add_working_days(dt.datetime(2026, 3, 10, 9), 1, calendar=CAL)
        with pytest.raises(ValueError):
            add_working_days(at(2026, 3, 10, 9), -1, calendar=CAL)


class TestAddWorkingHours:
    def test_across_lunch_break(self) -> None:
        assert add_working_hours(at(2026, 3, 10, 11), 2, calendar=CAL) == at(2026, 3, 10, 14, 30)

    def test_ends_at_period_end_not_next_start(self) -> None:
        assert add_working_hours(at(2026, 3, 10, 9), 3, calendar=CAL) == at(2026, 3, 10, 12)

    def test_across_evening(self) -> None:
        assert add_working_hours(at(2026, 3, 10, 17), 1, calendar=CAL) == at(2026, 3, 11, 9, 30)

    def test_across_weekend(self) -> None:
        assert add_working_hours(at(2026, 3, 13, 17), 1, calendar=CAL) == at(2026, 3, 16, 9, 30)

    def test_start_outside_office_hours(self) -> None:
        assert add_working_hours(at(2026, 3, 10, 20), 1, calendar=CAL) == at(2026, 3, 11, 10)
        assert add_working_hours(at(2026, 3, 10, 12, 30), 1, calendar=CAL) == at(2026, 3, 10, 14, 30)
        assert add_working_hours(at(2026, 3, 14, 10), 1, calendar=CAL) == at(2026, 3, 16, 10)

    def test_across_holiday_and_make_up_day(self) -> None:
        # Friday 2025-01-24 17:00 + 1h: the make-up Sunday 26th is a working day.
        assert add_working_hours(at(2025, 1, 24, 17), 1, calendar=CAL) == at(2025, 1, 26, 9, 30)
        # Monday 27th 17:00 + 1h: 28th..4th rest.
        assert add_working_hours(at(2025, 1, 27, 17), 1, calendar=CAL) == at(2025, 2, 5, 9, 30)

    def test_accepts_decimal_float_and_timedelta(self) -> None:
        start = at(2026, 3, 10, 9)
        expected = at(2026, 3, 10, 10, 30)
        assert add_working_hours(start, Decimal("1.5"), calendar=CAL) == expected
        assert add_working_hours(start, 1.5, calendar=CAL) == expected
        assert add_working_hours(start, dt.timedelta(minutes=90), calendar=CAL) == expected

    def test_zero_hours_is_the_next_office_instant(self) -> None:
        assert add_working_hours(at(2026, 3, 10, 10), 0, calendar=CAL) == at(2026, 3, 10, 10)
        assert add_working_hours(at(2026, 3, 10, 18), 0, calendar=CAL) == at(2026, 3, 11, 9)

    def test_many_hours(self) -> None:
        # 7 office hours a day: 70 hours is exactly ten working days from Monday 09:00.
        assert add_working_hours(at(2026, 3, 2, 9), 70, calendar=CAL) == at(2026, 3, 13, 17, 30)

    def test_rejects_bad_input(self) -> None:
        with pytest.raises(ValueError):
            add_working_hours(dt.datetime(2026, 3, 10, 9), 1, calendar=CAL)
        with pytest.raises(ValueError):
            add_working_hours(at(2026, 3, 10, 9), -1, calendar=CAL)
        with pytest.raises(ValueError):
            add_working_hours(at(2026, 3, 10, 9), float("nan"), calendar=CAL)

    @override_settings(WORKTIME_OFFICE_HOURS=["08:30-11:30", "13:00-17:00"])
    def test_office_hours_come_from_settings(self) -> None:
        assert add_working_hours(at(2026, 3, 10, 11), 1, calendar=CAL) == at(2026, 3, 10, 13, 30)
        assert add_working_days(at(2026, 3, 10, 11), 1, calendar=CAL) == at(2026, 3, 11, 17)

    @override_settings(WORKTIME_OFFICE_HOURS=["13:00-12:00"])
    def test_bad_office_hours_fail_loudly(self) -> None:
        with pytest.raises(ImproperlyConfigured):
            add_working_hours(at(2026, 3, 10, 11), 1, calendar=CAL)


class TestWorkingTimeBetween:
    def test_one_full_day(self) -> None:
        assert working_time_between(at(2026, 3, 10, 9), at(2026, 3, 10, 17, 30), calendar=CAL) == 7 * H

    def test_lunch_and_evening_do_not_count(self) -> None:
        assert working_time_between(at(2026, 3, 10, 11), at(2026, 3, 11, 10), calendar=CAL) == 6 * H

    def test_over_a_weekend(self) -> None:
        assert working_time_between(at(2026, 3, 13, 17), at(2026, 3, 16, 9, 30), calendar=CAL) == 1 * H

    def test_over_spring_festival_2025(self) -> None:
        # Working days 24th, 26th, 27th, 5th, 7 hours each.
        assert working_time_between(at(2025, 1, 24, 9), at(2025, 2, 6, 9), calendar=CAL) == 28 * H

    def test_not_after_start_is_zero(self) -> None:
        assert working_time_between(at(2026, 3, 10, 11), at(2026, 3, 10, 10), calendar=CAL) == dt.timedelta(0)
        assert working_time_between(at(2026, 3, 10, 11), at(2026, 3, 10, 11), calendar=CAL) == dt.timedelta(0)

    def test_mixed_zones(self) -> None:
        start = dt.datetime(2026, 3, 10, 1, tzinfo=dt.UTC)  # 09:00 Shanghai
        end = dt.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 17:00 Shanghai
        assert working_time_between(start, end, calendar=CAL) == dt.timedelta(hours=6, minutes=30)

    def test_rejects_naive(self) -> None:
        with pytest.raises(ValueError):
            working_time_between(at(2026, 3, 10, 9), dt.datetime(2026, 3, 11, 9), calendar=CAL)


class TestDeadline:
    def test_days_in_known_years_are_final(self) -> None:
        assert compute_deadline(at(2025, 9, 26, 9), days=4, calendar=CAL) == Deadline(
            at(2025, 10, 9, 17, 30), False
        )

    def test_hours(self) -> None:
        assert compute_deadline(at(2026, 3, 10, 11), hours=2, calendar=CAL) == Deadline(
            at(2026, 3, 10, 14, 30), False
        )

    def test_exactly_one_of_days_or_hours(self) -> None:
        with pytest.raises(ValueError):
            compute_deadline(at(2026, 3, 10, 9), calendar=CAL)
        with pytest.raises(ValueError):
            compute_deadline(at(2026, 3, 10, 9), days=1, hours=1, calendar=CAL)

    def test_crossing_into_an_unknown_year_is_provisional(self) -> None:
        deadline = compute_deadline(at(2026, 12, 28, 9), days=5, calendar=CAL)
        # 29th, 30th, 31st, then 2027-01-01 (元旦, Fri) and the weekend are skipped: 4th, 5th.
        assert deadline == Deadline(at(2027, 1, 5, 17, 30), True)

    def test_is_provisional_between(self) -> None:
        assert not is_provisional_between(at(2025, 1, 1), at(2026, 12, 31, 23), calendar=CAL)
        assert is_provisional_between(at(2026, 12, 31), dt.date(2027, 1, 1), calendar=CAL)
        assert is_provisional_between(dt.date(2027, 1, 1), at(2026, 12, 31), calendar=CAL)  # either order
        assert not is_provisional_between(
            at(2027, 3, 1), at(2027, 3, 2), calendar=WorkCalendar(entered_years=frozenset({2027}))
        )
