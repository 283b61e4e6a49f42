"""Alerts about years whose schedule is missing, and the check_calendar command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from shequ.worktime import services
from shequ.worktime.alerts import calendar_alerts

from .conftest import at

NEXT_2027 = "2027年法定节假日安排尚未录入，跨入该年的期限按临时规则（周末+法定节日）计算，录入后将自动重算。"


@pytest.mark.django_db
class TestAlerts:
    @time_machine.travel(at(2026, 11, 23, 10), tick=False)
    def test_next_year_missing_in_november(self) -> None:
        assert calendar_alerts() == [NEXT_2027]

    @time_machine.travel(at(2026, 10, 31, 23, 59), tick=False)
    def test_quiet_before_november(self) -> None:
        assert calendar_alerts() == []

    @time_machine.travel(at(2026, 11, 1, 0, 1), tick=False)
    def test_from_november_first_in_shanghai(self) -> None:
        # Still 2026-10-31 in UTC; the Shanghai date decides.
        assert calendar_alerts() == [NEXT_2027]

    @time_machine.travel(at(2026, 11, 23, 10), tick=False)
    def test_gone_once_the_year_is_entered(self) -> None:
        services.enter_year(year=2027, entries=[(dt.date(2027, 1, 1), False, "元旦")], by="管理员")
        assert calendar_alerts() == []

    def test_current_year_unknown_always_warns(self) -> None:
        alerts = calendar_alerts(dt.date(2027, 3, 1))
        assert len(alerts) == 1
        assert alerts[0].startswith("本年度（2027年）法定节假日安排尚未录入")
        assert len(calendar_alerts(dt.date(2027, 12, 1))) == 2  # 2027 and 2028

    @time_machine.travel(at(2026, 11, 23, 10), tick=False)
    def test_command_prints_alerts(self) -> None:
        out = StringIO()
        call_command("check_calendar", stdout=out)
        assert NEXT_2027 in out.getvalue()

    @time_machine.travel(at(2026, 6, 1, 10), tick=False)
    def test_command_when_all_is_well(self) -> None:
        out = StringIO()
        call_command("check_calendar", stdout=out)
        assert "无需处理" in out.getvalue()
