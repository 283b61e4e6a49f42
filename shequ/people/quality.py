"""Aggregates of the resident database: data-quality counts per committee and the population
summary of a place, each computed by a handful of GROUP BY / conditional-aggregation queries
whatever the number of committees (DESIGN §4.11), never person by person.

Every person count is a condition (`person_conditions`) on one annotated queryset, so the
number on the page and the list behind it are the same predicate.

The resident-ID check runs in SQL, on both databases: the format (18 characters, 17 digits and a
digit or X), the GB 11643 check digit (ISO 7064 MOD 11-2, the weighted digit sum written out),
a real and not future birth date (month lengths and leap years); the area code is checked in Python once per distinct code
(stdnum's table, or a district of our place tree, as `core.idnumbers` accepts it), and the codes
found unknown go back into the same SQL as a list. Unlike `ric.validate`, an area code counts
as known whatever the birth year: stdnum rejects, for example, 310115 浦东新区 for anyone born
before 1992, though such numbers are real.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear, Length, Mod, Ord, Substr, Upper
from django.db.models.lookups import Exact, GreaterThan, In, LessThan
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stdnum import numdb

from shequ.places.models import Place

from .choices import ComputedTag, DocumentType, Gender, HouseholdKind, PersonStatus, ResidenceType, Tag
from .models import House, Household, Membership, Person, PersonTag

PERMIT_WARN_DAYS = 30  # as the person page's "即将到期" badge
ELDER_AGE = 60
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
ID_CHECK_CHARS = "10X98765432"  # the check character for a weighted sum mod 11

# Separation (人户分离) as `services._separation` defines it, coded for SQL.
SEPARATED_NO, SEPARATED_HERE, SEPARATED_AWAY = 0, 1, 2
# Separation concerns people still registered or living here: a moved-out person whose
# registration stayed is exactly 户在人不在. The dead and cancelled are left out.
SEPARATION_STATUSES = (PersonStatus.ACTIVE, PersonStatus.MOVED_OUT)


def years_ago(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (28 February for a 29th): born on or before it = that old."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# ------------------------------------------------------------------------------ SQL pieces


def _int(first: int, length: int = 1) -> Combinable:
    """Digits `first`…`first + length - 1` (1-based) of the ID number as an integer, digit by
    digit from the character codes: a code point is several times cheaper than a text-to-integer
    CAST on PostgreSQL, and it never fails on a letter (the callers test the format first)."""
    number: Combinable = Ord(Substr("id_number", first, 1)) - Value(48)
    for position in range(first + 1, first + length):
        number = number * Value(10) + (Ord(Substr("id_number", position, 1)) - Value(48))
    return number


def _days_in_month(year: Combinable, month: Combinable) -> Case:
    february = Case(
        When(Exact(Mod(year, 400, output_field=IntegerField()), 0), then=Value(29)),
        When(Exact(Mod(year, 100, output_field=IntegerField()), 0), then=Value(28)),
        When(Exact(Mod(year, 4, output_field=IntegerField()), 0), then=Value(29)),
        default=Value(28),
    )
    return Case(
        When(Exact(month, 2), then=february),
        When(In(month, [4, 6, 9, 11]), then=Value(30)),
        default=Value(31),
        output_field=IntegerField(),
    )


def _if_well_formed(then: Combinable, otherwise: Combinable) -> Case:
    """`then` for an ID number of 17 digits and a digit or X, else `otherwise`. LTRIM of the
    digits leaves "" or "X" exactly for those: cheaper than a regular expression on every row
    (PostgreSQL), native where SQLite would call back into Python for one."""
    rest = Func(F("id_number"), Value("0123456789"), function="LTRIM", output_field=CharField())
    return Case(
        When(
            Exact(Length("id_number"), 18),
            then=Case(When(In(rest, ["", "X", "x"]), then=then), default=otherwise),
        ),
        default=otherwise,
        output_field=IntegerField(),
    )


def with_id_checks(
    people: QuerySet[Person], today: dt.date, unknown_areas: Iterable[str]
) -> QuerySet[Person]:
    """Annotate `id_valid` (1/0), `id_birth_differs` and `id_gender_differs` (1/0) for
    resident ID numbers (the other document types get 1, 0, 0). The CASE order guards every
    step: nothing is computed on a number whose format is already wrong."""
    year, month, day = _int(7, 4), _int(11, 2), _int(13, 2)
    weighted: Combinable = Value(0)
    for position, weight in enumerate(ID_WEIGHTS, start=1):
        weighted = weighted + _int(position) * Value(weight)
    expected = Substr(Value(ID_CHECK_CHARS), Mod(weighted, 11, output_field=IntegerField()) + Value(1), 1)
    not_resident_id = ~Q(id_type=DocumentType.RESIDENT_ID)
    invalid_when = [
        When(LessThan(year, 1), then=Value(0)),
        When(LessThan(month, 1), then=Value(0)),
        When(GreaterThan(month, 12), then=Value(0)),
        When(LessThan(day, 1), then=Value(0)),
        When(GreaterThan(day, _days_in_month(year, month)), then=Value(0)),
        When(GreaterThan(Substr("id_number", 7, 8), Value(today.strftime("%Y%m%d"))), then=Value(0)),
    ]
    areas = sorted(set(unknown_areas))
    if areas:
        invalid_when.append(When(In(Substr("id_number", 1, 6), areas), then=Value(0)))
    checked = Case(
        *invalid_when,
        When(Exact(Upper(Substr("id_number", 18, 1)), expected), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    valid = Case(
        When(not_resident_id, then=Value(1)),
        default=_if_well_formed(checked, Value(0)),
        output_field=IntegerField(),
    )
    id_date = year * Value(10000) + month * Value(100) + day
    birth = (
        ExtractYear("birth_date") * Value(10000)
        + ExtractMonth("birth_date") * Value(100)
        + ExtractDay("birth_date")
    )
    birth_differs = Case(
        When(not_resident_id, then=Value(0)),
        default=_if_well_formed(
            Case(When(Exact(id_date, birth), then=Value(0)), default=Value(1), output_field=IntegerField()),
            Value(0),
        ),
        output_field=IntegerField(),
    )
    odd = Case(When(gender=Gender.MALE, then=Value(1)), default=Value(0), output_field=IntegerField())
    gender_differs = Case(
        When(not_resident_id, then=Value(0)),
        default=_if_well_formed(
            Case(
                When(Exact(Mod(_int(17), 2, output_field=IntegerField()), odd), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        output_field=IntegerField(),
    )
    return people.annotate(id_valid=valid, id_birth_differs=birth_differs, id_gender_differs=gender_differs)


def with_households(people: QuerySet[Person]) -> QuerySet[Person]:
    """Join each person's current actual (`actual_m`) and registered (`registered_m`)
    membership (at most one of each: a unique constraint) and annotate `separation`."""
    people = people.annotate(
        actual_m=FilteredRelation(
            "memberships",
            condition=Q(memberships__kind=HouseholdKind.ACTUAL, memberships__left_on__isnull=True),
        ),
        registered_m=FilteredRelation(
            "memberships",
            condition=Q(memberships__kind=HouseholdKind.REGISTERED, memberships__left_on__isnull=True),
        ),
    )
    lives_here, registered_here = Q(actual_m__isnull=False), Q(registered_m__isnull=False)
    same_house: Exact = Exact(F("registered_m__household__house_id"), F("actual_m__household__house_id"))
    return people.annotate(
        separation=Case(
            When(~Q(residence_type=ResidenceType.REGISTERED), then=Value(SEPARATED_NO)),
            When(lives_here & ~registered_here, then=Value(SEPARATED_HERE)),
            When(lives_here & Q(same_house), then=Value(SEPARATED_NO)),
            When(lives_here, then=Value(SEPARATED_HERE)),
            When(registered_here, then=Value(SEPARATED_AWAY)),
            default=Value(SEPARATED_NO),
            output_field=IntegerField(),
        )
    )


@functools.lru_cache(maxsize=4096)
def _area_known(area: str) -> bool:
    """Whether stdnum's area table knows this county code, for any period."""
    info = {k: v for _part, props in numdb.get("cn/loc").info(area) for k, v in props.items()}
    return "county" in info


def unknown_areas(people: QuerySet[Person]) -> list[str]:
    """The area codes (first six digits) of well-formed resident ID numbers in `people` that
    neither stdnum nor our place tree knows: one query for the distinct codes, one more for
    the districts only if stdnum does not know some."""
    codes = set(
        people.filter(id_type=DocumentType.RESIDENT_ID)
        .annotate(well_formed=_if_well_formed(Value(1), Value(0)), area=Substr("id_number", 1, 6))
        .filter(well_formed=1)
        .order_by()
        .values_list("area", flat=True)
        .distinct()
    )
    unknown = {code for code in codes if not _area_known(code)}
    if unknown:
        unknown -= set(Place.objects.filter(kind="district", code__in=unknown).values_list("code", flat=True))
    return sorted(unknown)


# ------------------------------------------------------------------------------ the issues


@dataclass(frozen=True)
class Issue:
    key: str
    label: str | Promise
    subject: str  # "person", "household" or "house": what the list shows
    help: str | Promise = ""


ISSUES: tuple[Issue, ...] = (
    Issue("active", _("在册人数"), "person", _("状态为“在册”的人员。")),
    Issue("no_phone", _("缺联系电话"), "person"),
    Issue("no_actual", _("无实住户"), "person", _("在册但当前不属于任何实住户。")),
    Issue(
        "invalid_id",
        _("身份证号无效"),
        "person",
        _(
            "位数或格式不对、校验位不符、出生日期不存在或晚于今天，或前 6 位不是行政区划代码（多为历史数据）。"
        ),
    ),
    Issue("birth_differs", _("出生日期与证件不符"), "person"),
    Issue("gender_differs", _("性别与证件不符"), "person"),
    Issue("permit_expired", _("居住证已过期"), "person", _("来沪人员，居住证有效期早于今天。")),
    Issue(
        "permit_expiring",
        _("居住证 30 天内到期"),
        "person",
        _("来沪人员，居住证在今天起 30 天内到期。"),
    ),
    Issue("separated_here", _("人在户不在"), "person", _("在本辖区实住，户籍不在同一房屋。")),
    Issue(
        "separated_away",
        _("户在人不在"),
        "person",
        _("户籍在本辖区，当前无实住户（含已迁出人员）。"),
    ),
    Issue("no_head", _("无户主的户"), "household", _("有在户成员但没有户主的户（户籍户和实住户）。")),
    Issue("empty_house", _("无人居住的房屋"), "house", _("没有任何当前户（户籍户或实住户）的房屋。")),
)
ISSUE_KEYS = {issue.key: issue for issue in ISSUES}


def person_conditions(today: dt.date) -> dict[str, Q]:
    """Each person issue as a condition on `annotate_people(...)`."""
    active = Q(status=PersonStatus.ACTIVE)
    resident = active & Q(id_type=DocumentType.RESIDENT_ID)
    incoming = active & Q(residence_type=ResidenceType.INCOMING)
    separable = Q(status__in=SEPARATION_STATUSES)
    return {
        "active": active,
        "no_phone": active & Q(phone=""),
        "no_actual": active & Q(actual_m__isnull=True),
        "invalid_id": resident & Q(id_valid=0),
        "birth_differs": resident & Q(id_birth_differs=1),
        "gender_differs": resident & Q(id_gender_differs=1),
        "permit_expired": incoming & Q(residence_permit_expiry__lt=today),
        "permit_expiring": incoming
        & Q(
            residence_permit_expiry__gte=today,
            residence_permit_expiry__lte=today + dt.timedelta(days=PERMIT_WARN_DAYS),
        ),
        "separated_here": separable & Q(separation=SEPARATED_HERE),
        "separated_away": separable & Q(separation=SEPARATED_AWAY),
    }


def annotate_people(people: QuerySet[Person], today: dt.date, areas: Iterable[str]) -> QuerySet[Person]:
    return with_id_checks(with_households(people), today, areas)


def _current_membership() -> QuerySet[Membership]:
    return Membership.objects.filter(left_on__isnull=True)


def headless_households(households: QuerySet[Household]) -> QuerySet[Household]:
    """Households with someone in them now but no current head."""
    return households.filter(
        Exists(_current_membership().filter(household=OuterRef("pk"))),
        ~Exists(_current_membership().filter(household=OuterRef("pk"), relation="head")),
    )


def empty_houses(houses: QuerySet[House]) -> QuerySet[House]:
    """Houses no household of either kind has a current member in."""
    return houses.filter(~Exists(_current_membership().filter(household__house=OuterRef("pk"))))


@dataclass
class Scope:
    """The rows the user may see, already restricted (and narrowed to the chosen place)."""

    people: QuerySet[Person]
    households: QuerySet[Household]
    houses: QuerySet[House]


def quality_counts(scope: Scope, today: dt.date) -> dict[str, dict[str, int]]:
    """{place_code: {issue key: count}}: three GROUP BY place_code queries (plus the area-code
    look-up), whatever the number of committees."""
    areas = unknown_areas(scope.people.filter(status=PersonStatus.ACTIVE))
    people = annotate_people(scope.people.filter(status__in=SEPARATION_STATUSES), today, areas)
    conditions = person_conditions(today)
    by_place: dict[str, dict[str, int]] = {}
    rows = (
        people.order_by()
        .values("place_code")
        .annotate(**{key: Count("pk", filter=condition) for key, condition in conditions.items()})
    )
    for row in rows:
        code = row.pop("place_code")
        by_place.setdefault(code, {}).update(row)
    for key, queryset in (
        ("no_head", headless_households(scope.households)),
        ("empty_house", empty_houses(scope.houses)),
    ):
        for code, n in (
            queryset.order_by().values("place_code").annotate(n=Count("pk")).values_list("place_code", "n")
        ):
            by_place.setdefault(code, {})[key] = n
    return by_place


def issue_rows(scope: Scope, key: str, today: dt.date, areas: Iterable[str] | None = None) -> QuerySet[Any]:
    """The rows behind one count (persons, households or houses), for the list (`areas`: the
    `unknown_areas` of the scope, when the caller has them already)."""
    issue = ISSUE_KEYS[key]
    if issue.subject == "household":
        return headless_households(scope.households).select_related("house")
    if issue.subject == "house":
        return empty_houses(scope.houses)
    if areas is None:
        areas = unknown_areas(scope.people.filter(status=PersonStatus.ACTIVE)) if key == "invalid_id" else ()
    people = annotate_people(scope.people.filter(status__in=SEPARATION_STATUSES), today, areas)
    return people.filter(person_conditions(today)[key])


# ------------------------------------------------------------------------------ population


BAND_YEARS = 5
BANDS = 21  # 0-4 … 95-99, then 100+


def band_label(band: int) -> str:
    if band >= BANDS - 1:
        return f"{BAND_YEARS * (BANDS - 1)}+"
    return f"{band * BAND_YEARS}–{band * BAND_YEARS + BAND_YEARS - 1}"


@dataclass
class Population:
    # {residence type: {status: n}}
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    # [(band, men, women)] youngest first, every band present
    pyramid: list[tuple[int, int, int]] = field(default_factory=list)
    maintained: list[tuple[str, str, int]] = field(default_factory=list)  # (tag, label, persons)
    computed: list[tuple[str, str, int]] = field(default_factory=list)
    active: int = 0


def current_tags(today: dt.date) -> QuerySet[PersonTag]:
    """As the search page reads them: open, or closing today or later."""
    return PersonTag.objects.filter(Q(until__isnull=True) | Q(until__gte=today))


def population(people: QuerySet[Person], today: dt.date) -> Population:
    """The summary of `people` (restricted, narrowed to the place): four queries."""
    result = Population()
    for residence_type, status, n in (
        people.order_by()
        .values("residence_type", "status")
        .annotate(n=Count("pk"))
        .values_list("residence_type", "status", "n")
    ):
        result.by_type.setdefault(residence_type, {})[status] = n

    active = people.filter(status=PersonStatus.ACTIVE)
    result.active = sum(row.get(PersonStatus.ACTIVE, 0) for row in result.by_type.values())
    band = Case(
        *(
            When(birth_date__gt=years_ago(today, BAND_YEARS * (k + 1)), then=Value(k))
            for k in range(BANDS - 1)
        ),
        default=Value(BANDS - 1),
        output_field=IntegerField(),
    )
    counts: dict[tuple[int, str], int] = {}
    for k, gender, n in (
        active.annotate(band=band)
        .order_by()
        .values("band", "gender")
        .annotate(n=Count("pk"))
        .values_list("band", "gender", "n")
    ):
        counts[(k, gender)] = n
    result.pyramid = [
        (k, counts.get((k, Gender.MALE), 0), counts.get((k, Gender.FEMALE), 0)) for k in range(BANDS)
    ]

    tagged = dict(
        current_tags(today)
        .filter(person__in=active.values("pk"))
        .order_by()
        .values("tag")
        .annotate(n=Count("person", distinct=True))
        .values_list("tag", "n")
    )
    result.maintained = [(tag.value, str(tag.label), tagged.get(tag.value, 0)) for tag in Tag]

    elder_born = years_ago(today, ELDER_AGE)
    living = _current_membership().filter(
        household__memberships__person=OuterRef("pk"),
        household__memberships__kind=HouseholdKind.ACTUAL,
        household__memberships__left_on__isnull=True,
    )
    others = living.exclude(person=OuterRef("pk"))
    people = with_households(people.filter(status__in=SEPARATION_STATUSES)).annotate(
        has_others=Exists(others), has_young=Exists(others.filter(person__birth_date__gt=elder_born))
    )
    elder = Q(status=PersonStatus.ACTIVE, birth_date__lte=elder_born, actual_m__isnull=False)
    computed = {
        **{
            tag: Q(status=PersonStatus.ACTIVE, birth_date__lte=years_ago(today, age))
            for age, tag in (
                (60, ComputedTag.AGE_60),
                (70, ComputedTag.AGE_70),
                (80, ComputedTag.AGE_80),
                (90, ComputedTag.AGE_90),
            )
        },
        ComputedTag.LIVES_ALONE: elder & Q(has_others=False),
        ComputedTag.ELDERS_ONLY: elder & Q(has_others=True, has_young=False),
        ComputedTag.SEPARATED: ~Q(separation=SEPARATED_NO),
    }
    figures = people.order_by().aggregate(
        **{str(tag): Count("pk", filter=condition) for tag, condition in computed.items()}
    )
    result.computed = [(str(tag), str(ComputedTag(tag).label), figures[str(tag)]) for tag in computed]
    return result
