"""Data quality per committee, the population summary and the masked export.

A known world is built through the services on the demo places, on a fixed day (2026-06-15);
legacy faults that the services refuse (a wrong check digit, a date that disagrees with the ID)
are written into the rows afterwards, as an old import would have left them. Every count below
is worked out by hand from that world (see `world`)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from stdnum import numdb
from stdnum.cn import ric

from shequ.audit.models import AccessAction, AccessLog
from shequ.core.idnumbers import make_resident_id
from shequ.people import quality, quality_views, services
from shequ.people.models import House, Household, Person
from shequ.people.services import PersonData
from shequ.places.models import Place

QIAO_YI = "310101020001"  # 桥一居委会, 五里桥街道
QIAO_ER = "310101020002"  # 桥二居委会
QIAO_SAN = "310101020003"  # 桥三居委会
STREET = "310101020"  # 五里桥街道
OTHER_STREET = "310101021"  # 打浦桥街道
JIAN_YI = "310101021001"  # 建一居委会, 打浦桥街道
TODAY = dt.date(2026, 6, 15)

_counter = itertools.count()
_phones = itertools.count(13900000000)


def rid(birth: dt.date, male: bool, area: str = "310101") -> str:
    """A valid resident ID number, a new sequence number each time (odd for a man)."""
    return make_resident_id(area, birth, 100 + (next(_counter) % 440) * 2 + int(male))


@pytest.fixture
def today(time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    return TODAY


class World:
    """Builds houses, households and persons through the services."""

    def __init__(self, by) -> None:
        self.by = by
        self.people: dict[str, Person] = {}

    def house(self, place: str, room: str, estate: str = "长清路100弄", building: str = "3") -> House:
        return services.create_house(
            by=self.by, place_code=place, estate=estate, building=building, room=room
        )

    def household(self, house: House, kind: str = "actual") -> Household:
        return services.create_household(by=self.by, kind=kind, house=house)

    def person(
        self,
        name: str,
        born: str,
        male: bool,
        *,
        actual: Household | None = None,
        registered: Household | None = None,
        relation: str = "head",
        phone: bool = True,
        **fields,
    ) -> Person:
        birth = dt.date.fromisoformat(born)
        data = PersonData(
            name=name,
            id_number=fields.pop("id_number", None) or rid(birth, male),
            phone=str(next(_phones)) if phone else "",
            **fields,
        )
        person = services.register_person(
            by=self.by, data=data, household=actual, relation=relation, joined_on=dt.date(2015, 1, 1)
        )
        if registered is not None:
            services.move_in(
                by=self.by, person=person, household=registered, relation=relation, on=dt.date(2015, 1, 1)
            )
        person.refresh_from_db()
        self.people[name] = person
        return person


@pytest.fixture
def world(personas, today):
    """桥一 (15 on record):
    A 501  王秀英 76 F, 李明 78 M (actual and registered here: elders only); 周强 moved out,
           registration kept (户在人不在)
    B 502  张伟 35 M no phone, registered at C in 桥二 (人在户不在); 赵磊 incoming, permit ends in
           10 days
    D 503  陈芳 incoming, permit expired yesterday
    E 601  孙丽 86 F, lives alone (吴刚 died)
    F 602  钱军 (child: no head; registered head of his own registered household there),
           冯雪 (came from I, registered nowhere: 人在户不在)
    G 701  黄涛 (wrong check digit), 林娜 (birth date differs), 郭勇 (gender differs), 罗斌 (area
           code 990101), 何平 (30 February), John Smith (passport, no phone), all registered
           here; 马丽 registered here only (no actual household, 户在人不在)
    H 702  no household; I 703: a household nobody lives in any more
    桥二 (3): 陈静 36, her mother 60 today, her father 59 until tomorrow; 打浦桥 建一: 赵刚."""
    w = World(personas["admin"])
    a = w.house(QIAO_YI, "501")
    actual_a, registered_a = w.household(a), w.household(a, "registered")
    w.person("王秀英", "1950-03-12", False, actual=actual_a, registered=registered_a)
    w.person("李明", "1948-05-01", True, actual=actual_a, registered=registered_a, relation="spouse")
    zhou = w.person("周强", "1985-01-10", True, actual=actual_a, registered=registered_a, relation="child")
    services.move_out(by=w.by, person=zhou, on=dt.date(2025, 1, 1))

    c = w.house(QIAO_ER, "302", estate="蒙自路200弄", building="5")
    registered_c = w.household(c, "registered")
    b = w.house(QIAO_YI, "502")
    actual_b = w.household(b)
    w.person("张伟", "1990-07-07", True, actual=actual_b, registered=registered_c, phone=False)
    permit = {"residence_type": "incoming", "residence_permit_number": "SH0001"}
    w.person(
        "赵磊",
        "1995-02-02",
        True,
        actual=actual_b,
        relation="non_relative",
        residence_permit_expiry=TODAY + dt.timedelta(days=10),
        **permit,
    )
    d = w.house(QIAO_YI, "503")
    w.person(
        "陈芳",
        "1996-09-09",
        False,
        actual=w.household(d),
        residence_permit_expiry=TODAY - dt.timedelta(days=1),
        **permit,
    )

    e = w.house(QIAO_YI, "601")
    actual_e, registered_e = w.household(e), w.household(e, "registered")
    w.person("孙丽", "1940-01-01", False, actual=actual_e, registered=registered_e)
    wu = w.person("吴刚", "1930-01-01", True, actual=actual_e, registered=registered_e, relation="spouse")
    services.record_death(by=w.by, person=wu, on=dt.date(2024, 2, 1))

    f = w.house(QIAO_YI, "602")
    actual_f = w.household(f)
    w.person("钱军", "2000-03-03", True, actual=actual_f, relation="child")
    services.move_in(
        by=w.by, person=w.people["钱军"], household=w.household(f, "registered"), relation="head", on=TODAY
    )
    i = w.house(QIAO_YI, "703", building="4")
    feng = w.person("冯雪", "2001-01-01", False, actual=w.household(i))
    services.move_in(by=w.by, person=feng, household=actual_f, relation="child", on=dt.date(2026, 1, 1))

    g = w.house(QIAO_YI, "701", building="4")
    actual_g, registered_g = w.household(g), w.household(g, "registered")
    huang = w.person("黄涛", "1980-04-04", True, actual=actual_g, registered=registered_g)
    lin = w.person("林娜", "1982-08-08", False, actual=actual_g, registered=registered_g, relation="spouse")
    guo = w.person("郭勇", "1975-12-12", True, actual=actual_g, registered=registered_g, relation="sibling")
    luo = w.person("罗斌", "1970-01-01", True, actual=actual_g, registered=registered_g, relation="relative")
    he = w.person("何平", "1980-02-28", True, actual=actual_g, registered=registered_g, relation="relative")
    w.person(
        "John Smith",
        "1985-05-05",
        True,
        actual=actual_g,
        registered=registered_g,
        relation="non_relative",
        id_type="passport",
        id_number="E12345678",
        gender="M",
        birth_date=dt.date(1985, 5, 5),
        residence_type="foreign",
        phone=False,
    )
    ma = w.person("马丽", "1978-06-06", False, registered=registered_g, relation="sibling")
    w.house(QIAO_YI, "702", building="4")  # H: no household at all

    # Legacy faults, written as an old import left them.
    wrong_check = huang.id_number[:17] + str((int(huang.id_number[17].replace("X", "10")) + 1) % 10)
    Person.objects.filter(pk=huang.pk).update(id_number=wrong_check)
    Person.objects.filter(pk=lin.pk).update(birth_date=dt.date(1982, 8, 9))
    Person.objects.filter(pk=guo.pk).update(gender="F")
    Person.objects.filter(pk=luo.pk).update(id_number=make_resident_id("990101", dt.date(1970, 1, 1), 101))
    body = "31010119800230011"
    Person.objects.filter(pk=he.pk).update(id_number=body + ric.calc_check_digit(body + "0"))
    Person.objects.filter(pk=ma.pk).update(place_code=QIAO_YI)

    j = w.house(QIAO_ER, "303", estate="蒙自路200弄", building="5")
    actual_j, registered_j = w.household(j), w.household(j, "registered")
    w.person("陈静", "1990-01-01", False, actual=actual_j, registered=registered_j)
    w.person("陈母", "1966-06-15", False, actual=actual_j, registered=registered_j, relation="parent")
    w.person("陈父", "1966-06-16", True, actual=actual_j, registered=registered_j, relation="parent")

    k = w.house(JIAN_YI, "101", estate="徐家汇路50弄", building="1")
    w.person("赵刚", "1985-07-07", True, actual=w.household(k), phone=False)

    tag = services.add_tag
    tag(
        by=w.by, person=w.people["王秀英"], tag="minimum_income", source="区民政局", since=dt.date(2021, 3, 1)
    )
    tag(by=w.by, person=w.people["孙丽"], tag="minimum_income", source="区民政局", since=dt.date(2022, 1, 1))
    tag(
        by=w.by,
        person=w.people["孙丽"],
        tag="disability",
        level=2,
        source="区残联",
        since=dt.date(2020, 1, 1),
    )
    old = tag(
        by=w.by, person=w.people["李明"], tag="veteran", source="区退役军人局", since=dt.date(2019, 1, 1)
    )
    type(old).objects.filter(pk=old.pk).update(until=dt.date(2025, 12, 31))  # ended: not counted
    tag(by=w.by, person=zhou, tag="veteran", source="区退役军人局", since=dt.date(2019, 1, 1))  # moved out
    return w


QIAO_YI_COUNTS = {
    "active": 15,
    "no_phone": 2,  # 张伟, John Smith
    "no_actual": 1,  # 马丽
    "invalid_id": 3,  # 黄涛 (check digit), 罗斌 (area), 何平 (30 February)
    "birth_differs": 2,  # 林娜, and 何平 (no such day in the ID)
    "gender_differs": 1,  # 郭勇
    "permit_expired": 1,  # 陈芳
    "permit_expiring": 1,  # 赵磊
    "separated_here": 2,  # 张伟, 冯雪
    "separated_away": 2,  # 周强 (moved out), 马丽
    "no_head": 1,  # F's actual household
    "empty_house": 2,  # H, I
}
QIAO_ER_COUNTS = dict.fromkeys(QIAO_YI_COUNTS, 0) | {"active": 3}
STREET_COUNTS = {key: QIAO_YI_COUNTS[key] + QIAO_ER_COUNTS[key] for key in QIAO_YI_COUNTS}


def scope_of(prefix: str) -> quality.Scope:
    return quality.Scope(
        people=Person.objects.filter(place_code__within=prefix),
        households=Household.objects.filter(place_code__within=prefix),
        houses=House.objects.filter(place_code__within=prefix),
    )


# ------------------------------------------------------------------------------ the counts


def test_counts_per_committee_are_exact(world, today):
    counts = quality.quality_counts(scope_of(STREET), today)
    assert counts[QIAO_YI] == QIAO_YI_COUNTS
    assert {k: v for k, v in counts[QIAO_ER].items() if v} == {"active": 3}
    assert set(counts) == {QIAO_YI, QIAO_ER}  # nothing in the other committees, nothing outside
    jian = quality.quality_counts(scope_of(OTHER_STREET), today)[JIAN_YI]
    assert {k: v for k, v in jian.items() if v} == {"active": 1, "no_phone": 1, "separated_here": 1}


def test_separation_in_sql_agrees_with_the_services(world, today):
    """The aggregate's 人户分离 is `services.separation`, person by person."""
    expected: dict[str, set[str]] = {"人在户不在": set(), "户在人不在": set()}
    for person in Person.objects.filter(status__in=("active", "moved_out")):
        label = services.separation(person)
        if label:
            expected[label].add(person.name)
    scope = scope_of("310101")
    here = {p.name for p in quality.issue_rows(scope, "separated_here", today)}
    away = {p.name for p in quality.issue_rows(scope, "separated_away", today)}
    assert here == expected["人在户不在"] == {"张伟", "冯雪", "赵刚"}
    assert away == expected["户在人不在"] == {"周强", "马丽"}


def test_issue_rows_name_the_people(world, today):
    scope = scope_of(QIAO_YI)

    def names(key):
        return {p.name for p in quality.issue_rows(scope, key, today)}

    assert names("invalid_id") == {"黄涛", "罗斌", "何平"}
    assert names("birth_differs") == {"林娜", "何平"}
    assert names("gender_differs") == {"郭勇"}
    assert names("permit_expired") == {"陈芳"}
    assert names("permit_expiring") == {"赵磊"}
    assert names("no_phone") == {"张伟", "John Smith"}
    assert names("no_actual") == {"马丽"}
    assert [h.house.room for h in quality.issue_rows(scope, "no_head", today)] == ["602"]
    assert sorted(h.room for h in quality.issue_rows(scope, "empty_house", today)) == ["702", "703"]


def _reference_valid(number: str, today: dt.date, districts: set[str]) -> bool:
    """What `core.idnumbers` accepts, except that an area code stdnum knows is accepted for any
    birth year (quality.py explains why)."""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    if number[17] != ric.calc_check_digit(number):
        return False
    try:
        if ric.get_birth_date(number) > today:
            return False
    except Exception:
        return False
    info = {k: v for _p, props in numdb.get("cn/loc").info(number[:6]) for k, v in props.items()}
    return "county" in info or number[:6] in districts


def test_id_check_in_sql_matches_stdnum(db, today):
    """Valid numbers, and each kind of fault: every digit mutated, dates that do not exist
    (29 February of 1900 and 2000, 31 April), future dates, unknown areas, bad lengths."""
    rng = random.Random(4)
    numbers: set[str] = set()
    for area in ("310101", "310115", "310151", "110105", "990101", "310000", "000000"):
        for year in (1900, 1950, 2000, 2024, 2027):
            for month, day in ((2, 28), (2, 29), (4, 30), (4, 31), (12, 31), (13, 1), (0, 5)):
                body = f"{area}{year:04d}{month:02d}{day:02d}{rng.randrange(1000):03d}"
                numbers.add(body + ric.calc_check_digit(body + "0"))
    for _ in range(150):
        valid = make_resident_id(
            "310101", dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000)), rng.randrange(1000)
        )
        numbers.add(valid)
        position = rng.randrange(18)
        numbers.add(valid[:position] + rng.choice("0123456789X") + valid[position + 1 :])
    numbers |= {
        "3101011980010112",
        "31010119800101123X1",
        "31010119800101123x",
        "ABCDEFGHIJKLMNOPQR",
        "3101011980010112 3",
    }
    Person.objects.bulk_create(
        Person(name=f"p{i}", id_number=number, gender="M", birth_date=dt.date(1980, 1, 1), place_code=QIAO_YI)
        for i, number in enumerate(sorted(numbers))
    )
    districts = set(Place.objects.filter(kind="district").values_list("code", flat=True))
    people = Person.objects.all()
    annotated = quality.with_id_checks(people, today, quality.unknown_areas(people))
    got = {p.id_number: p.id_valid for p in annotated}  # type: ignore[attr-defined]
    wrong = {n: got[n] for n in numbers if bool(got[n]) != _reference_valid(n.upper(), today, districts)}
    assert not wrong
    assert 0 < sum(got.values()) < len(numbers)  # both kinds present


# ------------------------------------------------------------------------------ the page


def page(client, name: str = "people:quality", **params):
    return client.get(reverse(name), params)


def quality_rows(response) -> dict[str, dict[str, int]]:
    """{row label: {issue key: count}} read back from the rendered context."""
    return {row.label: row.counts for row in response.context["rows"]}


def test_street_page_has_each_committee_and_the_total(world, client_as):
    response = page(client_as("leader"))
    assert response.status_code == 200
    rows = quality_rows(response)
    assert list(rows) == [
        "桥一居委会",
        "桥二居委会",
        "桥三居委会",
        "丽园居委会",
        "瞿溪居委会",
        "蒙自居委会",
        "五里桥街道 合计",
    ]
    assert rows["桥一居委会"] == QIAO_YI_COUNTS
    assert rows["桥二居委会"] == QIAO_ER_COUNTS
    assert rows["五里桥街道 合计"] == STREET_COUNTS
    html = response.content.decode()
    assert f"?place={QIAO_YI}&amp;issue=invalid_id#issue-list" in html  # each count links to its list
    assert "打浦桥" not in html and "建一" not in html


def test_committee_worker_sees_only_their_committee(world, client_as):
    client = client_as("committee")
    rows = quality_rows(page(client))
    assert rows == {"桥一居委会": QIAO_YI_COUNTS}
    assert page(client, place=QIAO_ER).status_code == 404
    assert page(client, place=STREET).status_code == 404
    assert page(client, place=JIAN_YI).status_code == 404
    assert page(client, place="31010102000100").status_code == 404  # no such place
    assert page(client, place="abc").status_code == 404


def test_district_page_rows_are_streets_with_a_drill_down(world, client_as):
    client = client_as("district_leader")
    response = page(client)
    rows = quality_rows(response)
    assert rows["五里桥街道"] == STREET_COUNTS
    assert rows["打浦桥街道"]["active"] == 1 and rows["打浦桥街道"]["separated_here"] == 1
    assert rows["黄浦区 合计"]["active"] == 19
    assert f'href="?place={STREET}"' in response.content.decode()
    down = quality_rows(page(client, place=STREET))
    assert down["桥一居委会"] == QIAO_YI_COUNTS


def test_other_street_and_readers_without_access(world, client, client_as):
    assert page(client).status_code == 302  # anonymous: sign in
    assert page(client_as("inspector")).status_code == 403
    assert page(client_as("inspector"), "people:population").status_code == 403
    other = client_as("frontdesk_b")
    rows = quality_rows(page(other))
    assert "桥一居委会" not in rows and rows["建一居委会"]["active"] == 1
    assert page(other, place=QIAO_YI).status_code == 404
    assert page(other, "people:population", place=STREET).status_code == 404


def test_issue_list_is_masked_and_links_to_each_person(world, client_as):
    response = page(client_as("frontdesk"), place=QIAO_YI, issue="invalid_id")
    assert response.status_code == 200
    html = response.content.decode()
    listed = {item.name for item in response.context["items"]}
    assert listed == {"黄涛", "罗斌", "何平"}
    for name in listed:
        person = world.people[name]
        person.refresh_from_db()
        assert person.id_number not in html and person.phone not in html
        assert reverse("people:person", args=[person.pk]) in html
    assert "校验位不正确" in html and "990101" in html and "出生日期无效" in html
    assert "共 3 条" in html


def test_household_and_house_lists(world, client_as):
    client = client_as("committee")
    html = page(client, issue="no_head").content.decode()
    household = Household.objects.get(kind="actual", house__room="602")
    assert reverse("people:household", args=[household.pk]) in html
    response = page(client, issue="empty_house")
    assert sorted(h.room for h, _name in response.context["items"]) == ["702", "703"]
    assert page(client, issue="nonsense").status_code == 404


def test_issue_list_pages_fifty_at_a_time(personas, client_as, today):
    w = World(personas["admin"])
    household = w.household(w.house(QIAO_SAN, "101", estate="瞿溪路1弄"))
    for n in range(53):
        w.person(
            f"无电话{n:02d}",
            "1980-01-01",
            n % 2 == 1,
            actual=household,
            relation="head" if n == 0 else "relative",
            phone=False,
        )
    client = client_as("leader")
    first = page(client, place=QIAO_SAN, issue="no_phone")
    assert len(first.context["items"]) == 50
    assert first.context["issue_count"] == 53
    second = client.get(reverse("people:quality") + "?" + first.context["next_query"])
    assert len(second.context["items"]) == 3
    assert {i.name for i in first.context["items"]}.isdisjoint({i.name for i in second.context["items"]})


def test_query_count_does_not_grow_with_committees(world, client_as, django_assert_max_num_queries, personas):
    client = client_as("leader")
    with CaptureQueriesContext(connection) as before:
        page(client)
    w = World(personas["admin"])
    for code in ("310101020003", "310101020004", "310101020005", "310101020006"):
        household = w.household(w.house(code, "909", estate="测试路1弄"))
        w.person(f"测{code[-1]}", "1990-01-01", True, actual=household, phone=False)
    with CaptureQueriesContext(connection) as after:
        response = page(client)
    assert len(after.captured_queries) == len(before.captured_queries)
    assert quality_rows(response)["五里桥街道 合计"]["no_phone"] == STREET_COUNTS["no_phone"] + 4
    with django_assert_max_num_queries(14):
        page(client, place=QIAO_YI, issue="separated_here")
    with django_assert_max_num_queries(12):
        page(client, "people:population")


# ------------------------------------------------------------------------------ population


def test_population_summary_of_a_committee(world, today):
    summary = quality.population(Person.objects.filter(place_code__within=QIAO_YI), today)
    assert summary.by_type == {
        "registered": {"active": 12, "moved_out": 1, "deceased": 1},
        "incoming": {"active": 2},
        "foreign": {"active": 1},
    }
    bands = {quality.band_label(k): (m, f) for k, m, f in summary.pyramid if m or f}
    assert bands == {
        "25–29": (1, 2),  # 钱军; 陈芳, 冯雪
        "30–34": (1, 0),  # 赵磊
        "35–39": (1, 0),  # 张伟 (35 until 7 July)
        "40–44": (1, 1),  # John Smith; 林娜
        "45–49": (2, 1),  # 黄涛, 何平; 马丽
        "50–54": (0, 1),  # 郭勇, entered as a woman
        "55–59": (1, 0),  # 罗斌
        "75–79": (1, 1),  # 李明; 王秀英
        "85–89": (0, 1),  # 孙丽
    }
    assert len(summary.pyramid) == 21 and quality.band_label(20) == "100+"
    assert {k: n for k, _label, n in summary.maintained} == {
        "disability": 1,
        "minimum_income": 2,
        "special_care": 0,
        "three_nos": 0,
        "five_guarantees": 0,
        "key_assistance": 0,
        "veteran": 0,  # 李明's ended, 周强 moved out
    }
    assert {k: n for k, _label, n in summary.computed} == {
        "age_60": 3,
        "age_70": 3,
        "age_80": 1,
        "age_90": 0,
        "lives_alone": 1,  # 孙丽
        "elders_only": 2,  # 王秀英, 李明
        "separated": 4,
    }


def test_computed_tags_agree_with_the_services(world, today):
    """The SQL 独居/纯老 are `services.computed_tags`, person by person."""
    summary = quality.population(Person.objects.all(), today)
    figures = {k: n for k, _label, n in summary.computed}
    for tag in ("lives_alone", "elders_only"):
        expected = sum(
            tag in services.computed_tags(p, today) for p in Person.objects.filter(status="active")
        )
        assert figures[tag] == expected


def test_age_bands_turn_on_the_birthday(world, today):
    summary = quality.population(Person.objects.filter(place_code=QIAO_ER), today)
    assert summary.pyramid[12] == (12, 0, 1)  # 陈母, 60 today
    assert summary.pyramid[11] == (11, 1, 0)  # 陈父, 59 until tomorrow
    assert {k: n for k, _l, n in summary.computed}["age_60"] == 1


def test_population_page_draws_the_charts_with_their_numbers(world, client_as):
    response = page(client_as("committee"), "people:population")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg class="chart') == 2
    assert '<title id="pyr-title">年龄金字塔：男 8 人，女 7 人</title>' in html
    assert "<title>女，85–89 岁：1 人</title>" in html
    assert "<title>低保：2 人（占在册 13.3%）</title>" in html
    assert '<text class="num"' in html
    pyramid = response.context["pyramid"]
    widths = {b.label: (b.men_width, b.women_width) for b in pyramid.bars}
    assert widths["45–49"][0] == max(w for pair in widths.values() for w in pair)  # 2 is the most
    assert widths["0–4"] == (0, 0)
    assert "pyramid-table" in html and "tag-table" in html
    assert "桥二" not in html


def test_population_page_for_a_chosen_committee_of_the_street(world, client_as):
    response = page(client_as("leader"), "people:population", place=QIAO_ER)
    assert response.context["summary"].active == 3
    assert page(client_as("committee"), "people:population", place=QIAO_ER).status_code == 404


# ------------------------------------------------------------------------------ export


def sheet_rows(response) -> list[tuple]:
    data = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_export_writes_the_masked_list_and_logs_it(world, client_as):
    response = client_as("committee").get(reverse("people:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "no-store" in response["Cache-Control"]
    rows = sheet_rows(response)
    assert "桥一居委会" in rows[0][0] and "共 15 人" in rows[1][0]
    header, data = rows[2], rows[3:]
    assert header[:3] == ("姓名", "性别", "年龄")
    assert len(data) == 15
    by_name = {r[0]: r for r in data}
    wang = world.people["王秀英"]
    assert by_name["王秀英"] == (
        "王秀英",
        "女",
        76,
        "居民身份证",
        wang.id_number[:6] + "********" + wang.id_number[-4:],
        wang.phone[:3] + "****" + wang.phone[-4:],
        "户籍人口",
        "桥一居委会",
        "长清路100弄3号501室",
        "70 岁以上、低保",
    )
    text = repr(rows)
    for person in world.people.values():
        person.refresh_from_db()
        assert person.id_number not in text
        assert not person.phone or person.phone not in text
    assert "周强" not in by_name and "陈静" not in by_name and "赵刚" not in by_name
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert log.record_count == 15 and log.place_code == QIAO_YI
    assert log.subject_repr == "人员名单：桥一居委会，15 人"
    assert log.actor_name and log.subject_type == "people.person"


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"tag": "minimum_income"}, {"王秀英", "孙丽"}),
        ({"age": "80"}, {"孙丽"}),
        ({"tag": "minimum_income", "age": "80"}, {"孙丽"}),
        ({"tag": "veteran"}, set()),
    ],
)
def test_export_filters_like_the_search_chips(world, client_as, params, names):
    rows = sheet_rows(client_as("committee").get(reverse("people:export"), params))
    assert {r[0] for r in rows[3:]} == names
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert log.record_count == len(names)
    if "tag" in params:
        assert "标签：" in log.subject_repr


def test_export_by_place_inside_the_jurisdiction_only(world, client_as):
    manager = client_as("manager")
    rows = sheet_rows(manager.get(reverse("people:export"), {"place": QIAO_ER}))
    assert {r[0] for r in rows[3:]} == {"陈静", "陈母", "陈父"}
    assert len(sheet_rows(manager.get(reverse("people:export")))) == 3 + 18
    assert manager.get(reverse("people:export"), {"place": JIAN_YI}).status_code == 404
    assert client_as("committee").get(reverse("people:export"), {"place": QIAO_ER}).status_code == 404
    assert manager.get(reverse("people:export"), {"tag": "nonsense"}).status_code == 400
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 2  # refusals log nothing


@pytest.mark.parametrize("persona", ["frontdesk", "leader", "backoffice", "inspector"])
def test_export_needs_the_export_permission(world, client_as, persona):
    assert client_as(persona).get(reverse("people:export")).status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


def test_export_is_capped_with_a_message(world, client_as, monkeypatch):
    monkeypatch.setattr(quality_views, "EXPORT_LIMIT", 5)
    rows = sheet_rows(client_as("committee").get(reverse("people:export")))
    assert len(rows[3:]) == 5
    assert "超过 5 人，仅导出前 5 人" in rows[1][0]
    log = AccessLog.objects.get(action=AccessAction.EXPORT)
    assert log.record_count == 5 and "截断" in log.subject_repr


def test_export_button_only_for_those_who_may_export(world, client_as):
    assert "导出人员名单" in page(client_as("committee")).content.decode()
    assert "导出人员名单" in page(client_as("manager"), "people:population").content.decode()
    assert "导出人员名单" not in page(client_as("frontdesk")).content.decode()
