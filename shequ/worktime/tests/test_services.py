"""Entering a year's schedule, overrides, and the recompute hook."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.worktime import services
from shequ.worktime.calendar import day_info, get_calendar
from shequ.worktime.models import CalendarOverride, CalendarRevision, CalendarYear
from shequ.worktime.registry import register_recompute
from shequ.worktime.time import Deadline, compute_deadline

from .conftest import at

D = dt.date

# A made-up 2027 schedule (the real notice is not in any source we hold): New Year's Day on
# Friday with the Sunday after it as a make-up working day.
HYPOTHETICAL_2027 = [
    (D(2027, 1, 1), False, "元旦"),
    (D(2027, 1, 3), True, "元旦调休"),
    (D(2027, 2, 5), False, "春节"),
    (D(2027, 2, 6), False, "春节"),
    (D(2027, 2, 7), False, "春节"),
    (D(2027, 2, 8), False, "春节"),
    (D(2027, 2, 9), False, "春节"),
]


def _recorder(calls: list[int]) -> Callable[[int], int]:
    """A recompute callback that only notes the years it was called with."""

    def callback(year: int) -> int:
        calls.append(year)
        return 0

    return callback


@pytest.mark.django_db
class TestDeadlineAcrossTheYearEnd:
    def test_before_and_after_entering_2027(self) -> None:
        start = at(2026, 12, 31, 16)
        before = compute_deadline(start, days=2)
        # Provisional: 元旦 (Fri) and the weekend are rest days, so Mon 4th and Tue 5th count.
        assert before == Deadline(at(2027, 1, 5, 17, 30), True)

        seen: list[tuple[int, Deadline]] = []

        @register_recompute
        def recompute(year: int) -> int:
            # Runs inside the entering transaction: it must already see the new calendar.
            seen.append((year, compute_deadline(start, days=2)))
            return 1

        summary = services.enter_year(year=2027, entries=HYPOTHETICAL_2027, by="管理员")

        after = compute_deadline(start, days=2)
        # The make-up Sunday 3rd counts now: Sun 3rd, Mon 4th.
        assert after == Deadline(at(2027, 1, 4, 17, 30), False)
        assert after != before
        assert seen == [(2027, after)]
        assert summary.recomputed_total == 1
        assert summary.created == len(HYPOTHETICAL_2027)
        assert "2027" in summary.message

    def test_entered_year_makes_non_listed_weekdays_working(self) -> None:
        assert not day_info(D(2027, 1, 3)).is_working
        services.enter_year(year=2027, entries=HYPOTHETICAL_2027, by="管理员")
        assert day_info(D(2027, 1, 3)).is_working
        assert day_info(D(2027, 2, 9)).name == "春节"
        info = day_info(D(2027, 3, 1))
        assert info.is_working and not info.provisional


@pytest.mark.django_db
class TestEnterYear:
    def test_writes_overrides_year_audit_and_revision(self) -> None:
        token = CalendarRevision.objects.get(pk=1).token
        services.enter_year(year=2027, entries=HYPOTHETICAL_2027, by="管理员", note="国办发明电〔2026〕X号")
        assert CalendarOverride.objects.count() == len(HYPOTHETICAL_2027)
        year = CalendarYear.objects.get(year=2027)
        assert (year.entered_by_name, year.note) == ("管理员", "国办发明电〔2026〕X号")
        assert CalendarRevision.objects.get(pk=1).token != token
        log = ChangeLog.objects.get(action=ChangeAction.CALENDAR, object_type="worktime.calendaryear")
        assert log.actor_name == "管理员"
        assert log.after is not None
        assert len(log.after["entries"]) == len(HYPOTHETICAL_2027)

    def test_reentering_replaces_the_year(self) -> None:
        services.set_override(date=D(2026, 12, 31), is_working=False, name="", by="管理员")
        services.enter_year(year=2027, entries=HYPOTHETICAL_2027, by="管理员")
        summary = services.enter_year(
            year=2027,
            entries=[(D(2027, 1, 1), False, "元旦"), (D(2027, 1, 3), True, "元旦补班")],
            by="管理员",
        )
        assert (summary.created, summary.updated, summary.deleted) == (0, 1, 5)
        assert list(CalendarOverride.objects.filter(date__year=2027).values_list("date", "name")) == [
            (D(2027, 1, 1), "元旦"),
            (D(2027, 1, 3), "元旦补班"),
        ]
        assert CalendarOverride.objects.filter(date=D(2026, 12, 31)).exists()  # other years untouched

    def test_errors_name_every_bad_row_and_write_nothing(self) -> None:
        called: list[int] = []
        register_recompute(_recorder(called))
        entries = [
            (D(2027, 1, 1), False, "元旦"),
            (D(2026, 12, 31), False, "跨年"),
            (D(2027, 1, 1), False, "元旦"),
            (D(2027, 10, 1), True, "国庆"),
        ]
        with pytest.raises(ValidationError) as excinfo:
            services.enter_year(year=2027, entries=entries, by="管理员")
        messages = excinfo.value.messages
        assert messages == [
            "第2条：日期 2026-12-31 不在2027年内。",
            "第3条：日期 2027-01-01 与第1条重复。",
            "第4条：2027-10-01 是法定节假日（国庆节），不能设为上班日。",
        ]
        assert not CalendarOverride.objects.exists()
        assert not CalendarYear.objects.exists()
        assert called == []

    def test_empty_schedule_and_bad_year_are_refused(self) -> None:
        with pytest.raises(ValidationError):
            services.enter_year(year=2027, entries=[], by="管理员")
        with pytest.raises(ValidationError):
            services.enter_year(year=2100, entries=[(D(2100, 1, 1), False, "元旦")], by="管理员")

    def test_failing_callback_rolls_everything_back(self) -> None:
        def broken(year: int) -> int:
            raise RuntimeError("engine down")

        register_recompute(broken)
        with pytest.raises(RuntimeError):
            services.enter_year(year=2027, entries=HYPOTHETICAL_2027, by="管理员")
        assert not CalendarYear.objects.exists()
        assert get_calendar().is_provisional_year(2027)


@pytest.mark.django_db
class TestOverrides:
    def test_set_update_delete(self, django_user_model) -> None:
        user = django_user_model.objects.create_user(username="admin1", password="x" * 12, full_name="王管理")
        years: list[int] = []
        register_recompute(_recorder(years))
        services.set_override(date=D(2027, 6, 14), is_working=False, name="调休", by=user)
        services.set_override(date=D(2027, 6, 14), is_working=False, name="端午调休", by=user)
        override = CalendarOverride.objects.get(date=D(2027, 6, 14))
        assert (override.name, override.created_by_name) == ("端午调休", "王管理")
        assert services.delete_override(date=D(2027, 6, 14), by=user)
        assert not services.delete_override(date=D(2027, 6, 14), by=user)
        assert years == [2027, 2027, 2027]
        assert ChangeLog.objects.filter(action=ChangeAction.CALENDAR, actor_id=user.pk).count() == 3

    def test_statutory_holiday_cannot_be_a_working_day(self) -> None:
        with pytest.raises(ValidationError, match="法定节假日"):
            services.set_override(date=D(2027, 2, 6), is_working=True, name="", by="管理员")
        assert not CalendarOverride.objects.exists()

    def test_mark_and_unmark_year(self) -> None:
        assert get_calendar().is_provisional_year(2027)
        services.mark_year_entered(year=2027, by="管理员")
        assert not get_calendar().is_provisional_year(2027)
        assert services.unmark_year(year=2027, by="管理员")
        assert get_calendar().is_provisional_year(2027)
