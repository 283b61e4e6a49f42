"""A committee worker finds a resident by pinyin initials, sees the household and the house,
and reveals the ID number with a reason (which the access log keeps)."""

from __future__ import annotations

import pytest

from shequ.audit.models import AccessLog
from shequ.people.models import Membership, Person

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser


def test_find_by_initials_then_household_house_and_reveal(page):
    membership = (
        Membership.objects.filter(
            kind="actual",
            left_on__isnull=True,
            person__place_code="310101020001",
            household__memberships__relation="spouse",
        )
        .select_related("person", "household__house")
        .order_by("person__id")
        .first()
    )
    assert membership is not None, "the demo has a couple in 桥一居委会"
    person: Person = membership.person
    login(page, "committee")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + "/people/")
    page.get_by_role("searchbox").or_(page.locator("input[name=q]")).first.fill(person.name_initials)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=person.name).first.click()
    page.wait_for_url(f"**/people/{person.pk}/")
    assert page.get_by_text(person.id_number).count() == 0  # masked until revealed
    assert page.get_by_text(membership.household.house.address).first.is_visible()
    screenshot(page, "people-person")

    page.locator("textarea, input[name=reason]").first.fill("核对低保申请材料")
    page.get_by_role("button", name="显示完整号码").click()
    page.get_by_text(person.id_number).first.wait_for()
    screenshot(page, "people-revealed")
    log = AccessLog.objects.get(subject_type="people.person", subject_id=str(person.pk))
    assert log.purpose == "核对低保申请材料"

    page.get_by_text("查看本户").last.click()
    page.wait_for_url("**/people/households/**")
    screenshot(page, "people-household")
    page.get_by_role("link", name=membership.household.house.address).first.click()
    page.wait_for_url("**/people/houses/**")
    assert page.get_by_text(person.name).first.is_visible()
    screenshot(page, "people-house")
