"""The foundation's pages in a real browser: places, import errors, the htmx phone reveal."""

from __future__ import annotations

import pytest

from shequ.audit.models import AccessLog

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser


def test_places_browse_and_detail(page):
    login(page, "leader")
    page.wait_for_url("**/home/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="区划与网格").click()
    assert page.get_by_text("五里桥街道").first.is_visible()
    screenshot(page, "places-list")
    page.goto(page.base_url + "/places/310101020001/")
    assert page.get_by_role("heading", name="桥一居委会", level=1).is_visible()
    screenshot(page, "place-detail")


def test_import_with_a_bad_row_reports_it_and_writes_nothing(page, tmp_path):
    from shequ.places.models import Place

    before = Place.objects.count()
    bad = tmp_path / "places.csv"
    bad.write_text(
        "code,name,kind,parent_code\n310101020007,新居委会,committee,310101020\n310101021999,错误,committee,310101020\n",
        encoding="utf-8",
    )
    login(page, "leader")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/places/import/")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="导入").click()
    table = page.get_by_role("table")
    assert table.get_by_text("3").first.is_visible()  # the bad row, counted as the user sees it
    screenshot(page, "places-import-errors")
    assert Place.objects.count() == before


def test_staff_phone_reveal_with_htmx(page):
    login(page, "manager")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/accounts/staff/")
    row = page.get_by_role("row").filter(has_text="张丽")
    assert row.get_by_text("138****0004").is_visible()
    row.get_by_text("查看完整号码").click()
    row.get_by_label("查看原因").fill("核对排班")
    row.get_by_role("button", name="显示完整号码").click()
    row.get_by_text("13800210004").wait_for()
    assert page.url.endswith("/accounts/staff/")  # swapped in place, no page load
    screenshot(page, "staff-reveal")
    assert AccessLog.objects.filter(purpose="核对排班").count() == 1


def test_calendar_page(page):
    login(page, "admin")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/worktime/?year=2026&month=10")
    assert page.get_by_text("国庆节").first.is_visible()
    screenshot(page, "calendar-2026-10")
