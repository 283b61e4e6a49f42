from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shequ.audit.models import ChangeLog
from shequ.core.idnumbers import make_resident_id
from shequ.people import selectors, services
from shequ.people.choices import ComputedTag, HouseholdKind, PersonStatus, Relation, Tag
from shequ.people.models import Membership, Person
from shequ.people.services import PersonData

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)
ELDER = make_resident_id("310101", dt.date(1940, 3, 8), 22)  # a woman of 86
SON = make_resident_id("310101", dt.date(1972, 6, 1), 33)
INCOMER = make_resident_id("320102", dt.date(1990, 1, 2), 45)


@pytest.fixture
def home(demo, personas):
    clerk = personas["committee"]
    house = services.create_house(
        by=clerk, place_code="310101020001", estate="瞿溪路1111弄", building="3", unit="2", room="501"
    )
    return {
        "clerk": clerk,
        "house": house,
        "registered": services.create_household(by=clerk, kind=HouseholdKind.REGISTERED, house=house),
        "actual": services.create_household(by=clerk, kind=HouseholdKind.ACTUAL, house=house),
    }


def register(home, id_number=ELDER, name="王秀英", relation=Relation.HEAD, **extra):
    return services.register_person(
        by=home["clerk"],
        data=PersonData(name=name, id_number=id_number, phone=extra.pop("phone", "13912345678"), **extra),
        household=home["actual"],
        relation=relation,
        joined_on=dt.date(1998, 5, 1),
    )


def test_pinyin_keys_read_surnames_as_surnames():
    assert services.pinyin_keys("王秀英") == ("wangxiuying", "wxy")
    assert services.pinyin_keys("曾国藩") == ("zengguofan", "zgf")
    assert services.pinyin_keys("单田芳")[1] == "stf"


def test_the_id_number_fills_and_checks_gender_and_birth_date(home):
    person = register(home)
    assert (person.birth_date, person.gender) == (dt.date(1940, 3, 8), "F")
    assert (person.name_pinyin, person.name_initials, person.place_code) == (
        "wangxiuying",
        "wxy",
        "310101020001",
    )
    with pytest.raises(ValidationError) as err:
        services.register_person(
            by=home["clerk"],
            data=PersonData(name="李四", id_number=SON, gender="F", birth_date=dt.date(1972, 6, 2)),
        )
    assert set(err.value.message_dict) == {"gender", "birth_date"}
    assert "1972-06-01" in err.value.message_dict["birth_date"][0]
    with pytest.raises(ValidationError, match="校验位"):
        services.register_person(by=home["clerk"], data=PersonData(name="李四", id_number=SON[:-1] + "0"))
    assert Person.objects.count() == 1


def test_a_person_is_registered_once(home):
    register(home)
    with pytest.raises(ValidationError, match="已登记") as err:
        register(home, name="王秀瑛")
    assert (
        "王**" in err.value.message_dict["id_number"][0] and "桥一" in err.value.message_dict["id_number"][0]
    )
    with pytest.raises(IntegrityError), transaction.atomic():  # the database itself refuses it too
        Person.objects.create(name="x", id_number=ELDER, gender="F", birth_date=dt.date(1940, 3, 8))


def test_incoming_residents_need_a_permit_and_others_have_none(home):
    with pytest.raises(ValidationError) as err:
        register(home, id_number=INCOMER, name="张三", residence_type="incoming")
    assert set(err.value.message_dict) == {"residence_permit_number", "residence_permit_expiry"}
    person = register(
        home,
        id_number=INCOMER,
        name="张三",
        residence_type="incoming",
        residence_permit_number="310000202400012345",
        residence_permit_expiry=dt.date(2027, 1, 1),
    )
    assert person.residence_permit_number


def test_moves_are_kept_as_history_and_dates_are_checked(home):
    mother = register(home)
    with pytest.raises(ValidationError, match="已有户主"):
        register(home, id_number=SON, name="李建国", phone="")
    assert not Person.objects.filter(id_number=SON).exists()  # nothing half-written
    son = services.register_person(by=home["clerk"], data=PersonData(name="李建国", id_number=SON))
    with pytest.raises(ValidationError, match="已有户主"):
        services.move_in(
            by=home["clerk"], person=son, household=home["actual"], relation=Relation.HEAD, on=TODAY
        )
    services.move_in(
        by=home["clerk"],
        person=son,
        household=home["actual"],
        relation=Relation.CHILD,
        on=dt.date(2000, 1, 1),
    )
    with pytest.raises(ValidationError, match="早于迁入日期"):
        services.move_out(by=home["clerk"], person=son, on=dt.date(1999, 12, 31))
    services.move_out(by=home["clerk"], person=son, on=dt.date(2020, 7, 1), reason="迁往浦东")
    son.refresh_from_db()
    assert son.status == PersonStatus.MOVED_OUT and son.status_on == dt.date(2020, 7, 1)
    left = Membership.objects.get(person=son)
    assert left.left_on == dt.date(2020, 7, 1) and left.left_reason == "迁往浦东"
    assert [m.person for m in selectors.members(home["actual"])] == [mother]
    assert ChangeLog.objects.filter(object_type="people.person", object_id=str(son.pk)).count() >= 3
    assert all(ELDER not in str(row.after) for row in ChangeLog.objects.all())  # no ID in the log


def test_derived_tags_and_separation(home, personas):
    mother = register(home)
    assert set(services.computed_tags(mother, TODAY)) == {
        ComputedTag.AGE_80,
        ComputedTag.LIVES_ALONE,
        ComputedTag.SEPARATED,
    }
    assert services.separation(mother) == "人在户不在"
    services.move_in(
        by=home["clerk"],
        person=mother,
        household=home["registered"],
        relation=Relation.HEAD,
        on=dt.date(1998, 5, 1),
    )
    assert services.separation(mother) == ""
    father = register(
        home,
        id_number=make_resident_id("310101", dt.date(1938, 1, 1), 11),
        name="李福根",
        phone="",
        relation=Relation.SPOUSE,
    )
    assert ComputedTag.ELDERS_ONLY in services.computed_tags(mother, TODAY)
    services.record_death(by=home["clerk"], person=father, on=dt.date(2025, 2, 1))
    assert ComputedTag.LIVES_ALONE in services.computed_tags(mother, TODAY)
    tag = services.add_tag(
        by=home["clerk"],
        person=mother,
        tag=Tag.DISABILITY,
        level=2,
        source="区残联",
        since=dt.date(2010, 1, 1),
    )
    assert tag.level == 2
    with pytest.raises(ValidationError, match="已有有效"):
        services.add_tag(
            by=home["clerk"], person=mother, tag=Tag.DISABILITY, level=3, source="区残联", since=TODAY
        )
    with pytest.raises(ValidationError, match="一至四级"):
        services.add_tag(by=home["clerk"], person=father, tag=Tag.DISABILITY, source="区残联", since=TODAY)


def test_search_understands_what_was_typed(home):
    mother = register(home)
    son = register(home, id_number=SON, name="李建国", phone="13700000001", relation=Relation.CHILD)
    everyone = Person.objects.all()
    assert selectors.search(everyone, ELDER) == [mother]
    assert selectors.search(everyone, "13700000001") == [son]
    assert selectors.search(everyone, "wxy") == [mother]
    assert selectors.search(everyone, "lijian") == [son]
    assert selectors.search(everyone, "秀英") == [mother]
    assert selectors.search(everyone, "瞿溪路1111弄3号") == sorted([mother, son], key=lambda p: p.name)
    assert selectors.search(everyone, "  ") == []
    assert selectors.search(Person.objects.filter(place_code__startswith="310101021"), "wxy") == []


def test_history_shows_the_person_as_on_a_date(home):
    mother = register(home)
    before = dt.datetime.now(dt.UTC)
    mother.phone = "13800000000"
    mother.save()
    assert Person.history.as_of(before).get(pk=mother.pk).phone == "13912345678"
