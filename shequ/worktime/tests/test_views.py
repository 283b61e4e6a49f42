"""The calendar page, the paste form, and the admin going through the services."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from shequ.audit.models import ChangeAction, ChangeLog
from shequ.worktime.models import CalendarOverride, CalendarYear

URL = reverse("worktime:calendar")


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    """Templates link static files; without a collectstatic manifest use the plain storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user(username="clerk", password="x" * 12, full_name="李文员")


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="x" * 12, email="")


def _cell(html: str, day: str) -> str:
    start = html.index(f'data-date="{day}"')
    return html[html.rindex("<td", 0, start) : html.index("</td>", start)]


@pytest.mark.django_db
class TestCalendarPage:
    def test_login_required(self, client: Client) -> None:
        response = client.get(URL)
        assert response.status_code == 302
        assert "/accounts/" in response["Location"]

    def test_month_grid_marks_days(self, client: Client, clerk) -> None:
        client.force_login(clerk)
        html = client.get(URL, {"year": 2026, "month": 2}).content.decode()
        assert "<caption>2026年2月 工作日与休息日</caption>" in html
        assert html.count('scope="col"') == 7
        make_up = _cell(html, "2026-02-14")
        assert 'class="working' in make_up and "春节调休" in make_up
        holiday = _cell(html, "2026-02-16")
        assert 'class="rest' in holiday and "春节" in holiday
        assert "provisional" not in holiday
        assert 'name="schedule"' not in html  # the entry form is for superusers only

    def test_query_budget(self, client: Client, admin_user, django_assert_max_num_queries) -> None:
        client.force_login(admin_user)
        client.get(URL)  # warm the process's calendar snapshot
        with django_assert_max_num_queries(6):  # session, user, calendar token, shell
            assert client.get(URL, {"year": 2027, "month": 2}).status_code == 200

    def test_provisional_month(self, client: Client, clerk) -> None:
        client.force_login(clerk)
        html = client.get(URL, {"year": 2027, "month": 2}).content.decode()
        eve = _cell(html, "2027-02-05")
        assert "rest provisional" in eve and "春节" in eve and "临时" in eve
        assert "2027年的法定节假日安排尚未录入" in html

    @time_machine.travel(dt.datetime(2026, 11, 30, 20, tzinfo=dt.UTC), tick=False)
    def test_bad_parameters_fall_back_to_this_month(self, client: Client, clerk) -> None:
        client.force_login(clerk)
        response = client.get(URL, {"year": "abc", "month": "13"})
        assert response.status_code == 200
        # 2026-11-30 20:00 UTC is already December 1st in Shanghai.
        assert (response.context["year"], response.context["month"]) == (2026, 12)
        assert "2026年12月" in response.content.decode()

    def test_only_superusers_may_post(self, client: Client, clerk) -> None:
        client.force_login(clerk)
        response = client.post(URL, {"year": 2027, "schedule": "2027-01-01 休 元旦"})
        assert response.status_code == 403
        assert not CalendarOverride.objects.exists()


@pytest.mark.django_db
class TestPasteForm:
    def test_valid_schedule_is_entered(self, client: Client, admin_user) -> None:
        client.force_login(admin_user)
        text = "\n".join(
            [
                "# 2027年安排（示例）",
                "2027-01-01 休 元旦",
                "",
                "2027-02-05~2027-02-11 休 春节",
                "2027-2-20　班　春节调休",
            ]
        )
        response = client.post(URL, {"year": 2027, "schedule": text, "note": "示例"})
        assert response.status_code == 302
        assert CalendarYear.objects.filter(year=2027, note="示例").exists()
        assert CalendarOverride.objects.filter(date__year=2027, is_working=False).count() == 8
        assert CalendarOverride.objects.get(date=dt.date(2027, 2, 20)).is_working
        page = client.get(response["Location"]).content.decode()
        assert "已录入2027年节假日安排" in page

    def test_errors_by_line_and_nothing_written(self, client: Client, admin_user) -> None:
        client.force_login(admin_user)
        lines = [
            "2027-01-01 休 元旦",
            "2027/01/02 休",
            "2026-12-31 休 跨年",
            "2027-02-30 休",
            "2027-02-06 班",
            "2027-03-01 忙",
        ]
        text = "\n".join(lines)
        response = client.post(URL, {"year": 2027, "schedule": text})
        assert response.status_code == 200
        html = response.content.decode()
        assert "第2行：无法识别" in html
        assert "第4行：日期无效" in html
        assert "第6行：“忙”应为“休”或“班”" in html
        assert not CalendarOverride.objects.exists()
        # Format errors come first; once fixed, the row checks name their lines too.
        text = "2027-01-01 休 元旦\n2026-12-31 休 跨年\n2027-02-06 班\n2027-01-01 休"
        html = client.post(URL, {"year": 2027, "schedule": text}).content.decode()
        assert "第2行：日期 2026-12-31 不在2027年内。" in html
        assert "第3行：2027-02-06 是法定节假日（春节），不能设为上班日。" in html
        assert "第4行：日期 2027-01-01 与第1行重复。" in html
        assert 'aria-invalid="true"' in html
        assert not CalendarOverride.objects.exists()
        assert not CalendarYear.objects.exists()


@pytest.mark.django_db
class TestAdmin:
    def test_override_admin_uses_services(self, client: Client, admin_user) -> None:
        client.force_login(admin_user)
        response = client.post(
            reverse("admin:worktime_calendaroverride_add"),
            {"date": "2027-06-14", "name": "端午调休", "note": ""},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        override = CalendarOverride.objects.get(date=dt.date(2027, 6, 14))
        assert not override.is_working
        assert override.created_by_name == "root"
        assert ChangeLog.objects.filter(action=ChangeAction.CALENDAR, object_id=str(override.pk)).exists()

        response = client.post(
            reverse("admin:worktime_calendaroverride_delete", args=[override.pk]), {"post": "yes"}
        )
        assert response.status_code == 302
        assert not CalendarOverride.objects.exists()
        assert ChangeLog.objects.filter(action=ChangeAction.CALENDAR).count() == 2

    def test_override_admin_refuses_working_statutory_holiday(self, client: Client, admin_user) -> None:
        client.force_login(admin_user)
        response = client.post(
            reverse("admin:worktime_calendaroverride_add"),
            {"date": "2027-10-01", "is_working": "on", "name": "x"},
        )
        assert response.status_code == 200
        assert "法定节假日" in response.content.decode()
        assert not CalendarOverride.objects.exists()

    def test_year_admin_uses_services(self, client: Client, admin_user) -> None:
        client.force_login(admin_user)
        response = client.post(reverse("admin:worktime_calendaryear_add"), {"year": 2027, "note": "已核对"})
        assert response.status_code == 302
        year = CalendarYear.objects.get(year=2027)
        assert year.entered_by_name == "root"
        assert ChangeLog.objects.filter(
            action=ChangeAction.CALENDAR, object_type="worktime.calendaryear"
        ).exists()
