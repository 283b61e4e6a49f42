"""Day classification: package facts for 2025/2026, provisional rules, overrides, caching."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequ.worktime import calendar, services
from shequ.worktime.calendar import WorkCalendar, day_info, is_working_day, statutory_holidays
from shequ.worktime.choices import DaySource
from shequ.worktime.models import CalendarOverride, CalendarRevision

D = dt.date
CAL = WorkCalendar()  # no administrator rows: package data and provisional rules only


def _rest(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


class TestOfficialYears:
    """Facts of the State Council notices for 2025 and 2026, as chinese_calendar 1.11 has them."""

    def test_2025_spring_festival(self) -> None:
        assert CAL.is_working_day(D(2025, 1, 26))  # Sunday, make-up working day
        assert CAL.day_info(D(2025, 1, 26)).name == "春节调休"
        for day in _rest(D(2025, 1, 28), D(2025, 2, 4)):
            info = CAL.day_info(day)
            assert not info.is_working, day
            assert info.name == "春节"
            assert info.source == DaySource.OFFICIAL
            assert not info.provisional
        assert CAL.is_working_day(D(2025, 2, 5))
        assert CAL.is_working_day(D(2025, 2, 8))  # Saturday, make-up working day

    def test_2025_national_day(self) -> None:
        assert CAL.is_working_day(D(2025, 9, 28))  # Sunday
        assert CAL.is_working_day(D(2025, 10, 11))  # Saturday
        for day in _rest(D(2025, 10, 1), D(2025, 10, 8)):
            assert not CAL.is_working_day(day), day
        assert CAL.day_info(D(2025, 10, 6)).name == "中秋节"
        assert CAL.is_working_day(D(2025, 10, 9))

    def test_2026_schedule(self) -> None:
        # 国办发明电〔2025〕7号 (published 2025-11-04), checked against the package data.
        assert not CAL.is_working_day(D(2026, 1, 1))
        assert CAL.is_working_day(D(2026, 1, 4))  # Sunday
        for day in _rest(D(2026, 2, 15), D(2026, 2, 23)):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(D(2026, 2, 14))  # Saturday
        assert CAL.is_working_day(D(2026, 2, 28))  # Saturday
        assert CAL.is_working_day(D(2026, 2, 24))
        for day in _rest(D(2026, 5, 1), D(2026, 5, 5)):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(D(2026, 5, 9))  # Saturday
        assert not CAL.is_working_day(D(2026, 6, 19))  # 端午, Friday
        assert not CAL.is_working_day(D(2026, 9, 25))  # 中秋, Friday
        assert CAL.is_working_day(D(2026, 9, 20))  # Sunday
        for day in _rest(D(2026, 10, 1), D(2026, 10, 7)):
            assert not CAL.is_working_day(day), day
        assert CAL.is_working_day(D(2026, 10, 10))  # Saturday
        assert CAL.is_working_day(D(2026, 12, 31))

    def test_ordinary_weekdays_and_weekends(self) -> None:
        assert CAL.is_working_day(D(2026, 3, 10))  # Tuesday
        assert not CAL.is_working_day(D(2026, 3, 14))  # Saturday
        assert CAL.day_info(D(2026, 3, 14)).name == ""


class TestStatutoryRules:
    def test_2027_provisional_holidays(self) -> None:
        days = statutory_holidays(2027)
        assert set(days) == {
            D(2027, 1, 1),
            D(2027, 2, 5),  # 除夕 (lunar new year is 2027-02-06)
            D(2027, 2, 6),
            D(2027, 2, 7),
            D(2027, 2, 8),
            D(2027, 4, 5),  # 清明
            D(2027, 5, 1),
            D(2027, 5, 2),
            D(2027, 6, 9),  # 端午
            D(2027, 9, 15),  # 中秋
            D(2027, 10, 1),
            D(2027, 10, 2),
            D(2027, 10, 3),
        }

    def test_provisional_day_info(self) -> None:
        eve = CAL.day_info(D(2027, 2, 5))  # Friday
        assert (eve.is_working, eve.name, eve.provisional, eve.source) == (
            False,
            "春节",
            True,
            DaySource.PROVISIONAL,
        )
        assert not CAL.is_working_day(D(2027, 2, 8))  # Monday, 初三
        assert CAL.is_working_day(D(2027, 2, 9))  # Tuesday, no make-up schedule known
        assert not CAL.is_working_day(D(2027, 2, 13))  # Saturday
        assert CAL.day_info(D(2027, 2, 9)).provisional

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_computed_statutory_days_are_rest_days_in_the_official_schedule(self, year: int) -> None:
        for day in statutory_holidays(year):
            assert not chinese_calendar.is_workday(day), day

    def test_qingming_solar_term_matches_official_holidays(self) -> None:
        for year in range(2008, 2027):  # 清明 became a holiday in 2008
            (day,) = [
                d
                for d, term in chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 30))
                if term == "清明"
            ]
            assert not chinese_calendar.is_workday(day), day

    def test_no_statutory_days_before_the_revised_measures(self) -> None:
        assert statutory_holidays(2024) == {}

    def test_unsupported_year(self) -> None:
        with pytest.raises(ValueError):
            CAL.day_info(D(2100, 1, 4))


class TestEnteredYear:
    def test_entered_year_uses_weekdays_and_keeps_statutory_holidays(self) -> None:
        cal = WorkCalendar(overrides={D(2027, 2, 13): (True, "春节调休")}, entered_years=frozenset({2027}))
        info = cal.day_info(D(2027, 2, 13))
        assert (info.is_working, info.name, info.provisional, info.source) == (
            True,
            "春节调休",
            False,
            "override",
        )
        assert cal.is_working_day(D(2027, 2, 9))
        assert not cal.day_info(D(2027, 2, 9)).provisional
        assert cal.day_info(D(2027, 2, 9)).source == DaySource.ENTERED_YEAR
        assert not cal.is_working_day(D(2027, 10, 1))  # a known holiday is never a working day
        assert not cal.is_working_day(D(2027, 2, 14))

    def test_entered_year_wins_over_package(self) -> None:
        cal = WorkCalendar(entered_years=frozenset({2026}))
        assert not cal.is_working_day(D(2026, 2, 14))  # the package's make-up Saturday is not in the entry
        assert cal.day_info(D(2026, 2, 14)).source == DaySource.ENTERED_YEAR


@pytest.mark.django_db
class TestDatabaseCalendar:
    def test_override_takes_effect_immediately(self) -> None:
        assert is_working_day(D(2026, 3, 10))
        services.set_override(date=D(2026, 3, 10), is_working=False, name="台风停工", by="测试")
        info = day_info(D(2026, 3, 10))
        assert (info.is_working, info.name, info.source) == (False, "台风停工", DaySource.OVERRIDE)
        services.delete_override(date=D(2026, 3, 10), by="测试")
        assert is_working_day(D(2026, 3, 10))

    def test_override_beats_package(self) -> None:
        services.set_override(date=D(2026, 2, 14), is_working=False, name="", by="测试")
        assert not is_working_day(D(2026, 2, 14))

    def test_snapshot_is_cached_until_the_revision_changes(self) -> None:
        first = calendar.get_calendar()
        with CaptureQueriesContext(connection) as queries:
            assert calendar.get_calendar() is first
        assert len(queries) == 1  # only the revision token

    def test_write_from_another_process_is_seen(self) -> None:
        """Another process changes the rows and the token; this process must notice."""
        assert is_working_day(D(2026, 3, 11))
        CalendarOverride.objects.create(date=D(2026, 3, 11), is_working=False, name="外部写入")
        CalendarRevision.objects.update_or_create(pk=1, defaults={"token": "another-process"})
        assert not is_working_day(D(2026, 3, 11))

    def test_revision_row_exists_after_migrate(self) -> None:
        assert CalendarRevision.objects.filter(pk=calendar.REVISION_PK).exists()
