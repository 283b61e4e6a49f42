"""Staff pages of the resident database: search, person (reveal, as of date D), household, house.

Data is built through the services, on the demo places and personas: `committee` works at
桥一居委会 (310101020001), `frontdesk` at 五里桥街道 (310101020), `frontdesk_b` at 打浦桥街道
(310101021), `inspector` does not read the resident database."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from shequ.audit.models import AccessAction, AccessLog
from shequ.core.idnumbers import make_resident_id
from shequ.people import services
from shequ.people.models import House, Household, Person
from shequ.people.services import PersonData

QIAO_YI = "310101020001"  # 桥一居委会, 五里桥街道
QIAO_ER = "310101020002"  # 桥二居委会, 五里桥街道
JIAN_YI = "310101021001"  # 建一居委会, 打浦桥街道

WANG_PHONE = "13912345678"
LI_PHONE = "13887654321"


def rid(birth: str, seq: int, area: str = "310101") -> str:
    """A valid resident ID number for a birth date "YYYYMMDD" (odd `seq`: a man)."""
    return make_resident_id(area, dt.datetime.strptime(birth, "%Y%m%d").date(), seq)


WANG_ID = rid("19500312", 122)  # odd 17th digit would be male: 122 → "2" → female
LI_ID = rid("19480501", 131)


def home(
    by, place_code: str, estate: str, building: str, room: str, unit: str = ""
) -> tuple[House, Household]:
    house = services.create_house(
        by=by, place_code=place_code, estate=estate, building=building, unit=unit, room=room
    )
    return house, services.create_household(by=by, kind="actual", house=house)


@pytest.fixture
def world(personas):
    """王秀英 and her husband 李明, both over 70, live at 长清路100弄3号2单元501室 (桥一), registered
    there too; 陈静 lives in 桥二, 赵刚 in 打浦桥. 王秀英 receives 低保."""
    by = personas["admin"]
    house, actual = home(by, QIAO_YI, "长清路100弄", "3", "501", unit="2")
    registered = services.create_household(by=by, kind="registered", house=house, number="H0001")
    joined = dt.date(2010, 5, 1)
    wang = services.register_person(
        by=by,
        data=PersonData(name="王秀英", id_number=WANG_ID, phone=WANG_PHONE),
        household=actual,
        joined_on=joined,
    )
    services.move_in(by=by, person=wang, household=registered, relation="head", on=joined)
    li = services.register_person(
        by=by,
        data=PersonData(name="李明", id_number=LI_ID, phone=LI_PHONE),
        household=actual,
        relation="spouse",
        joined_on=joined,
    )
    services.move_in(by=by, person=li, household=registered, relation="spouse", on=joined)
    services.add_tag(
        by=by, person=wang, tag="minimum_income", source="区民政局低保名册", since=dt.date(2021, 3, 1)
    )
    _, other = home(by, QIAO_ER, "蒙自路200弄", "5", "302")
    chen = services.register_person(
        by=by,
        data=PersonData(name="陈静", id_number=rid("19900101", 242), phone="13600001111"),
        household=other,
    )
    _, far = home(by, JIAN_YI, "徐家汇路50弄", "1", "101")
    zhao = services.register_person(
        by=by,
        data=PersonData(name="赵刚", id_number=rid("19850707", 351), phone="13700002222"),
        household=far,
    )
    return {"wang": wang, "li": li, "chen": chen, "zhao": zhao, "house": house, "actual": actual}


def search(client, query: str = "", **params: str):
    return client.get(reverse("people:search"), {"q": query, **params})


def results(response) -> str:
    """The result table only (the search box echoes what was typed)."""
    page = response.content.decode()
    start = page.find('<table class="table people-results">')
    assert start != -1, "no result table"
    return page[start : page.index("</table>", start)]


# ------------------------------------------------------------------------------ search


def test_search_needs_a_reader_role(world, client, client_as):
    assert search(client, "wxy").status_code == 302  # anonymous → sign in
    assert search(client_as("inspector"), "wxy").status_code == 403


def test_empty_query_shows_only_the_help(world, client_as):
    page = search(client_as("committee")).content.decode()
    assert "怎样查找" in page and "people-results" not in page and "王秀英" not in page


@pytest.mark.parametrize(
    "query",
    [
        WANG_ID,
        WANG_ID.lower(),
        WANG_PHONE,
        "wxy",
        "WXY",
        "wangxiuying",
        "wangxiu",
        "秀英",
        "王秀英",
        "长清路100弄",
    ],
)
def test_search_finds_by_id_phone_pinyin_name_and_address(world, client_as, query):
    response = search(client_as("committee"), query)
    assert response.status_code == 200
    table = results(response)
    assert "王秀英" in table
    assert "陈静" not in table and "赵刚" not in table


def test_address_search_finds_the_whole_household(world, client_as):
    table = results(search(client_as("committee"), "长清路100弄3号"))
    assert "王秀英" in table and "李明" in table and "长清路100弄3号2单元501室" in table


def test_results_are_masked_and_show_committee_address_and_tags(world, client_as):
    table = results(search(client_as("committee"), "秀英"))
    assert WANG_ID not in table and WANG_PHONE not in table
    assert WANG_ID[:6] + "********" + WANG_ID[-4:] in table
    assert "139****5678" in table
    assert "桥一居委会" in table and "长清路100弄3号2单元501室" in table
    assert "低保" in table and "70 岁以上" in table
    assert "女" in table


def test_search_is_scoped_to_the_users_places(world, client_as):
    committee = client_as("committee")
    assert "陈静" not in results(search(committee, "陈静"))  # 桥二 is another committee
    assert "陈静" in results(search(client_as("frontdesk"), "陈静"))  # but in frontdesk's street
    other = client_as("frontdesk_b")
    for query in ("wxy", WANG_ID, WANG_PHONE, "长清路"):
        table = results(search(other, query))
        assert "王秀英" not in table and "没有找到" in table
    assert "赵刚" in results(search(other, "zg"))


def test_tag_and_age_chips_filter(world, client_as):
    client = client_as("frontdesk")
    table = results(search(client, "", tag="minimum_income"))
    assert "王秀英" in table and "李明" not in table
    table = results(search(client, "", age="70"))
    assert "王秀英" in table and "李明" in table and "陈静" not in table
    assert search(client, "", age="55").status_code == 200  # a forged chip is a form error, not a 500
    assert "年龄段" in search(client, "", age="55").content.decode()


def test_results_are_capped_at_fifty(personas, client_as):
    by = personas["admin"]
    _, household = home(by, QIAO_YI, "瞿溪路1弄", "1", "101")
    for seq in range(51):
        services.register_person(
            by=by,
            data=PersonData(
                name=f"张{'一二三四五六七八九十'[seq % 10]}{seq}", id_number=rid("19800101", seq * 2 + 1)
            ),
            household=household,
            relation="head" if seq == 0 else "child",
        )
    response = search(client_as("committee"), "张")
    assert "仅显示前 50 条" in results(response)
    assert results(response).count("<tr>") == 51  # header row + 50


def test_search_query_count_is_bounded(world, client_as, django_assert_max_num_queries):
    client = client_as("frontdesk")
    with django_assert_max_num_queries(12):
        response = search(client, "长清路")
    assert "李明" in results(response)


# ------------------------------------------------------------------------------ person


def test_person_page_shows_facts_households_tags_and_moves(world, client_as):
    wang = world["wang"]
    page = client_as("committee").get(reverse("people:person", args=[wang.pk])).content.decode()
    assert "王秀英" in page and "1950-03-12" in page
    assert WANG_ID not in page and WANG_PHONE not in page and "139****5678" in page
    assert "户籍户" in page and "实住户" in page and "长清路100弄3号2单元501室" in page
    assert reverse("people:person", args=[world["li"].pk]) in page  # member link
    assert reverse("people:household", args=[world["actual"].pk]) in page
    assert "配偶" in page and "2010-05-01" in page
    assert "低保" in page and "区民政局低保名册" in page and "2021-03-01" in page
    assert "70 岁以上" in page and "纯老家庭" in page
    assert "人户一致" in page
    assert "查看完整证件号/电话" in page  # a committee worker may reveal


def test_person_page_shows_separation_and_expired_permit(world, personas, client_as):
    by = personas["admin"]
    _, actual = home(by, QIAO_YI, "长清路100弄", "4", "101")
    incoming = services.register_person(
        by=by,
        data=PersonData(
            name="刘洋洋",
            id_number=rid("19950505", 411, area="420106"),
            residence_type="incoming",
            residence_permit_number="JZ310101000123",
            residence_permit_expiry=dt.date(2020, 1, 31),
            registered_address="湖北省武汉市武昌区",
        ),
        household=actual,
    )
    page = client_as("committee").get(reverse("people:person", args=[incoming.pk])).content.decode()
    assert "来沪人员" in page and "2020-01-31" in page and "已过期" in page
    # a registered resident living in 桥一 whose registered household is in 桥二: 人在户不在
    reg_house, _ = home(by, QIAO_ER, "蒙自路200弄", "6", "101")
    registered = services.create_household(by=by, kind="registered", house=reg_house)
    mover = services.register_person(
        by=by,
        data=PersonData(name="周平", id_number=rid("19700101", 511)),
        household=actual,
        relation="non_relative",
    )
    services.move_in(by=by, person=mover, household=registered, relation="head", on=dt.date(2001, 1, 1))
    page = client_as("committee").get(reverse("people:person", args=[mover.pk])).content.decode()
    assert "人在户不在" in page
    # the registered household lies in 桥二: shown, but not linked for a 桥一 worker
    assert "蒙自路200弄6号101室" in page and reverse("people:household", args=[registered.pk]) not in page


def test_person_outside_scope_is_404(world, client_as):
    wang = world["wang"]
    assert client_as("frontdesk_b").get(reverse("people:person", args=[wang.pk])).status_code == 404
    assert client_as("committee").get(reverse("people:person", args=[world["chen"].pk])).status_code == 404
    assert client_as("committee").get(reverse("people:person", args=[999999])).status_code == 404
    assert client_as("inspector").get(reverse("people:person", args=[wang.pk])).status_code == 404


def test_person_page_query_count_is_bounded(world, client_as, django_assert_max_num_queries):
    client = client_as("committee")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("people:person", args=[world["wang"].pk]))
    assert response.status_code == 200


# ------------------------------------------------------------------------------ reveal


def test_reveal_needs_a_reason(world, client_as):
    wang = world["wang"]
    response = client_as("committee").post(reverse("people:reveal", args=[wang.pk]), {"reason": "  "})
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写查看原因" in page and WANG_ID not in page and WANG_PHONE not in page
    assert not AccessLog.objects.exists()


def test_reveal_is_logged_and_shows_full_numbers(world, personas, client_as):
    wang = world["wang"]
    client = client_as("committee")
    response = client.post(reverse("people:reveal", args=[wang.pk]), {"reason": "核对低保申请人身份"})
    assert response.status_code == 200
    page = response.content.decode()
    assert WANG_ID in page and WANG_PHONE in page
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert log.action == AccessAction.REVEAL and log.actor_id == personas["committee"].pk
    assert log.subject_type == "people.person" and log.subject_id == str(wang.pk)
    assert log.fields == ["id_number", "phone"] and log.purpose == "核对低保申请人身份"
    assert "王秀英" not in log.subject_repr  # the log keeps a masked name
    # nothing is kept: the next visit is masked again
    again = client.get(reverse("people:person", args=[wang.pk])).content.decode()
    assert WANG_ID not in again and WANG_PHONE not in again


def test_reveal_is_forbidden_without_the_permission(world, client_as):
    wang = world["wang"]
    frontdesk = client_as("frontdesk")  # may view, may not reveal
    assert (
        "查看完整证件号/电话" not in frontdesk.get(reverse("people:person", args=[wang.pk])).content.decode()
    )
    response = frontdesk.post(reverse("people:reveal", args=[wang.pk]), {"reason": "想看看"})
    assert response.status_code == 403
    assert WANG_ID not in response.content.decode()
    assert (
        client_as("frontdesk_b").post(reverse("people:reveal", args=[wang.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert not AccessLog.objects.exists()


def test_reveal_outside_scope_is_404(world, client_as):
    chen = world["chen"]  # 桥二: outside the committee worker's committee
    response = client_as("committee").post(reverse("people:reveal", args=[chen.pk]), {"reason": "核对"})
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_reveal_needs_post(world, client_as):
    assert client_as("committee").get(reverse("people:reveal", args=[world["wang"].pk])).status_code == 405


# ------------------------------------------------------------------------------ as of date D


@pytest.fixture
def changed(personas):
    """孙丽 registered on 2020-01-10 in 长清路100弄7号; on 2023-06-01 her phone changed and she moved
    to 长清路100弄8号."""
    by = personas["admin"]
    with time_machine.travel(dt.datetime(2020, 1, 10, 10, 0, tzinfo=dt.UTC), tick=False):
        _, first = home(by, QIAO_YI, "长清路100弄", "7", "201")
        person = services.register_person(
            by=by,
            data=PersonData(name="孙丽", id_number=rid("19600202", 622), phone="13511112222"),
            household=first,
            joined_on=dt.date(2020, 1, 10),
        )
    with time_machine.travel(dt.datetime(2023, 6, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        _, second = home(by, QIAO_YI, "长清路100弄", "8", "202")
        services.move_in(by=by, person=person, household=second, relation="head", on=dt.date(2023, 6, 1))
        person.refresh_from_db()
        # No edit service yet (change requests come later): a plain save keeps its history row.
        person.phone = "13633334444"
        person.save()
    return person


def test_as_of_shows_the_old_phone_and_household(changed, client_as):
    client = client_as("committee")
    url = reverse("people:person", args=[changed.pk])
    now = client.get(url).content.decode()
    assert "136****4444" in now and "长清路100弄8号202室" in now
    then = client.get(url, {"as_of": "2021-01-01"}).content.decode()
    assert "以下为 2021-01-01 日的记录" in then
    assert "135****2222" in then and "136****4444" not in then
    household_section = then[: then.index("迁入迁出记录")]
    assert "长清路100弄7号201室" in household_section and "长清路100弄8号202室" not in household_section
    # the move history itself is shown whole
    assert "长清路100弄8号202室" in then[then.index("迁入迁出记录") :]


def test_as_of_before_the_person_existed(changed, client_as):
    page = client_as("committee").get(reverse("people:person", args=[changed.pk]), {"as_of": "2019-12-31"})
    assert page.status_code == 200
    assert "尚无此人的记录" in page.content.decode()


def test_as_of_bad_dates_are_messages(changed, client_as):
    client = client_as("committee")
    url = reverse("people:person", args=[changed.pk])
    page = client.get(url, {"as_of": "2021-13-45"}).content.decode()
    assert "日期格式应为" in page and "136****4444" in page  # falls back to the current record
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert "不能晚于今天" in client.get(url, {"as_of": future}).content.decode()


def test_reveal_as_of_shows_the_old_numbers(changed, client_as):
    response = client_as("committee").post(
        reverse("people:reveal", args=[changed.pk]), {"reason": "核对历史联系方式", "as_of": "2021-01-01"}
    )
    page = response.content.decode()
    assert "13511112222" in page and "以下为 2021-01-01 日的记录" in page
    assert AccessLog.objects.count() == 1


# ------------------------------------------------------------------------------ household, house


def test_household_page_lists_current_and_former_members(changed, client_as):
    client = client_as("committee")
    first = Household.objects.get(house__building="7")
    page = client.get(reverse("people:household", args=[first.pk])).content.decode()
    assert "长清路100弄7号201室" in page and "曾经的成员" in page
    former = page[page.index("曾经的成员") :]
    assert "孙丽" in former and "2020-01-10" in former and "2023-06-01" in former
    second = Household.objects.get(house__building="8")
    page = client.get(reverse("people:household", args=[second.pk])).content.decode()
    assert "孙丽" in page[: page.index("曾经的成员")]
    assert client_as("frontdesk_b").get(reverse("people:household", args=[first.pk])).status_code == 404


def test_house_page_shows_address_committee_and_households(world, client_as):
    house = world["house"]
    client = client_as("frontdesk")
    page = client.get(reverse("people:house", args=[house.pk])).content.decode()
    assert "长清路100弄3号2单元501室" in page and "桥一居委会" in page and "自有住房" in page
    assert "户籍户" in page and "实住户" in page and "H0001" in page
    assert page.count("王秀英") >= 2 and reverse("people:person", args=[world["wang"].pk]) in page
    assert client_as("frontdesk_b").get(reverse("people:house", args=[house.pk])).status_code == 404
    assert client_as("inspector").get(reverse("people:house", args=[house.pk])).status_code == 404


def test_house_and_household_query_counts_are_bounded(world, client_as, django_assert_max_num_queries):
    client = client_as("committee")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("people:house", args=[world["house"].pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("people:household", args=[world["actual"].pk])).status_code == 200


def test_person_rows_are_not_changed_by_reading(world, client_as):
    wang = world["wang"]
    before = Person.history.filter(id=wang.pk).count()
    client_as("committee").get(reverse("people:person", args=[wang.pk]), {"as_of": "2015-01-01"})
    assert Person.history.filter(id=wang.pk).count() == before


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        ("frontdesk", ["查找", "数据质量", "人口概况"], ["导入", "信息变更"]),
        ("committee", ["查找", "导入", "信息变更", "数据质量"], []),
        ("leader", ["查找", "信息变更", "人口概况"], ["导入"]),
    ],
)
def test_tabs_show_the_pages_each_role_may_use(world, client_as, username, shown, hidden):
    page = client_as(username).get(reverse("people:search")).content.decode()
    tabs = page.split('class="people-tabs"', 1)[1].split("</nav>", 1)[0]
    for label in shown:
        assert f">{label}</a>" in tabs
    for label in hidden:
        assert f">{label}</a>" not in tabs
