"""The acceptance desk's look-up in the resident database: pre-fill, masking, scoping, the
access log, proxy eligibility and the proxy's relation to the applicant.

People are built through the services on the demo places: `frontdesk` is the clerk of 五里桥街道
(310101020), `frontdesk_b` of 打浦桥街道 (310101021); `committee` reads resident data but does not
accept cases; `inspector` does neither. The clock stands on 2026-11-23 so ages are fixed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from shequ.audit.models import AccessAction, AccessLog
from shequ.core.idnumbers import make_resident_id
from shequ.people import desk, services
from shequ.people.models import Person
from shequ.people.services import PersonData

pytestmark = pytest.mark.django_db

QIAO_YI = "310101020001"  # 桥一居委会, 五里桥街道
QIAO_ER = "310101020002"  # 桥二居委会, 五里桥街道
JIAN_YI = "310101021001"  # 建一居委会, 打浦桥街道
TODAY = dt.date(2026, 11, 23)


def rid(birth: str, seq: int) -> str:
    """A valid resident ID number born on "YYYYMMDD" (odd `seq`: a man)."""
    return make_resident_id("310101", dt.datetime.strptime(birth, "%Y%m%d").date(), seq)


WANG_ID, WANG_PHONE = rid("19400312", 122), "13912345678"  # 86, lives alone, disabled (二级), 低保
SON_ID = rid("19700808", 131)  # her son: in her registered household, lives in 桥二
ZHANG_ID, LIU_ID = rid("19500601", 151), rid("19520202", 162)  # an elderly couple
ZHOU_ID = rid("19600115", 171)  # 66, alone: 独居老人 but under PROXY_AGE
CHEN_ID = rid("19900101", 242)  # young, no tags
ZHAO_ID = rid("19850707", 351)  # lives in 打浦桥
SUN_ID = rid("19350505", 262)  # deceased
NOBODY_ID = rid("19881111", 373)  # on no record


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


def _home(by, place_code, estate, room):
    house = services.create_house(by=by, place_code=place_code, estate=estate, building="3", room=room)
    return house, services.create_household(by=by, kind="actual", house=house)


def _person(by, name, id_number, household, relation="head", phone=""):
    return services.register_person(
        by=by,
        data=PersonData(name=name, id_number=id_number, phone=phone),
        household=household,
        relation=relation,
        joined_on=dt.date(2010, 5, 1),
    )


KEYS = ("wang", "son", "zhang", "liu", "zhou", "chen", "zhao", "sun")


def build_desk_world(by) -> dict[str, Person]:
    """The people the desk tests look up (shared with shequ/affairs/tests/test_desk_people.py)."""
    house, actual = _home(by, QIAO_YI, "长清路100弄", "501")
    registered = services.create_household(by=by, kind="registered", house=house, number="H0001")
    wang = _person(by, "王秀英", WANG_ID, actual, phone=WANG_PHONE)
    services.move_in(by=by, person=wang, household=registered, relation="head", on=dt.date(2010, 5, 1))
    services.add_tag(
        by=by, person=wang, tag="disability", level=2, source="区残联", since=dt.date(2015, 1, 1)
    )
    services.add_tag(by=by, person=wang, tag="minimum_income", source="区民政局", since=dt.date(2021, 3, 1))
    _, son_home = _home(by, QIAO_ER, "蒙自路200弄", "302")
    son = _person(by, "李强", SON_ID, son_home, phone="13800001111")
    services.move_in(by=by, person=son, household=registered, relation="child", on=dt.date(2010, 5, 1))

    _, couple = _home(by, QIAO_YI, "瞿溪路50弄", "201")
    zhang = _person(by, "张建国", ZHANG_ID, couple, phone="13600002222")
    liu = _person(by, "刘芳", LIU_ID, couple, relation="spouse")
    _, alone = _home(by, QIAO_YI, "瞿溪路50弄", "202")
    zhou = _person(by, "周明", ZHOU_ID, alone)
    _, young = _home(by, QIAO_ER, "蒙自路200弄", "303")
    chen = _person(by, "陈静", CHEN_ID, young, phone="13700003333")
    _, far = _home(by, JIAN_YI, "徐家汇路50弄", "101")
    zhao = _person(by, "赵刚", ZHAO_ID, far, phone="13500004444")
    _, old = _home(by, QIAO_YI, "瞿溪路50弄", "203")
    sun = _person(by, "孙梅", SUN_ID, old, phone="13300005555")
    services.record_death(by=by, person=sun, on=dt.date(2026, 3, 1))
    sun.refresh_from_db()
    people = (wang, son, zhang, liu, zhou, chen, zhao, sun)
    return dict(zip(KEYS, people, strict=True))


@pytest.fixture
def people(personas):
    return build_desk_world(personas["admin"])


def look_up(client, id_number, **extra):
    return client.post(
        reverse("people:desk_lookup"), {"id_type": "resident_id", "id_number": id_number, **extra}
    )


# ------------------------------------------------------------------------------ the look-up


def test_lookup_in_scope_answers_masked_facts_tags_and_eligibility(people, client_as):
    response = look_up(client_as("frontdesk"), WANG_ID)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["found"] is True
    person = data["person"]
    assert (person["name"], person["gender"], person["age"]) == ("王秀英", "女", 86)
    assert person["address"] == "长清路100弄3号501室" and person["place_code"] == QIAO_YI
    assert person["phone_masked"] == "139****5678" and person["has_phone"] is True
    assert person["phone_offer"] == "使用登记电话（尾号 5678）"
    assert (person["status"], person["inactive"], person["status_note"]) == ("active", False, "")
    assert person["tags"] == ["残疾二级", "低保"] and person["disabled"] is True
    assert person["computed_tags"] == ["80 岁以上", "独居老人"]
    assert data["eligibility"] == {
        "eligible": True,
        "reasons": ["80 岁以上", "独居老人", "残疾二级", "低保"],
        "text": "可提供代办或预约上门服务：80 岁以上、独居老人、残疾二级、低保",
    }
    assert data["proxy"] is None
    body = response.content.decode()
    assert WANG_PHONE not in body and WANG_ID not in body  # neither number in clear


def test_lookup_normalises_the_number_typed(people, client_as):
    data = look_up(client_as("frontdesk"), " " + WANG_ID[:6] + " " + WANG_ID[6:].lower()).json()
    assert data["found"] and data["person"]["name"] == "王秀英"


def test_each_lookup_that_shows_a_person_is_logged(people, client_as, personas):
    client = client_as("frontdesk")
    look_up(client, WANG_ID)
    look_up(client, NOBODY_ID)
    row = AccessLog.objects.get()
    assert row.action == AccessAction.VIEW and row.purpose == "窗口受理查询"
    assert row.subject_type == "people.person" and row.subject_id == str(people["wang"].pk)
    assert row.actor_id == personas["frontdesk"].pk and row.place_code == QIAO_YI
    assert WANG_ID not in row.subject_repr and row.subject_repr.startswith("王**")
    look_up(client, WANG_ID, proxy_id_number=SON_ID)
    assert AccessLog.objects.count() == 2


def test_not_on_record_and_out_of_scope_answer_the_same(people, client_as):
    other_street = look_up(client_as("frontdesk_b"), WANG_ID)  # 王秀英 lives in 五里桥
    nobody = look_up(client_as("frontdesk_b"), NOBODY_ID)
    assert other_street.status_code == nobody.status_code == 200
    assert other_street.content == nobody.content
    assert nobody.json() == {"found": False, "message": "未在本辖区人口库中找到"}
    assert not AccessLog.objects.exists()
    assert look_up(client_as("frontdesk_b"), ZHAO_ID).json()["person"]["name"] == "赵刚"
    assert look_up(client_as("frontdesk"), ZHAO_ID).json()["found"] is False


def test_deceased_person_is_flagged_and_offers_nothing(people, client_as):
    data = look_up(client_as("frontdesk"), SUN_ID).json()
    person = data["person"]
    assert person["name"] == "孙梅" and person["status"] == "deceased" and person["inactive"] is True
    assert person["status_label"] == "已死亡" and "已死亡（2026-03-01）" in person["status_note"]
    assert person["age"] == 90  # at death
    assert person["has_phone"] is False and person["phone_masked"] == "" and person["phone_offer"] == ""
    assert person["address"] == ""
    assert data["eligibility"]["eligible"] is False and data["eligibility"]["text"] == ""


def test_moved_out_person_is_flagged(people, client_as, personas):
    services.move_out(by=personas["admin"], person=people["chen"], on=dt.date(2026, 6, 1))
    person = look_up(client_as("frontdesk"), CHEN_ID).json()["person"]
    assert person["status"] == "moved_out" and person["inactive"] is False
    assert "已迁出（2026-06-01）" in person["status_note"] and person["address"] == ""
    assert person["has_phone"] is True  # still the phone on record


def test_a_malformed_number_is_named(people, client_as):
    response = look_up(client_as("frontdesk"), WANG_ID[:-1] + ("0" if WANG_ID[-1] != "0" else "1"))
    assert response.status_code == 400
    assert response.json() == {"found": False, "message": "身份证号码校验位不正确，请核对是否输错。"}
    assert look_up(client_as("frontdesk"), "123").status_code == 400
    assert not AccessLog.objects.exists()


def test_lookup_is_for_the_desk_only(people, client, client_as):
    assert look_up(client, WANG_ID).status_code == 302  # anonymous → sign in
    assert look_up(client_as("inspector"), WANG_ID).status_code == 403
    assert look_up(client_as("committee"), WANG_ID).status_code == 403  # reads people, accepts no cases
    assert client_as("frontdesk").get(reverse("people:desk_lookup")).status_code == 405
    assert not AccessLog.objects.exists()


def test_lookup_needs_the_csrf_token(people, personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["frontdesk"])
    assert look_up(client, WANG_ID).status_code == 403


def test_lookup_query_count_is_bounded(people, client_as, django_assert_max_num_queries):
    client = client_as("frontdesk")
    with django_assert_max_num_queries(20):
        assert look_up(client, WANG_ID, proxy_id_number=SON_ID).json()["found"]


# ------------------------------------------------------------------------------ eligibility


def test_eligibility_from_the_record(people):
    assert desk.eligibility(people["zhang"]).reasons == ["70 岁以上", "纯老家庭"]
    assert desk.eligibility(people["zhou"]).reasons == ["独居老人"]  # 66: below PROXY_AGE (70)
    assert desk.eligibility(people["chen"]).reasons == []
    assert desk.eligibility(people["chen"], disabled=True).reasons == ["持残疾人证"]
    assert desk.eligibility(people["wang"], disabled=True).reasons == [
        "80 岁以上",
        "独居老人",
        "残疾二级",
        "低保",
    ]
    assert desk.eligibility(people["sun"]).eligible is False


def test_an_ended_tag_no_longer_counts(people):
    tag = people["wang"].tags.get(tag="minimum_income")
    tag.until = dt.date(2026, 1, 31)
    tag.save()
    assert "低保" not in desk.eligibility(people["wang"]).reasons


# ------------------------------------------------------------------------------ the proxy


def test_proxy_in_the_registered_household_is_family(people):
    check = desk.check_proxy(people["wang"], SON_ID)
    assert check == desk.ProxyCheck(True, "子女", "同户家庭成员（子女）")


def test_proxy_relation_is_read_both_ways(people):
    assert desk.check_proxy(people["zhang"], LIU_ID).text == "同户家庭成员（配偶）"  # applicant is head
    assert desk.check_proxy(people["liu"], ZHANG_ID).text == "同户家庭成员（配偶）"  # proxy is head
    assert desk.check_proxy(people["son"], WANG_ID).text == "同户家庭成员（父母）"


def test_proxy_from_outside_the_household_needs_a_power_of_attorney(people, personas):
    assert desk.check_proxy(people["wang"], CHEN_ID).text == "非同户人员代办，需提供授权委托书"
    assert desk.check_proxy(people["wang"], NOBODY_ID) == desk.ProxyCheck(
        False, "", "非同户人员代办，需提供授权委托书"
    )
    # a former member no longer counts
    services.move_out(by=personas["admin"], person=people["liu"], on=dt.date(2026, 6, 1))
    assert desk.check_proxy(people["zhang"], LIU_ID).same_household is False
    assert desk.check_proxy(people["wang"], "not a number") is None
    assert "同一人" in desk.check_proxy(people["wang"], WANG_ID).text


def test_lookup_reports_the_proxy(people, client_as):
    data = look_up(client_as("frontdesk"), WANG_ID, proxy_id_number=SON_ID).json()
    assert data["proxy"] == {"same_household": True, "relation": "子女", "text": "同户家庭成员（子女）"}
    data = look_up(client_as("frontdesk"), WANG_ID, proxy_id_number=CHEN_ID).json()
    assert data["proxy"]["text"] == "非同户人员代办，需提供授权委托书"
    assert CHEN_ID not in look_up(client_as("frontdesk"), WANG_ID, proxy_id_number=CHEN_ID).content.decode()


@pytest.mark.parametrize(
    ("applicant", "proxy", "expected"),
    [
        ("head", "grandchild", "孙子女"),
        ("child", "head", "父母"),
        ("grandchild", "head", "祖父母/外祖父母"),
        ("child_in_law", "head", "公婆/岳父母"),
        ("spouse", "child", "子女"),
        ("child", "child", "兄弟姐妹"),
        ("parent", "spouse", "儿媳/女婿"),
        ("sibling", "child", "户主的子女"),
    ],
)
def test_relation_between_two_members(applicant, proxy, expected):
    assert desk._relation(applicant, proxy) == expected
