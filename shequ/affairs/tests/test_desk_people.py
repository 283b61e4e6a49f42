"""The desk with the resident database behind it: the case remembers the person, the stored
phone is used without being shown, and the proxy reminder comes from the record."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db.models import ProtectedError
from django.urls import reverse

from shequ.affairs import services
from shequ.affairs.models import Case, OneTimeNotice
from shequ.core.idempotency import FORM_FIELD, new_key
from shequ.core.idnumbers import make_resident_id
from shequ.people.models import Person
from shequ.people.tests.test_desk import (
    CHEN_ID,
    NOBODY_ID,
    SON_ID,
    SUN_ID,
    WANG_ID,
    WANG_PHONE,
    ZHAO_ID,
    ZHOU_ID,
    build_desk_world,
)

from .test_desk import all_materials, make_matter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def people(personas):
    return build_desk_world(personas["admin"])


@pytest.fixture
def dibao(demo):
    return make_matter("t-dibao", "最低生活保障申请")


def desk_post(client, matter, **overrides):
    data = {
        "matter": matter.pk,
        "place_code": "310101020001",
        "name": "王秀英",
        "id_type": "resident_id",
        "id_number": WANG_ID,
        "phone": "",
        "received": all_materials(matter),
        "delivery_method": "window",
        FORM_FIELD: new_key(),
    }
    data.update(overrides)
    return client.post(reverse("affairs:desk"), data)


def shown_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_accept_with_the_stored_phone_stores_the_real_one(people, dibao, client_as):
    client = client_as("frontdesk")
    response = desk_post(client, dibao, use_stored_phone="on")
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.phone == WANG_PHONE and case.order.subject_phone == WANG_PHONE
    assert case.person_id == people["wang"].pk and case.order.subject_person_id == people["wang"].pk
    page = client.get(response["Location"]).content.decode()
    assert WANG_PHONE not in page and "139****5678" in page


def test_the_stored_phone_wins_over_what_the_browser_sends(people, dibao, client_as):
    desk_post(client_as("frontdesk"), dibao, use_stored_phone="on", phone="13000000000")
    assert Case.objects.get().phone == WANG_PHONE


def test_the_stored_phone_is_read_at_acceptance(people, dibao, client_as, personas):
    client = client_as("frontdesk")
    Person.objects.filter(pk=people["wang"].pk).update(phone="13911112222")  # changed after the look-up
    desk_post(client, dibao, use_stored_phone="on")
    assert Case.objects.get().phone == "13911112222"


@pytest.mark.parametrize(
    ("id_number", "why"),
    [
        (ZHOU_ID, "on record without a phone"),
        (NOBODY_ID, "not on record"),
        (ZHAO_ID, "on record in another street"),
        (SUN_ID, "deceased"),
    ],
)
def test_no_stored_phone_to_use_is_a_field_error(people, dibao, client_as, id_number, why):
    response = desk_post(client_as("frontdesk"), dibao, id_number=id_number, use_stored_phone="on")
    assert response.status_code == 200, why
    assert "人口库中没有该申请人的登记电话，请填写联系电话。" in response.content.decode()
    assert not Case.objects.exists() and not OneTimeNotice.objects.exists()


def test_the_case_remembers_the_person(people, dibao, client_as):
    client = client_as("frontdesk")
    desk_post(client, dibao, phone="13912345678")
    desk_post(client, dibao, name="陈静", id_number=CHEN_ID, phone="13700003333")
    desk_post(client, dibao, name="某某", id_number=NOBODY_ID, phone="13700009999")
    wang, chen = people["wang"], people["chen"]
    assert [c.name for c in Case.objects.filter(person=wang)] == ["王秀英"]
    assert [c.name for c in wang.affairs_cases.all()] == ["王秀英"]  # later modules list them so
    assert [c.name for c in chen.affairs_cases.all()] == ["陈静"]
    assert Case.objects.get(name="某某").person is None
    with pytest.raises(ProtectedError):
        wang.delete()  # a case keeps who it was for


def test_a_person_outside_the_clerks_places_is_not_linked(people, dibao, client_as):
    desk_post(client_as("frontdesk"), dibao, name="赵刚", id_number=ZHAO_ID, phone="13500004444")
    assert Case.objects.get().person is None


def test_a_one_time_notice_remembers_the_person_too(people, dibao, client_as):
    desk_post(client_as("frontdesk"), dibao, phone="13912345678", received=[])
    assert OneTimeNotice.objects.get().person == people["wang"]


def test_the_proxy_reminder_comes_from_the_record(people, dibao, client_as):
    response = desk_post(
        client_as("frontdesk"), dibao, phone="13912345678", proxy_name="李强", proxy_id_number=SON_ID
    )
    assert response.status_code == 302
    assert (
        "可提供代办或预约上门服务：80 岁以上、独居老人、残疾二级、低保。代办人：同户家庭成员（子女）。"
        in shown_messages(response)
    )


def test_a_proxy_from_outside_the_household_is_told_to_bring_a_power_of_attorney(people, dibao, client_as):
    response = desk_post(
        client_as("frontdesk"),
        dibao,
        name="陈静",
        id_number=CHEN_ID,
        phone="13700003333",
        proxy_name="王秀英",
        proxy_id_number=WANG_ID,
    )
    assert "代办人：非同户人员代办，需提供授权委托书。" in shown_messages(
        response
    )  # 陈静 herself: no reasons


def test_an_applicant_not_on_record_keeps_the_old_reminder(people, dibao, client_as):
    elder = make_resident_id("310101", dt.date(1950, 5, 6), 31)
    response = desk_post(client_as("frontdesk"), dibao, name="某某", id_number=elder, phone="13700009999")
    assert Case.objects.get().person is None
    assert any("已满 76 周岁" in m for m in shown_messages(response))


def test_proxy_prompt_with_reasons_and_a_proxy_note():
    applicant = services.ApplicantData(name="王秀英", id_number=WANG_ID, phone=WANG_PHONE)
    assert services.proxy_prompt(applicant, reasons=["80 岁以上", "独居老人"]) == (
        "可提供代办或预约上门服务：80 岁以上、独居老人。"
    )
    # on record but nothing qualifies: no reminder, whatever the age in the number says
    assert services.proxy_prompt(applicant, reasons=[]) is None
    assert services.proxy_prompt(applicant, reasons=[], proxy_note="非同户人员代办，需提供授权委托书") == (
        "代办人：非同户人员代办，需提供授权委托书。"
    )


# ------------------------------------------------------------------------------ the page


def test_desk_page_offers_the_lookup_and_no_phone(people, dibao, client_as):
    page = client_as("frontdesk").get(reverse("affairs:desk")).content.decode()
    assert reverse("people:desk_lookup") in page and 'id="desk-lookup-button"' in page
    assert 'name="use_stored_phone"' in page and WANG_PHONE not in page


def test_desk_still_works_without_the_lookup(people, dibao, client_as):
    """A plain form post (no JS, no look-up) accepts as before."""
    response = desk_post(client_as("frontdesk"), dibao, name="某某", id_number=NOBODY_ID, phone="13700009999")
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.phone, case.person) == ("13700009999", None)


def test_inspector_gets_neither_desk_nor_lookup(people, client_as):
    client = client_as("inspector")
    assert client.get(reverse("affairs:desk")).status_code == 403
    assert client.post(reverse("people:desk_lookup"), {"id_number": WANG_ID}).status_code == 403
