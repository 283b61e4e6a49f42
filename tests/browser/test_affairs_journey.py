"""A resident's case from the desk through the back office to delivery, rating and tracking."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from shequ.affairs.models import Case, Matter
from shequ.core.idnumbers import make_resident_id

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser


def logout(page) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/accounts/login/**")


def test_case_from_desk_to_rating_and_tracking(page):
    call_command("load_matters", stdout=open("/dev/null", "w"))  # noqa: SIM115
    matter = (
        Matter.objects.filter(
            is_active=True, on_the_spot=False, department_code="civil-affairs", cooperating_departments=[]
        )
        .order_by("code")
        .first()
    )
    assert matter is not None
    import datetime as dt

    id_number = make_resident_id("310101", dt.date(1962, 4, 18), 57)

    # 1. the front desk accepts the case
    login(page, "frontdesk")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/affairs/desk/")
    page.get_by_label("事项", exact=True).select_option(str(matter.pk))
    checklist = page.locator("#materials fieldset")
    checklist.wait_for()
    for box in checklist.locator("input[type=checkbox]").all():
        box.check()
    page.get_by_label("申请人姓名").fill("陈桂英")
    page.get_by_label("证件号码", exact=True).fill(id_number)
    page.get_by_label("联系电话").fill("13917775566")
    screenshot(page, "affairs-desk")
    page.get_by_role("button", name="受理").click()
    page.wait_for_url("**/affairs/cases/**")
    case = Case.objects.get(id_number=id_number)
    number = case.order.number
    assert page.get_by_text(f"已受理，办件编号 {number}").is_visible()
    receipt = page.request.get(page.base_url + f"/affairs/cases/{number}/receipt.pdf")
    assert (
        receipt.ok and receipt.headers["content-type"] == "application/pdf" and receipt.body()[:5] == b"%PDF-"
    )
    screenshot(page, "affairs-case-accepted")
    logout(page)

    # 2. the back office approves it from its inbox
    login(page, "backoffice")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/workorders/")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="审核通过").click()
    assert page.get_by_text("已提交").is_visible()
    screenshot(page, "affairs-backoffice-approved")
    logout(page)

    # 3. the desk delivers at the window and records the resident's rating
    login(page, "frontdesk")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + f"/affairs/cases/{number}/")
    page.get_by_role("button", name="登记送达").click()
    assert page.get_by_text("已登记送达").is_visible()
    page.goto(page.base_url + f"/workorders/{number}/")
    page.get_by_label("非常满意").check()
    page.get_by_role("button", name="提交评价").click()
    assert page.get_by_text("评价已记录").is_visible()
    screenshot(page, "affairs-rated")
    case.order.refresh_from_db()
    assert case.order.step == "closed" and case.order.rating == 5
    logout(page)

    # 4. the resident tracks it with a barcode scanner: the number and Enter, then the digits
    page.goto(page.base_url + "/track/")
    number_field = page.get_by_label("办件编号")
    number_field.focus()
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    page.keyboard.type("5566")
    page.keyboard.press("Enter")
    page.get_by_text("已办结").first.wait_for()
    body = page.content()
    assert "陈桂英" not in body and id_number not in body and "13917775566" not in body
    screenshot(page, "affairs-tracking")
