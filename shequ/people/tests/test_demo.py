"""The resident database's demo data: loaded once for the module (inside a transaction rolled
back at its end), then checked the way a committee worker or a data-quality report would."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from stdnum.cn import ric

from shequ.core.idnumbers import clean_document, clean_phone, clean_resident_id
from shequ.people import demo, services
from shequ.people.choices import (
    ComputedTag,
    DocumentType,
    HouseholdKind,
    HouseKind,
    PersonStatus,
    Relation,
    ResidenceType,
    Tag,
)
from shequ.people.models import House, Household, Membership, Person, PersonTag, Rental, compose_address
from shequ.places.models import Place

STREET, NEIGHBOUR = "310101020", "310101021"


@pytest.fixture(scope="module")
def people_demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[int]:
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", "--base", stdout=open("/dev/null", "w"))  # noqa: SIM115
        made = demo.load()
        yield made
        transaction.set_rollback(True)


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(scope="module")
def world(people_demo: int, django_db_blocker: Any) -> dict[str, Any]:
    """Everything in memory once for the module (read only): persons, current memberships by
    person, current members by household."""
    with django_db_blocker.unblock():
        return _world()


def _world() -> dict[str, Any]:
    persons = {p.pk: p for p in Person.objects.all()}
    current: dict[int, list[Membership]] = defaultdict(list)
    members: dict[int, list[Membership]] = defaultdict(list)
    for m in Membership.objects.filter(left_on__isnull=True).select_related("household__house"):
        current[m.person_id].append(m)
        members[m.household_id].append(m)
    return {"persons": persons, "current": current, "members": members}


def _age(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_loads_about_5000_persons_in_2000_households_once(people_demo, db):
    assert people_demo > 20_000  # rows made: houses, households, persons, memberships, tags, rentals
    street = Person.objects.filter(place_code__startswith=STREET)
    active = street.filter(status=PersonStatus.ACTIVE)
    assert 4_500 <= active.count() <= 5_600
    assert 1_900 <= House.objects.filter(place_code__startswith=STREET).count() <= 2_100
    households = Household.objects.filter(place_code__startswith=STREET)
    assert 1_800 <= households.filter(kind=HouseholdKind.ACTUAL).count() <= 2_200
    assert 1_300 <= households.filter(kind=HouseholdKind.REGISTERED).count() <= 2_200
    assert 20 <= Person.objects.filter(place_code__startswith=NEIGHBOUR).count() <= 60
    committees = Counter(active.values_list("place_code", flat=True))
    assert sorted(committees) == [f"{STREET}{n:03d}" for n in range(1, 7)]
    assert min(committees.values()) > 600

    before = [m.objects.count() for m in (House, Household, Person, Membership, PersonTag, Rental)]
    assert demo.load() == 0
    assert [m.objects.count() for m in (House, Household, Person, Membership, PersonTag, Rental)] == before


def test_documents_are_valid_and_agree_with_the_row(world, db):
    ids: Counter[tuple[str, str]] = Counter()
    for person in world["persons"].values():
        ids[(person.id_type, person.id_number)] += 1
        if person.id_type == DocumentType.RESIDENT_ID:
            assert clean_resident_id(person.id_number) == person.id_number
            assert ric.get_birth_date(person.id_number) == person.birth_date, person.id_number
            assert person.gender == ("M" if int(person.id_number[16]) % 2 else "F"), person.id_number
            assert services.derive_from_id(person.id_number) == (person.birth_date, person.gender)
            if person.id_number.startswith("310101"):
                # The affairs demo's applicants use sequences 100-199 and 800-999 of 310101.
                assert 200 <= int(person.id_number[14:17]) < 800
        else:
            assert person.residence_type == ResidenceType.FOREIGN
            assert clean_document(person.id_type, person.id_number) == person.id_number
        if person.phone:
            assert clean_phone(person.phone) == person.phone
            assert not person.phone.startswith("1380021")  # the demo staff's and tickets' numbers
        assert (person.name_pinyin, person.name_initials) == services.pinyin_keys(person.name)
    assert max(ids.values()) == 1
    phones = Counter(p.phone for p in world["persons"].values() if p.phone)
    assert max(phones.values()) == 1


def test_residence_types_and_permits(world, db, today):
    persons = list(world["persons"].values())
    kinds = Counter(p.residence_type for p in persons)
    assert 0.62 <= kinds[ResidenceType.REGISTERED] / len(persons) <= 0.78
    assert 0.2 <= kinds[ResidenceType.INCOMING] / len(persons) <= 0.33
    assert 0.015 <= kinds[ResidenceType.FOREIGN] / len(persons) <= 0.05
    incoming = [p for p in persons if p.residence_type == ResidenceType.INCOMING]
    assert all(p.residence_permit_number and p.residence_permit_expiry for p in incoming)
    assert all(p.registered_address for p in incoming)
    expired = [p for p in incoming if p.residence_permit_expiry < today]
    assert 0.05 <= len(expired) / len(incoming) <= 0.2
    others = [p for p in persons if p.residence_type != ResidenceType.INCOMING]
    assert not any(p.residence_permit_number or p.residence_permit_expiry for p in others)
    foreign = [p for p in persons if p.residence_type == ResidenceType.FOREIGN]
    assert Counter(p.id_type for p in foreign)[DocumentType.PASSPORT] > len(foreign) / 2
    active = [p for p in persons if p.status == PersonStatus.ACTIVE]
    assert 0.7 <= sum(bool(p.phone) for p in active) / len(active) <= 0.9


def test_ages_are_those_of_an_old_street(world, db, today):
    active = [p for p in world["persons"].values() if p.status == PersonStatus.ACTIVE]
    ages = [_age(p.birth_date, today) for p in active]
    assert 0.3 <= sum(a >= 60 for a in ages) / len(ages) <= 0.42
    assert sum(a >= 80 for a in ages) > 100
    assert sum(a >= 90 for a in ages) > 10
    assert sum(a < 18 for a in ages) > 200
    assert max(ages) <= 105 and min(ages) >= 0


def test_memberships_hold_together(world, db, today):
    persons, current = world["persons"], world["current"]
    for person in persons.values():
        kinds = Counter(m.kind for m in current[person.pk])
        assert kinds[HouseholdKind.REGISTERED] <= 1
        if person.status == PersonStatus.ACTIVE:
            assert kinds[HouseholdKind.ACTUAL] == 1, person
        elif person.status == PersonStatus.MOVED_OUT:
            assert kinds[HouseholdKind.ACTUAL] == 0 and person.status_on is not None
        else:
            assert person.status == PersonStatus.DECEASED and not current[person.pk]
    for m in Membership.objects.select_related("person", "household"):
        assert m.kind == m.household.kind
        assert m.person.birth_date <= m.joined_on < today
        assert m.left_on is None or m.joined_on <= m.left_on < today
        if m.left_on is not None:
            assert m.left_reason
    for household_id, rows in world["members"].items():
        assert sum(m.relation == Relation.HEAD for m in rows) == 1, household_id
    # A household whose members have all left keeps its history and has no current head.
    empty = Household.objects.exclude(pk__in=list(world["members"])).count()
    assert empty < 300


def test_places_are_the_committee_of_the_actual_home(world, db):
    for person in world["persons"].values():
        actual = [m for m in world["current"][person.pk] if m.kind == HouseholdKind.ACTUAL]
        if actual:
            assert person.place_code == actual[0].household.house.place_code
        assert len(person.place_code) == 12
    grids = set(Place.objects.filter(kind="grid").values_list("code", flat=True))
    kinds: Counter[str] = Counter()
    for house in House.objects.all():
        kinds[house.kind] += 1
        assert house.grid_code in grids and house.grid_code.startswith(house.place_code)
        assert house.address == compose_address(house.estate, house.building, house.unit, house.room)
    assert kinds[HouseKind.OWNED] > sum(kinds.values()) / 2
    assert kinds[HouseKind.RENTED] and kinds[HouseKind.PUBLIC] and kinds[HouseKind.COLLECTIVE]
    assert not Household.objects.exclude(place_code=F("house__place_code")).exists()


def test_households_come_in_every_shape(world, db, today):
    persons, members = world["persons"], world["members"]
    elders = [
        p for p in persons.values() if p.status == PersonStatus.ACTIVE and _age(p.birth_date, today) >= 60
    ]
    alone = elders_only = 0
    for rows in members.values():
        if rows[0].kind != HouseholdKind.ACTUAL:
            continue
        ages = [_age(persons[m.person_id].birth_date, today) for m in rows]
        alone += len(ages) == 1 and ages[0] >= 60
        elders_only += len(ages) > 1 and min(ages) >= 60
    assert 0.025 <= alone / len(elders) <= 0.06  # 独居: about 4 % of the elders
    assert elders_only > 250  # 纯老
    sizes = Counter(len(rows) for rows in members.values() if rows[0].kind == HouseholdKind.ACTUAL)
    assert sizes[2] > sizes[1] and sizes[3] > 300 and sizes[5] > 50  # couples, families, three generations

    # The services' own derivations agree on an example of each.
    def example(kind: str) -> Person:
        for rows in members.values():
            ages = [_age(persons[m.person_id].birth_date, today) for m in rows]
            if rows[0].kind == HouseholdKind.ACTUAL and (
                (kind == "alone" and ages == [a for a in ages if a >= 60] and len(ages) == 1)
                or (kind == "elders" and len(ages) > 1 and min(ages) >= 60)
            ):
                return persons[rows[0].person_id]
        raise AssertionError(kind)

    assert ComputedTag.LIVES_ALONE in services.computed_tags(example("alone"), today)
    assert ComputedTag.ELDERS_ONLY in services.computed_tags(example("elders"), today)


def test_person_household_separation_in_its_usual_shapes(world, db):
    persons, current = world["persons"], world["current"]
    elsewhere_in_street = registered_elsewhere = kept_registration = 0
    for person in persons.values():
        rows = {m.kind: m for m in current[person.pk]}
        registered, actual = rows.get(HouseholdKind.REGISTERED), rows.get(HouseholdKind.ACTUAL)
        if registered and actual and registered.household.house_id != actual.household.house_id:
            elsewhere_in_street += 1
        if person.residence_type == ResidenceType.REGISTERED and person.registered_address and actual:
            assert registered is None
            registered_elsewhere += 1
        if registered and not actual:
            assert person.status == PersonStatus.MOVED_OUT
            kept_registration += 1
    assert elsewhere_in_street > 100  # registered in one house of the street, living in another
    assert registered_elsewhere > 100  # registered in another district (人在户不在)
    assert kept_registration > 50  # moved away, registration kept here (户在人不在)
    samples = {"人在户不在": 0, "户在人不在": 0}
    for person in list(persons.values())[::25]:
        shape = services.separation(person)
        if shape in samples:
            samples[shape] += 1
    assert all(samples.values()), samples


def test_history_moves_and_deaths(world, db, today):
    persons = list(world["persons"].values())
    statuses = Counter(p.status for p in persons)
    assert statuses[PersonStatus.DECEASED] >= 15 and statuses[PersonStatus.MOVED_OUT] >= 40
    assert Person.history.count() == len(persons) + sum(p.status != PersonStatus.ACTIVE for p in persons)
    assert House.history.count() == House.objects.count()
    assert Household.history.count() == Household.objects.count()
    assert PersonTag.history.count() == PersonTag.objects.count()
    assert (
        Membership.history.count()
        == Membership.objects.count() + Membership.objects.exclude(left_on=None).count()
    )
    # A death is a second version of the person, dated that day; before it, they were alive.
    died = next(p for p in persons if p.status == PersonStatus.DECEASED)
    versions = list(died.history.order_by("history_date"))
    assert [v.status for v in versions] == [PersonStatus.ACTIVE, PersonStatus.DECEASED]
    assert versions[1].history_date.date() == died.status_on
    assert versions[0].history_date.date() < died.status_on
    before = Person.history.as_of(timezone.make_aware(dt.datetime.combine(died.status_on, dt.time(0))))
    assert before.get(pk=died.pk).status == PersonStatus.ACTIVE
    # Moves: a membership is opened and closed, each on its own date.
    ended = Membership.objects.exclude(left_on=None).first()
    dates = [h.history_date.date() for h in ended.history.order_by("history_date")]
    assert dates == [ended.joined_on, ended.left_on]


def test_maintained_tags_with_source_and_date(world, db, today):
    active = [p for p in world["persons"].values() if p.status == PersonStatus.ACTIVE]
    tags = list(PersonTag.objects.select_related("person"))
    kinds = Counter(t.tag for t in tags if t.until is None)
    assert set(kinds) == set(Tag.values)
    assert 0.02 <= kinds[Tag.DISABILITY] / len(active) <= 0.04
    assert 0.015 <= kinds[Tag.MINIMUM_INCOME] / len(active) <= 0.03
    assert 0.005 <= kinds[Tag.SPECIAL_CARE] / len(active) <= 0.015
    assert 0.015 <= kinds[Tag.VETERAN] / len(active) <= 0.03
    for tag in tags:
        assert tag.source and tag.person.birth_date < tag.since <= today
        assert (tag.level in (1, 2, 3, 4)) == (tag.tag == Tag.DISABILITY)
        assert tag.until is None or tag.since <= tag.until < today
    assert {t.level for t in tags if t.tag == Tag.DISABILITY} == {1, 2, 3, 4}
    assert {t.source for t in tags} >= {"区残联", "区民政局", "区退役军人事务局", "街道社区事务受理中心"}
    assert any(t.until for t in tags)  # a 低保 that ended
    assert all(
        t.person.residence_type == ResidenceType.REGISTERED for t in tags if t.tag == Tag.MINIMUM_INCOME
    )


def test_rentals_link_landlord_and_tenants(world, db):
    rentals = list(Rental.objects.select_related("house").prefetch_related("tenants"))
    assert len(rentals) > 100
    current = world["current"]
    for rental in rentals:
        assert rental.house.kind == HouseKind.RENTED and rental.place_code == rental.house.place_code
        assert rental.ends_on > rental.starts_on
        landlord = [m for m in current[rental.landlord_id] if m.kind == HouseholdKind.REGISTERED]
        assert landlord and landlord[0].household.house_id == rental.house_id
        for tenant in rental.tenants.all():
            homes = [m.household.house_id for m in current[tenant.pk] if m.kind == HouseholdKind.ACTUAL]
            assert homes == [rental.house_id]


def test_numbers_already_taken_are_skipped(people_demo, db, today):
    """Another module's resident (or a real one) holding a number the demo would draw keeps it;
    the demo person gets another valid number with the same birth date and gender."""
    planner = demo.Planner(today, seed=7)
    demo.plan_street(planner, NEIGHBOUR, {})
    first = planner.plan.residents[0]
    taken = first.id_number
    Person.objects.create(
        name="王秀英", id_type=first.id_type, id_number=taken, gender=first.gender, birth_date=first.birth
    )
    demo._avoid_taken_ids(planner)
    assert first.id_number != taken
    assert clean_document(first.id_type, first.id_number) == first.id_number
    if first.id_type == DocumentType.RESIDENT_ID:
        assert services.derive_from_id(first.id_number) == (first.birth, first.gender)
