"""The desk looks the applicant up in the resident database: the ID number typed in fills name
and address, offers the stored phone (never shown), shows the proxy eligibility and checks the
proxy against the household; the accepted case keeps the real phone and the person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from shequ.accounts.models import User
from shequ.affairs.models import Case, Matter
from shequ.core.idnumbers import make_resident_id
from shequ.people import services
from shequ.people.models import Person
from shequ.people.services import PersonData

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser

PHONE = "13912340917"


def unused_id(birth: dt.date, start: int) -> str:
    """A valid ID number the demo's residents do not already hold."""
    for seq in range(start, start + 400, 2):
        number = make_resident_id("310101", birth, seq)
        if not Person.objects.filter(id_number=number).exists():
            return number
    raise AssertionError("no free ID number")


def test_desk_lookup_fills_the_form_and_uses_the_stored_phone(page):
    call_command("load_matters", stdout=open("/dev/null", "w"))  # noqa: SIM115
    matter = (
        Matter.objects.filter(is_active=True, on_the_spot=False, department_code="civil-affairs")
        .order_by("code")
        .first()
    )
    assert matter is not None
    admin = User.objects.get(username="admin")
    house = services.create_house(
        by=admin, place_code="310101020001", estate="测试路9弄", building="1", room="101"
    )
    actual = services.create_household(by=admin, kind="actual", house=house)
    registered = services.create_household(by=admin, kind="registered", house=house)
    elder_id = unused_id(dt.date(1941, 2, 3), 602)
    son_id = unused_id(dt.date(1968, 9, 9), 611)
    elder = services.register_person(
        by=admin, data=PersonData(name="顾桂芳", id_number=elder_id, phone=PHONE), household=actual
    )
    services.move_in(by=admin, person=elder, household=registered, relation="head", on=dt.date(2000, 1, 1))
    son = services.register_person(by=admin, data=PersonData(name="顾伟", id_number=son_id))
    services.move_in(by=admin, person=son, household=registered, relation="child", on=dt.date(2000, 1, 1))
    services.add_tag(
        by=admin, person=elder, tag="disability", level=2, source="区残联", since=dt.date(2019, 1, 1)
    )

    login(page, "frontdesk")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/affairs/desk/")
    page.get_by_label("事项", exact=True).select_option(str(matter.pk))
    checklist = page.locator("#materials fieldset")
    checklist.wait_for()
    for box in checklist.locator("input[type=checkbox]").all():
        box.check()

    # someone not on record: the desk says so and fills nothing
    id_field = page.get_by_label("证件号码", exact=True)
    id_field.fill(unused_id(dt.date(1990, 1, 1), 801))
    page.get_by_role("button", name="查询").click()
    page.get_by_text("未在本辖区人口库中找到").wait_for()
    assert page.get_by_label("申请人姓名").input_value() == ""

    # the applicant: typing the 18th character looks her up
    id_field.fill("")
    id_field.press_sequentially(elder_id)
    result = page.locator("#desk-lookup-result")
    result.get_by_text("顾桂芳").wait_for()
    assert page.get_by_label("申请人姓名").input_value() == "顾桂芳"
    assert page.get_by_label("联系地址").input_value() == "测试路9弄1号101室"
    assert result.get_by_text("可提供代办或预约上门服务：80 岁以上、独居老人、残疾二级").is_visible()
    offer = page.get_by_label(f"使用登记电话（尾号 {PHONE[-4:]}）")
    assert offer.is_visible() and offer.is_checked()
    assert page.get_by_label("联系电话").is_disabled()
    assert page.get_by_label("申请人持残疾人证").is_checked()
    assert PHONE not in page.content()

    page.get_by_label("代办人姓名").fill("顾伟")
    page.get_by_label("代办人身份证号码").fill(son_id)
    page.get_by_text("同户家庭成员（子女）").wait_for()
    screenshot(page, "desk-lookup")

    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_url("**/affairs/cases/**")
    case = Case.objects.get(id_number=elder_id)
    assert case.phone == PHONE and case.person_id == elder.pk and case.proxy_id_number == son_id
    assert page.get_by_text("代办人：同户家庭成员（子女）").is_visible()
    screenshot(page, "desk-lookup-accepted")
