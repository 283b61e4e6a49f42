"""Demo data of the resident database (人、户、房): about 2,000 houses in 25 estates and lanes of
五里桥街道, about 2,000 actual households (实住户), 1,500 registered households (户籍户) and 5,000
persons, and a few households of 打浦桥街道 so that scoping has something on the other side.

The population looks like an old inner-city street of Shanghai: a third of the people are 60 or
over, many elders live as couples (纯老) and some alone (独居); old lanes of public housing sit
next to newer high-rises; a quarter of the people come from other provinces (来沪人员) with a
residence permit, some of them expired; a few foreigners. Person-household separation
(人户分离) comes in its usual shapes: families whose registration stayed in the old lane flat they
now let while they live in a newer flat of the street, grown sons still registered with their
parents, Shanghai residents registered in another district, and people who moved away but kept
their registration here. Some moved out or died, so history has something to show. Maintained
tags (disability, 低保, 优抚, veteran, …) carry their source and date.

Estate and lane numbers are plausible, not a survey. Rows are written in bulk with their history
(django-simple-history), each history row dated when the fact began (a move-in, a tag's start),
so a person can be shown "as it was" on an earlier date. Deterministic for a given day (seeded
random and Faker; ages are drawn in years, so the people keep their ages whenever the demo is
loaded) and idempotent: a street that already has persons is left alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from faker import Faker
from simple_history.utils import bulk_create_with_history, bulk_update_with_history
from stdnum.cn import ric

from shequ.core.demo import loaders
from shequ.core.idnumbers import make_resident_id
from shequ.places.models import Place

from .choices import (
    DocumentType,
    FieldGroup,
    Gender,
    HouseholdKind,
    HouseKind,
    PersonStatus,
    Relation,
    ResidenceType,
    Tag,
)
from .models import House, Household, Membership, Person, PersonTag, Rental, compose_address
from .services import pinyin_keys

SEED = 20261124
STREET = "310101020"  # 五里桥街道
NEIGHBOUR = "310101021"  # 打浦桥街道
# Demo staff phones are 13800210xxx and queue tickets use 1380021xxxx: residents never do.
RESERVED_PHONES = "1380021"
# The affairs demo's applicants use sequences 100-199 and 800-999 of area 310101; ours stay in
# 200-799 (and any number already in the table is skipped).
SEQUENCES = (200, 800)

LANE, HIGHRISE, DORM = "lane", "highrise", "dorm"
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Estate:
    """A lane (弄) or a numbered high-rise; every room of it becomes a house."""

    committee: int  # 1-based committee number within the street
    name: str  # written as on mail: "瞿溪路1111弄"; a lone high-rise is its road: "打浦路" + 1号
    era: str  # LANE: 1960-90s walk-ups, much public housing; HIGHRISE: commodity flats; DORM
    buildings: tuple[str, ...]
    floors: int
    per_floor: int
    units: int = 0  # 0: no units (rooms numbered per building)
    built: int = 1985


def _b(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(1, n + 1))


ESTATES = {
    STREET: [
        # 桥一
        Estate(1, "瞿溪路1111弄", LANE, _b(6), 6, 2, built=1982),
        Estate(1, "中山南一路555弄", HIGHRISE, _b(2), 16, 4, built=2001),
        Estate(1, "局门路427弄", LANE, _b(6), 6, 2, built=1979),
        Estate(1, "鲁班路388弄", LANE, _b(4), 6, 2, built=1988),
        # 桥二
        Estate(2, "局门路600弄", LANE, _b(8), 6, 2, built=1976),
        Estate(2, "瞿溪路968弄", LANE, _b(5), 6, 2, built=1984),
        Estate(2, "南塘浜路103弄", HIGHRISE, ("1",), 18, 2, units=2, built=2006),
        Estate(2, "制造局路787弄", LANE, _b(5), 6, 3, built=1972),
        # 桥三
        Estate(3, "中山南一路860弄", HIGHRISE, _b(2), 20, 3, built=2004),
        Estate(3, "龙华东路868弄", LANE, _b(6), 6, 2, built=1986),
        Estate(3, "鲁班路600弄", LANE, _b(5), 5, 2, built=1968),
        Estate(3, "打浦路", HIGHRISE, ("1",), 28, 3, built=2009),
        # 丽园
        Estate(4, "丽园路501弄", LANE, _b(8), 6, 2, built=1980),
        Estate(4, "丽园路707弄", HIGHRISE, _b(2), 12, 2, units=2, built=1998),
        Estate(4, "制造局路584弄", LANE, _b(6), 6, 2, built=1983),
        Estate(4, "蒙自路", HIGHRISE, ("757",), 22, 3, built=2011),
        # 瞿溪
        Estate(5, "瞿溪路500弄", LANE, _b(7), 6, 2, built=1981),
        Estate(5, "瞿溪路815弄", LANE, _b(6), 5, 2, built=1965),
        Estate(5, "局门路258弄", HIGHRISE, _b(2), 15, 4, built=2003),
        Estate(5, "鲁班路240弄", LANE, _b(5), 6, 2, built=1987),
        # 蒙自
        Estate(6, "蒙自路207弄", LANE, _b(6), 6, 2, built=1978),
        Estate(6, "蒙自西路55弄", LANE, _b(5), 6, 2, built=1985),
        Estate(6, "龙华东路580弄", HIGHRISE, _b(2), 18, 3, built=2007),
        Estate(6, "南塘浜路50弄", LANE, _b(4), 6, 2, built=1974),
        Estate(6, "局门路436弄", DORM, _b(2), 5, 6, built=1992),  # a works' dormitory
    ],
    NEIGHBOUR: [
        Estate(1, "建国中路155弄", LANE, ("2",), 3, 2, built=1962),
        Estate(2, "徐家汇路610弄", HIGHRISE, ("1",), 4, 2, built=2005),
    ],
}

HOUSE_KINDS = {  # share of each kind by estate era
    LANE: {HouseKind.OWNED: 54, HouseKind.PUBLIC: 26, HouseKind.RENTED: 20},
    HIGHRISE: {HouseKind.OWNED: 70, HouseKind.RENTED: 28, HouseKind.PUBLIC: 2},
    DORM: {HouseKind.COLLECTIVE: 1},
}
VACANT = {LANE: 0.04, HIGHRISE: 0.03, DORM: 0.1}
# Registered families by estate era: template name → weight (see Planner.family).
FAMILIES = {
    LANE: {
        "elder_alone": 7,
        "elder_couple": 40,
        "elder_and_parent": 3,
        "elders_and_child": 14,
        "three_generations": 14,
        "couple_child": 5,
        "couple": 4,
        "couple_two_children": 1,
        "adult_alone": 5,
        "single_parent": 3,
    },
    HIGHRISE: {
        "elder_alone": 2,
        "elder_couple": 26,
        "elder_and_parent": 2,
        "elders_and_child": 10,
        "three_generations": 19,
        "couple_child": 18,
        "couple": 7,
        "couple_two_children": 5,
        "adult_alone": 5,
        "single_parent": 3,
    },
}
# Elders' ages: band start → weight (deaths thin the older bands).
ELDER_BANDS = {60: 26, 65: 26, 70: 20, 75: 12, 80: 8, 85: 5.2, 90: 2.3, 95: 0.5}

# Where Shanghai residents' ID numbers were issued: mostly 黄浦, some other districts. Each entry
# lists the codes of one place through time, newest first; a person gets the first that was in use
# in their birth year (python-stdnum knows): 卢湾 310103 and 南市 310102 were merged into 黄浦, 浦东
# was 川沙 310225 before 1992, 崇明 was a county (310230) until 2016. Older births fall back to 310101.
SHANGHAI_AREAS = {
    ("310101",): 62,
    ("310103",): 10,
    ("310102",): 3,
    ("310104",): 6,
    ("310105",): 4,
    ("310106",): 4,
    ("310110",): 4,
    ("310115", "310225"): 4,
    ("310151", "310230"): 3,
}
OTHER_DISTRICTS = {  # registered in Shanghai but elsewhere: 户籍地址 text
    "上海市徐汇区": ["天钥桥路", "漕溪北路", "宛平南路", "龙华西路"],
    "上海市长宁区": ["天山路", "仙霞路", "安顺路"],
    "上海市静安区": ["共和新路", "延长中路", "西康路"],
    "上海市杨浦区": ["控江路", "鞍山路", "长阳路"],
    "上海市浦东新区": ["浦东南路", "潍坊路", "崂山路", "东方路"],
    "上海市闵行区": ["莘松路", "都市路", "古美路"],
}
# Incoming residents' home places (today's names) with their codes through time, newest first.
PROVINCES = [
    ("安徽省合肥市蜀山区", ("340104",), 6),
    ("安徽省芜湖市镜湖区", ("340202",), 3),
    ("安徽省宿州市埇桥区", ("341302", "342201"), 5),
    ("安徽省六安市金安区", ("341502", "342401"), 4),
    ("安徽省蚌埠市怀远县", ("340321",), 3),
    ("安徽省合肥市长丰县", ("340121",), 3),
    ("安徽省淮北市濉溪县", ("340621",), 2),
    ("江苏省南京市玄武区", ("320102",), 3),
    ("江苏省徐州市沛县", ("320322",), 4),
    ("江苏省连云港市赣榆区", ("320707", "320721"), 3),
    ("河南省郑州市金水区", ("410105",), 4),
    ("河南省商丘市梁园区", ("411402", "412301"), 5),
    ("河南省周口市川汇区", ("411602", "412701"), 4),
    ("四川省成都市金堂县", ("510121",), 3),
    ("四川省绵阳市三台县", ("510722",), 3),
    ("四川省达州市通川区", ("511702", "513001"), 3),
    ("江西省南昌市西湖区", ("360103",), 3),
    ("江西省宜春市袁州区", ("360902", "362201"), 4),
    ("浙江省宁波市海曙区", ("330203",), 2),
    ("浙江省绍兴市柯桥区", ("330603", "330621"), 2),
    ("湖北省武汉市武昌区", ("420106",), 3),
    ("湖南省长沙市长沙县", ("430121",), 2),
    ("山东省青岛市市南区", ("370202",), 2),
    ("福建省福州市闽侯县", ("350121",), 2),
    ("贵州省遵义市红花岗区", ("520302", "522101"), 2),
    ("黑龙江省哈尔滨市南岗区", ("230103",), 1),
]
# Counties whose code never changed, for someone born before their family's place had its code:
# they were born in the province's countryside (or, failing that, in Anhui).
OLD_COUNTIES = {
    "34": "340121",
    "51": "510121",
    "36": "360121",
    "33": "330122",
    "42": "422822",
    "23": "230722",
}
TOWNS = ["城关", "新集", "高桥", "双河", "白云", "东关", "柳林", "三河", "马店", "临湖"]
ROADS = ["人民路", "解放路", "建设路", "中山路", "文化路", "胜利路", "新华路", "和平路"]
MOBILE_PREFIXES = (  # noqa: SIM905 (one line instead of thirty)
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 177 180 181 182 183 185 186 187 188 189 199"
).split()
KOREAN_SURNAMES = ["KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG", "YOON"]
KOREAN_GIVEN = {
    Gender.MALE: ["MINJUN", "JIHOON", "DONGHYUN", "SEUNGWOO", "HYUNWOO"],
    Gender.FEMALE: ["SEOYEON", "JIYOUNG", "HAYOON", "SUJIN", "MINJI"],
}
MOVED_AWAY = ["迁往浦东新区", "迁往闵行区", "迁往徐汇区", "迁往宝山区", "迁往松江区", "出国定居"]
LEFT_SHANGHAI = ["离沪返乡", "换工作搬离", "租约到期搬离"]
DISABILITY_KINDS = ["肢体残疾", "视力残疾", "听力残疾", "言语残疾", "智力残疾", "精神残疾", "多重残疾"]
SOURCES = {
    Tag.DISABILITY: "区残联",
    Tag.MINIMUM_INCOME: "区民政局",
    Tag.SPECIAL_CARE: "区退役军人事务局",
    Tag.VETERAN: "区退役军人事务局",
    Tag.THREE_NOS: "区民政局",
    Tag.FIVE_GUARANTEES: "区民政局",
    Tag.KEY_ASSISTANCE: "街道社区事务受理中心",
}


# ------------------------------------------------------------------------------ the plan


@dataclass(eq=False)
class HousePlan:
    committee: str
    grid: str
    estate: Estate
    building: str
    unit: str
    room: str
    kind: str


@dataclass(eq=False)
class HouseholdPlan:
    kind: str
    house: HousePlan
    number: str = ""


@dataclass(eq=False)
class Resident:
    name: str
    surname: str
    gender: str
    birth: dt.date
    residence: str = ResidenceType.REGISTERED
    id_type: str = DocumentType.RESIDENT_ID
    id_number: str = ""
    phone: str = ""
    permit: str = ""
    permit_expiry: dt.date | None = None
    registered_address: str = ""
    status: str = PersonStatus.ACTIVE
    status_on: dt.date | None = None

    def rename(self, surname: str) -> None:
        self.name, self.surname = surname + self.name[len(self.surname) :], surname


@dataclass(eq=False)
class Stay:
    """A membership: the person in the household from `joined` until `left`."""

    person: Resident
    household: HouseholdPlan
    relation: str
    joined: dt.date
    left: dt.date | None = None
    reason: str = ""


@dataclass(eq=False)
class TagPlan:
    person: Resident
    tag: str
    since: dt.date
    level: int | None = None
    until: dt.date | None = None
    note: str = ""


@dataclass(eq=False)
class RentalPlan:
    house: HousePlan
    landlord: Resident
    tenants: list[Resident]
    starts: dt.date
    ends: dt.date


Family = list[tuple[Resident, Relation]]  # members with their relation to the head, head first


@dataclass
class Plan:
    houses: list[HousePlan] = field(default_factory=list)
    households: list[HouseholdPlan] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)
    tags: list[TagPlan] = field(default_factory=list)
    rentals: list[RentalPlan] = field(default_factory=list)
    landlords: dict[HousePlan, Resident] = field(default_factory=dict)


@dataclass(eq=False)
class Parents:
    """An elder couple's households in a lane, where a grown son may still be registered."""

    registered: HouseholdPlan
    actual: HouseholdPlan
    father: Resident
    since: dt.date


class Planner:
    """Draws the street's people: every choice comes from one seeded Random and seeded Fakers.
    Every resident it makes is given at least one stay."""

    def __init__(self, today: dt.date, seed: int) -> None:
        self.today = today
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.fake_tw = Faker("zh_TW")
        self.fake_tw.seed_instance(seed + 1)
        self.fake_jp = Faker("ja_JP")
        self.fake_jp.seed_instance(seed + 2)
        self.fake_en = Faker("en_US")
        self.fake_en.seed_instance(seed + 3)
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.plan = Plan()
        self.numbers: dict[str, int] = {}
        self.parents: list[Parents] = []

    # -------------------------------------------------------------- small draws

    def pick(self, weights: Mapping[Any, float]) -> Any:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def years_ago(self, low: float, high: float) -> dt.date:
        return self.today - dt.timedelta(days=int(self.rng.uniform(low, high) * 365.25))

    def age(self, person: Resident) -> int:
        born, today = person.birth, self.today
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def elder_age(self, low: int = 60, high: int = 100) -> int:
        bands = {start: w for start, w in ELDER_BANDS.items() if start + 4 >= low and start <= high}
        start = self.pick(bands)
        return min(max(self.rng.randint(start, start + 4), low), high)

    def birth(self, age: int) -> dt.date:
        """A birth date making the person `age` today."""
        born = dt.date(self.today.year - age, 1, 1) + dt.timedelta(days=self.rng.randrange(365))
        if (self.today.month, self.today.day) < (born.month, born.day) and (born.month, born.day) != (2, 29):
            born = born.replace(year=born.year - 1)
        return min(born, self.today - dt.timedelta(days=7))

    def phone(self, age: int) -> str:
        """About four in five have a mobile: children and the very old less often."""
        if age < 12:
            return ""
        share = 0.5 if age < 18 else 0.92 if age < 70 else 0.8 if age < 80 else 0.55 if age < 90 else 0.3
        if self.rng.random() >= share:
            return ""
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if not number.startswith(RESERVED_PHONES) and number not in self.phones:
                self.phones.add(number)
                return number

    def resident_id(self, area: str, birth: dt.date, gender: str) -> str:
        """A new number (odd sequence for men, GB 11643) in our range of sequences."""
        while True:
            sequence = self.rng.randrange(SEQUENCES[0], SEQUENCES[1], 2) + (gender == Gender.MALE)
            number = make_resident_id(area, birth, sequence)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def province(self) -> tuple[str, tuple[str, ...]]:
        place, codes, _weight = self.rng.choices(PROVINCES, weights=[w for *_, w in PROVINCES])[0]
        return place, codes

    def area(self, codes: tuple[str, ...], birth: dt.date, fallback: str) -> str:
        """The first of a place's codes in use in the birth year, else `fallback`."""
        return next((code for code in codes if _in_use(code, birth.year)), fallback)

    def other_district_address(self) -> str:
        district = self.rng.choice(list(OTHER_DISTRICTS))
        road = self.rng.choice(OTHER_DISTRICTS[district])
        return (
            f"{district}{road}{self.rng.randint(10, 900)}弄{self.rng.randint(1, 40)}号"
            f"{self.rng.randint(1, 6)}{self.rng.randint(1, 4):02d}室"
        )

    def home_address(self, region: str) -> str:
        if self.rng.random() < 0.6:
            return (
                f"{region}{self.rng.choice(TOWNS)}镇{self.fake.last_name()}庄村"
                f"{self.rng.randint(1, 12)}组{self.rng.randint(1, 80)}号"
            )
        return f"{region}{self.rng.choice(ROADS)}{self.rng.randint(1, 300)}号"

    # -------------------------------------------------------------- persons

    def person(
        self,
        gender: str,
        age: int,
        *,
        surname: str | None = None,
        residence: str = ResidenceType.REGISTERED,
        home: tuple[str, tuple[str, ...]] | None = None,
    ) -> Resident:
        born = self.birth(age)
        surname = surname or self.fake.last_name()
        given = self.fake.first_name_male() if gender == Gender.MALE else self.fake.first_name_female()
        resident = Resident(
            name=surname + given, surname=surname, gender=gender, birth=born, residence=residence
        )
        if residence == ResidenceType.INCOMING:
            place, codes = home or self.province()
            area = self.area(codes, born, OLD_COUNTIES.get(codes[0][:2], "340121"))
            resident.registered_address = place if home else self.home_address(place)
            self.permit(resident)
        else:
            # One in twenty Shanghai residents of working age came from elsewhere (university,
            # work) and keeps the ID number issued at home.
            if 1983 <= born.year <= 1995 and self.rng.random() < 0.05:
                area = self.area(self.province()[1], born, "310101")
            else:
                area = self.area(self.pick(SHANGHAI_AREAS), born, "310101")
        resident.id_number = self.resident_id(area, born, gender)
        resident.phone = self.phone(age)
        self.plan.residents.append(resident)
        return resident

    def permit(self, resident: Resident) -> None:
        """上海市居住证, issued up to three years ago; about one in eight has run out."""
        issued = self.day_between(max(resident.birth, self.today - dt.timedelta(days=3 * 365)), self.today)
        resident.permit = f"3101{issued.year}{self.rng.randrange(10**8):08d}"
        if self.rng.random() < 0.12:
            resident.permit_expiry = self.today - dt.timedelta(days=self.rng.randint(5, 420))
        else:
            resident.permit_expiry = self.today + dt.timedelta(days=self.rng.randint(20, 1000))

    def foreigner(self, gender: str, age: int, nationality: str, surname: str | None = None) -> Resident:
        """境外人员: a passport (Hong Kong and Taiwan residents: their travel permits)."""
        male = gender == Gender.MALE
        digits = self.rng.randrange(10**8)
        id_type = DocumentType.PASSPORT
        if nationality in ("jp", "hk", "tw"):
            fake = self.fake_jp if nationality == "jp" else self.fake_tw
            surname = surname or fake.last_name()
            name = surname + (fake.first_name_male() if male else fake.first_name_female())
            if nationality == "jp":
                number = f"TK{digits % 10**7:07d}"
            elif nationality == "hk":
                id_type, number = DocumentType.HK_MACAO, f"H{digits:08d}"
            else:
                id_type, number = DocumentType.TAIWAN, f"{digits:08d}"
        elif nationality == "kr":
            surname = surname or self.rng.choice(KOREAN_SURNAMES)
            name, number = f"{surname} {self.rng.choice(KOREAN_GIVEN[Gender(gender)])}", f"M{digits:08d}"
        else:  # written surname first, in capitals, as on the residence permit for foreigners
            surname = surname or self.fake_en.last_name().upper()
            given = self.fake_en.first_name_male() if male else self.fake_en.first_name_female()
            name = f"{surname} {given.upper()}"
            number = {
                "us": f"5{digits:08d}",
                "de": f"C{digits:08d}",
                "fr": f"{digits % 100:02d}FR{digits % 10**5:05d}",
                "gb": f"1{digits:08d}",
            }[nationality]
        while number in self.ids:
            number = number[:-1] + str((int(number[-1]) + 1) % 10)
        self.ids.add(number)
        resident = Resident(
            name=name,
            surname=surname,
            gender=gender,
            birth=self.birth(age),
            residence=ResidenceType.FOREIGN,
            id_type=id_type,
            id_number=number,
        )
        resident.phone = self.phone(age)
        self.plan.residents.append(resident)
        return resident

    # -------------------------------------------------------------- families

    def couple(self, age: int, **kw: Any) -> tuple[Resident, Resident]:
        husband = self.person(Gender.MALE, age, **kw)
        wife_age = max(20, age - self.rng.choice([-2, -1, 0, 1, 2, 2, 3, 3, 4, 5]))
        return husband, self.person(Gender.FEMALE, wife_age, **kw)

    def spouse_for(self, husband: Resident) -> Resident:
        """About one in twenty Shanghai men under 60 married a woman who is still 来沪人员."""
        age = max(21, self.age(husband) - self.rng.choice([-1, 0, 1, 2, 2, 3, 4]))
        if age < 60 and self.rng.random() < 0.06:
            return self.person(Gender.FEMALE, age, residence=ResidenceType.INCOMING)
        return self.person(Gender.FEMALE, age)

    def children(self, father: Resident, mother: Resident, count: int, **kw: Any) -> list[Resident]:
        kids = []
        for i in range(count):
            age = self.age(mother) - self.rng.randint(24, 34) - 3 * i
            if age < 0:
                break
            gender = self.rng.choice([Gender.MALE, Gender.FEMALE])
            surname = father.surname if self.rng.random() < 0.9 else mother.surname
            kids.append(self.person(gender, age, surname=surname, **kw))
        return kids

    def family(self, template: str) -> Family:
        """A Shanghai family of the given template (see FAMILIES), head first."""
        rng = self.rng
        either = [Gender.MALE, Gender.FEMALE]
        if template == "elder_alone":
            gender = Gender.FEMALE if rng.random() < 0.7 else Gender.MALE
            return [(self.person(gender, self.elder_age(68)), Relation.HEAD)]
        if template == "adult_alone":
            return [(self.person(rng.choice(either), rng.randint(24, 59)), Relation.HEAD)]
        if template == "elder_couple":
            husband, wife = self.couple(self.elder_age(62))
            return [(husband, Relation.HEAD), (wife, Relation.SPOUSE)]
        if template == "elder_and_parent":  # a retired child with a very old mother: elders only
            child = self.person(rng.choice(either), rng.randint(60, 66))
            mother = self.person(Gender.FEMALE, min(self.age(child) + rng.randint(22, 32), 100))
            return [(child, Relation.HEAD), (mother, Relation.PARENT)]
        if template == "elders_and_child":  # with a grown, unmarried child
            husband, wife = self.couple(self.elder_age(60, 80))
            kids = self.children(husband, wife, 1)
            return [(husband, Relation.HEAD), (wife, Relation.SPOUSE)] + [(k, Relation.CHILD) for k in kids]
        if template == "single_parent":
            parent = self.person(Gender.FEMALE if rng.random() < 0.8 else Gender.MALE, rng.randint(30, 55))
            kid = self.person(rng.choice(either), rng.randint(3, 22), surname=parent.surname)
            return [(parent, Relation.HEAD), (kid, Relation.CHILD)]
        if template == "three_generations":
            father = self.person(Gender.MALE, rng.randint(34, 62))
            mother = self.spouse_for(father)
            kids = self.children(father, mother, 1)
            elder = self.age(father) + rng.randint(24, 33)
            grandfather = self.person(Gender.MALE, min(elder, 99), surname=father.surname)
            elders = [grandfather]
            if rng.random() < 0.7:
                elders.append(self.person(Gender.FEMALE, min(elder - rng.randint(0, 4), 99)))
            if rng.random() < 0.4:  # the grandfather still heads the household
                return (
                    [(grandfather, Relation.HEAD)]
                    + [(e, Relation.SPOUSE) for e in elders[1:]]
                    + [(father, Relation.CHILD), (mother, Relation.CHILD_IN_LAW)]
                    + [(k, Relation.GRANDCHILD) for k in kids]
                )
            return (
                [(father, Relation.HEAD), (mother, Relation.SPOUSE)]
                + [(e, Relation.PARENT) for e in elders]
                + [(k, Relation.CHILD) for k in kids]
            )
        # couples of working age, with 0-2 children
        if template == "couple":
            age = rng.randint(24, 34) if rng.random() < 0.5 else rng.randint(48, 64)
        else:
            age = rng.randint(29, 56)
        husband = self.person(Gender.MALE, age)
        wife = self.spouse_for(husband)
        count = {"couple": 0, "couple_child": 1, "couple_two_children": 2}[template]
        kids = self.children(husband, wife, count)
        return [(husband, Relation.HEAD), (wife, Relation.SPOUSE)] + [(k, Relation.CHILD) for k in kids]

    def incoming_family(self) -> Family:
        """来沪人员: flat-sharers, couples, young families, sometimes a grandmother."""
        rng = self.rng
        either = [Gender.MALE, Gender.FEMALE]
        place, codes = self.province()
        home = (self.home_address(place), codes)  # the family's registration back home
        kw: dict[str, Any] = {"residence": ResidenceType.INCOMING, "home": home}
        shape = self.pick(
            {"sharing": 18, "couple": 24, "couple_child": 42, "with_grandparent": 10, "alone": 6}
        )
        if shape in ("sharing", "alone"):
            members = [(self.person(rng.choice(either), rng.randint(20, 40), **kw), Relation.HEAD)]
            for _ in range(rng.randint(1, 2) if shape == "sharing" else 0):
                other = self.person(rng.choice(either), rng.randint(20, 40), residence=ResidenceType.INCOMING)
                members.append((other, Relation.NON_RELATIVE))
            return members
        husband, wife = self.couple(rng.randint(24, 46), **kw)
        members = [(husband, Relation.HEAD), (wife, Relation.SPOUSE)]
        if shape != "couple":
            kids = self.children(husband, wife, rng.choice([1, 1, 1, 2]), **kw)
            members += [(k, Relation.CHILD) for k in kids]
        if shape == "with_grandparent":  # a grandmother come to mind the child
            members.append((self.person(Gender.FEMALE, rng.randint(52, 72), **kw), Relation.PARENT))
        return members

    def foreign_family(self) -> Family:
        rng = self.rng
        either = [Gender.MALE, Gender.FEMALE]
        nationality = self.pick({"jp": 5, "kr": 4, "us": 3, "de": 2, "fr": 1, "gb": 1, "hk": 2, "tw": 2})
        shape = self.pick({"alone": 4, "couple": 3, "family": 3})
        gender = Gender.MALE if rng.random() < 0.7 else Gender.FEMALE
        first = self.foreigner(gender, rng.randint(26, 62), nationality)
        if shape == "alone":
            return [(first, Relation.HEAD)]
        other = Gender.FEMALE if gender == Gender.MALE else Gender.MALE
        age = max(24, self.age(first) + rng.randint(-4, 3))
        if nationality in ("jp", "us", "de") and rng.random() < 0.3:  # married to a Shanghai resident
            partner = self.person(other, age)
            partner.registered_address = self.other_district_address()  # 人户分离
        else:
            partner = self.foreigner(other, age, nationality)
        members = [(first, Relation.HEAD), (partner, Relation.SPOUSE)]
        if shape == "family":
            for _ in range(rng.randint(1, 2)):
                kid_age = rng.randint(1, max(1, min(age - 25, 17)))
                kid = self.foreigner(rng.choice(either), kid_age, nationality, first.surname)
                members.append((kid, Relation.CHILD))
        return members

    def dormitory(self) -> Family:
        """A works' dormitory room: three to six workers, one named as the head."""
        gender = Gender.MALE if self.rng.random() < 0.7 else Gender.FEMALE
        kw: dict[str, Any] = {"residence": ResidenceType.INCOMING}
        members = [(self.person(gender, self.rng.randint(20, 52), **kw), Relation.HEAD)]
        for _ in range(self.rng.randint(2, 5)):
            members.append((self.person(gender, self.rng.randint(19, 52), **kw), Relation.NON_RELATIVE))
        return members

    # -------------------------------------------------------------- households

    def household(self, kind: str, house: HousePlan) -> HouseholdPlan:
        number = ""
        if kind == HouseholdKind.REGISTERED:  # 户号: the committee's own running number
            self.numbers[house.committee] = self.numbers.get(house.committee, 0) + 1
            number = f"{house.committee[-6:]}{self.numbers[house.committee]:04d}"
        household = HouseholdPlan(kind=kind, house=house, number=number)
        self.plan.households.append(household)
        return household

    def settle(
        self, family: Family, household: HouseholdPlan, since: dt.date, *, registered_only: bool = False
    ) -> list[Stay]:
        """The family joins `household` on `since` (or when born, if later). A registered
        household takes only the members registered here; the first of them heads it."""
        members = family
        if registered_only:
            members = [(p, r) for p, r in family if self.registered_here(p)]
            if members and members[0][1] != Relation.HEAD:
                members = [(members[0][0], Relation.HEAD), *members[1:]]
        stays = []
        for person, relation in members:
            joined = max(since, person.birth + dt.timedelta(days=self.rng.randint(3, 30)))
            stays.append(Stay(person, household, relation, min(joined, self.today - dt.timedelta(days=1))))
        self.plan.stays.extend(stays)
        return stays

    @staticmethod
    def registered_here(person: Resident) -> bool:
        return person.residence == ResidenceType.REGISTERED and not person.registered_address

    def moved_in_on(self, house: HousePlan, head: Resident, *, recent: bool = False) -> dt.date:
        """When the family moved in: after the building was built and the head was grown up;
        long-settled families are the rule (the earlier of two draws), newcomers within 8 years."""
        latest = self.today - dt.timedelta(days=30)
        earliest = min(dt.date(max(house.estate.built, head.birth.year + 22), 3, 1), latest)
        if recent:
            return self.day_between(max(earliest, self.today - dt.timedelta(days=8 * 365)), latest)
        return min(self.day_between(earliest, latest), self.day_between(earliest, latest))

    def arrival(self, after: dt.date | None = None) -> dt.date:
        """When newcomers moved in: within seven years, after the flat was given up if known."""
        since = self.years_ago(0.1, 7)
        if after is not None and since <= after:
            since = self.day_between(after + dt.timedelta(days=15), self.today - dt.timedelta(days=10))
        return since


@functools.cache
def _in_use(code: str, year: int) -> bool:
    """Was the area code in use in that year (python-stdnum's table of GB/T 2260 codes)?"""
    return ric.is_valid(make_resident_id(code, dt.date(year, 1, 1), 0))


def _houses(planner: Planner, street: str, grids: dict[str, list[str]]) -> list[HousePlan]:
    """Every room of the street's estates; a lane's buildings fill its grid, a long lane runs
    into the next one."""
    houses = []
    for index, estate in enumerate(ESTATES[street]):
        committee = f"{street}{estate.committee:03d}"
        own = grids.get(committee, [])
        for b, building in enumerate(estate.buildings):
            grid = own[(index + b // 3) % len(own)] if own else ""
            for unit in [str(u) for u in range(1, estate.units + 1)] or [""]:
                for floor in range(1, estate.floors + 1):
                    for number in range(1, estate.per_floor + 1):
                        kind = planner.pick(HOUSE_KINDS[estate.era])
                        room = f"{floor}{number:02d}"
                        houses.append(HousePlan(committee, grid, estate, building, unit, room, kind))
    planner.plan.houses.extend(houses)
    return houses


def plan_street(planner: Planner, street: str, grids: dict[str, list[str]]) -> None:
    """Who lives where in the street (see the module doc)."""
    rng = planner.rng
    order = _houses(planner, street, grids)
    rng.shuffle(order)
    vacant = {h for h in order if h.kind != HouseKind.RENTED and rng.random() < VACANT[h.estate.era]}
    rented = [h for h in order if h.kind == HouseKind.RENTED]
    dorms = [h for h in order if h.kind == HouseKind.COLLECTIVE and h not in vacant]
    lived = [h for h in order if h.kind in (HouseKind.OWNED, HouseKind.PUBLIC) and h not in vacant]
    # Flats let or left empty by the family registered there, who now live in a newer flat of
    # the street (taken from the owned high-rise flats) or have left the street.
    newer = [h for h in lived if h.estate.era == HIGHRISE and h.kind == HouseKind.OWNED]
    moved_to: dict[HousePlan, HousePlan] = {}
    away: list[HousePlan] = []
    for old in rented + [h for h in order if h in vacant and h.kind != HouseKind.COLLECTIVE]:
        lane = old.estate.era == LANE
        draw = rng.random()
        if newer and draw < (0.55 if lane else 0.25):
            moved_to[old] = newer.pop()
        elif draw < (0.72 if lane else 0.38):
            away.append(old)
    new_homes = set(moved_to.values())

    # Lanes first: their elder couples are where grown sons in the high-rises are registered.
    lived.sort(key=lambda h: h.estate.era != LANE)
    for house in lived:
        if house in new_homes:
            continue
        era = house.estate.era
        draw = rng.random()
        if era == HIGHRISE and draw < 0.2:
            family = planner.incoming_family()  # bought their flat
            household = planner.household(HouseholdKind.ACTUAL, house)
            planner.settle(family, household, planner.moved_in_on(house, family[0][0], recent=True))
        elif era == HIGHRISE and draw < 0.26:
            _newcomers(planner, house, planner.foreign_family())
        elif draw < (0.4 if era == HIGHRISE else 0.04):
            _other_district(planner, house, str(planner.pick(FAMILIES[era])))
        else:
            _registered_family(planner, house, str(planner.pick(FAMILIES[era])))
    free_from = {old: _family_moved_up(planner, old, new) for old, new in moved_to.items()}
    free_from.update({house: _family_moved_away(planner, house) for house in away})
    for house in rented:
        after = free_from.get(house)
        draw = rng.random()
        if draw < 0.16:
            stays = _newcomers(planner, house, planner.foreign_family(), after)
        elif draw < 0.24:
            template = rng.choice(["couple", "couple_child", "adult_alone"])
            stays = _other_district(planner, house, template, after)
        else:
            stays = _newcomers(planner, house, planner.incoming_family(), after)
            if stays[-1].relation == Relation.NON_RELATIVE and rng.random() < 0.3:
                _leaver(planner, stays[0].household, stays[0].joined, incoming=True)
        landlord = planner.plan.landlords.get(house)
        if landlord is not None:
            # Leases run one to three years and are renewed: the current one began lately.
            starts = max(stays[0].joined, planner.today - dt.timedelta(days=rng.randint(30, 700)))
            ends = starts + dt.timedelta(days=365 * rng.choice([1, 2, 2, 3]))
            tenants = [s.person for s in stays if planner.age(s.person) >= 18]
            planner.plan.rentals.append(RentalPlan(house, landlord, tenants, starts, ends))
    for house in dorms:
        _newcomers(planner, house, planner.dormitory())


def _newcomers(
    planner: Planner, house: HousePlan, family: Family, after: dt.date | None = None
) -> list[Stay]:
    """Incoming or foreign residents: an actual household only, moved in lately."""
    household = planner.household(HouseholdKind.ACTUAL, house)
    return planner.settle(family, household, planner.arrival(after))


def _other_district(
    planner: Planner, house: HousePlan, template: str, after: dt.date | None = None
) -> list[Stay]:
    """Shanghai residents registered in another district (人在户不在)."""
    family = planner.family(template)
    address = planner.other_district_address()
    for person, _relation in family:
        if person.residence == ResidenceType.REGISTERED:
            person.registered_address = address
    household = planner.household(HouseholdKind.ACTUAL, house)
    since = planner.moved_in_on(house, family[0][0], recent=True)
    return planner.settle(family, household, max(since, after) if after else since)


def _registered_family(planner: Planner, house: HousePlan, template: str) -> None:
    """A family registered where it lives; in a high-rise the young husband is sometimes still
    registered with his parents in a lane (户在人不在 for them, 人在户不在 here)."""
    rng = planner.rng
    family = planner.family(template)
    head = family[0][0]
    since = planner.moved_in_on(house, head)
    actual = planner.household(HouseholdKind.ACTUAL, house)
    planner.settle(family, actual, since)
    registered = planner.household(HouseholdKind.REGISTERED, house)
    parents = None
    if (
        house.estate.era == HIGHRISE
        and template in ("couple", "couple_child", "couple_two_children")
        and planner.registered_here(family[1][0])
        and rng.random() < 0.25
    ):
        fits = [p for p in planner.parents if 22 <= planner.age(p.father) - planner.age(head) <= 38]
        parents = rng.choice(fits) if fits else None
    if parents is not None:
        planner.parents.remove(parents)
        head.rename(parents.father.surname)
        for kid, relation in family[2:]:
            if relation == Relation.CHILD and rng.random() < 0.9:
                kid.rename(head.surname)
        joined = max(parents.since, head.birth + dt.timedelta(days=20))
        planner.plan.stays.append(Stay(head, parents.registered, Relation.CHILD, joined))
        if joined < since:  # he lived with his parents until he married and moved here
            planner.plan.stays.append(Stay(head, parents.actual, Relation.CHILD, joined, since, "婚后迁居"))
        planner.settle(family[1:], registered, since, registered_only=True)
    else:
        for i, part in enumerate(_registrations(planner, template, family)):
            household = registered if i == 0 else planner.household(HouseholdKind.REGISTERED, house)
            planner.settle(part, household, since, registered_only=True)
    if template == "elder_couple" and house.estate.era == LANE:
        planner.parents.append(Parents(registered, actual, head, since))
    _events(planner, template, family, actual, registered, since)


def _registrations(planner: Planner, template: str, family: Family) -> list[Family]:
    """一址多户: in most three-generation homes, and in many homes with a grown child or a very
    old parent, each generation has its own registered household at the same address."""
    rng = planner.rng
    if template == "three_generations" and rng.random() < 0.8:
        if any(r == Relation.CHILD_IN_LAW for _p, r in family):  # the grandfather heads it
            elders = [(p, r) for p, r in family if r in (Relation.HEAD, Relation.SPOUSE)]
            shift = {Relation.CHILD: Relation.HEAD, Relation.CHILD_IN_LAW: Relation.SPOUSE}
            young = [
                (p, shift.get(r, Relation.CHILD))
                for p, r in family
                if r not in (Relation.HEAD, Relation.SPOUSE)
            ]
        else:
            parents = [p for p, r in family if r == Relation.PARENT]
            elders = [(p, Relation.HEAD if i == 0 else Relation.SPOUSE) for i, p in enumerate(parents)]
            young = [(p, r) for p, r in family if r != Relation.PARENT]
        return [elders, young]
    if (
        template == "elders_and_child"
        and len(family) == 3
        and planner.age(family[2][0]) >= 28
        and rng.random() < 0.7
    ):
        return [family[:2], [(family[2][0], Relation.HEAD)]]
    if template == "elder_and_parent" and rng.random() < 0.5:  # the mother's own, older household
        return [[(family[1][0], Relation.HEAD)], [(family[0][0], Relation.HEAD)]]
    return [family]


def _events(
    planner: Planner,
    template: str,
    family: Family,
    actual: HouseholdPlan,
    registered: HouseholdPlan,
    since: dt.date,
) -> None:
    """History: some elders living alone lost their spouse, a few grandparents died, some grown
    children moved away."""
    rng, today = planner.rng, planner.today
    if template == "elder_alone" and rng.random() < 0.55:
        head = family[0][0]
        gender = Gender.MALE if head.gender == Gender.FEMALE else Gender.FEMALE
        spouse = planner.person(gender, min(planner.age(head) + rng.randint(-1, 4), 100))
        spouse.phone = ""
        died = planner.day_between(
            max(since, today - dt.timedelta(days=12 * 365)), today - dt.timedelta(days=20)
        )
        for household in (actual, registered):
            planner.plan.stays.append(Stay(spouse, household, Relation.SPOUSE, since, died, "死亡"))
        spouse.status, spouse.status_on = PersonStatus.DECEASED, died
    elif template == "three_generations" and rng.random() < 0.08:
        stays = planner.plan.stays[-2 * len(family) :]
        heads = {s.person for s in stays if s.relation == Relation.HEAD}
        elders = [p for p, _r in family if planner.age(p) >= 75 and p not in heads]
        if not elders:
            return
        died = planner.day_between(
            max(since, today - dt.timedelta(days=3 * 365)), today - dt.timedelta(days=10)
        )
        for stay in stays:
            if stay.person is elders[0]:
                stay.left, stay.reason = died, "死亡"
        elders[0].status, elders[0].status_on = PersonStatus.DECEASED, died
    elif template in ("elder_couple", "elders_and_child") and rng.random() < 0.12:
        _leaver(planner, actual, since, registered=registered)


def _leaver(
    planner: Planner,
    actual: HouseholdPlan,
    since: dt.date,
    *,
    registered: HouseholdPlan | None = None,
    incoming: bool = False,
) -> None:
    """A member who moved away: a flat-sharer who left, or a grown child who moved to another
    district; half of those kept their registration here (户在人不在)."""
    rng, today = planner.rng, planner.today
    either = [Gender.MALE, Gender.FEMALE]
    if incoming:
        person = planner.person(rng.choice(either), rng.randint(20, 40), residence=ResidenceType.INCOMING)
        joined = min(since, today - dt.timedelta(days=100))
        left = planner.day_between(joined + dt.timedelta(days=30), today - dt.timedelta(days=10))
        planner.plan.stays.append(
            Stay(person, actual, Relation.NON_RELATIVE, joined, left, rng.choice(LEFT_SHANGHAI))
        )
    else:
        assert registered is not None
        person = planner.person(rng.choice(either), rng.randint(25, 45))
        joined = min(max(since, person.birth + dt.timedelta(days=20)), today - dt.timedelta(days=400))
        left = planner.day_between(
            max(joined + dt.timedelta(days=365), today - dt.timedelta(days=8 * 365)),
            today - dt.timedelta(days=20),
        )
        reason = rng.choice(MOVED_AWAY)
        planner.plan.stays.append(Stay(person, actual, Relation.CHILD, joined, left, reason))
        kept = rng.random() < 0.5
        planner.plan.stays.append(
            Stay(person, registered, Relation.CHILD, joined, None if kept else left, "" if kept else reason)
        )
    person.status, person.status_on = PersonStatus.MOVED_OUT, left


def _family_moved_away(planner: Planner, house: HousePlan) -> dt.date:
    """The family registered here moved out of the street and kept its registration
    (户在人不在); returns the day the flat was given up."""
    rng, today = planner.rng, planner.today
    family = planner.family(str(planner.pick({"couple": 3, "elder_couple": 4, "elders_and_child": 4})))
    since = planner.moved_in_on(house, family[0][0])
    left = planner.day_between(
        max(since + dt.timedelta(days=365), today - dt.timedelta(days=15 * 365)), today
    )
    left = min(left, today - dt.timedelta(days=200))
    since = min(since, left - dt.timedelta(days=365))
    planner.settle(family, planner.household(HouseholdKind.REGISTERED, house), since, registered_only=True)
    reason = rng.choice(MOVED_AWAY[:-1])
    for stay in planner.settle(family, planner.household(HouseholdKind.ACTUAL, house), since):
        stay.left, stay.reason = max(left, stay.joined), reason
        stay.person.status, stay.person.status_on = PersonStatus.MOVED_OUT, stay.left
    if house.kind == HouseKind.RENTED:
        planner.plan.landlords[house] = family[0][0]
    return left


def _family_moved_up(planner: Planner, old: HousePlan, new: HousePlan) -> dt.date:
    """Registered in the old lane flat (let or empty now), living in a newer flat of the street
    since the day returned."""
    template = str(planner.pick({"couple_child": 5, "couple": 2, "elder_couple": 2, "three_generations": 3}))
    family = planner.family(template)
    head = family[0][0]
    moved = planner.moved_in_on(new, head, recent=True)
    since = min(planner.moved_in_on(old, head), moved - dt.timedelta(days=365))
    planner.settle(family, planner.household(HouseholdKind.REGISTERED, old), since, registered_only=True)
    planner.settle(family, planner.household(HouseholdKind.ACTUAL, new), moved)
    if old.kind == HouseKind.RENTED:
        planner.plan.landlords[old] = head
    return moved


# ------------------------------------------------------------------------------ tags


def plan_tags(planner: Planner) -> None:
    """Maintained tags, drawn among the active residents with age-weighted odds."""
    rng, today = planner.rng, planner.today
    alive = [r for r in planner.plan.residents if r.status == PersonStatus.ACTIVE]
    registered = [r for r in alive if r.residence == ResidenceType.REGISTERED]

    def age(r: Resident) -> int:
        return today.year - r.birth.year

    def draw(pool: Sequence[Resident], share: float, weight: Callable[[Resident], float]) -> list[Resident]:
        """`share` of the residents, drawn from `pool` with the given odds (weighted, no repeats)."""
        keyed = [(rng.random() ** (1 / w), r) for r in pool if (w := weight(r)) > 0]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        return [r for _k, r in keyed[: round(len(alive) * share)]]

    def since(r: Resident, years: float) -> dt.date:
        """Granted within `years`, never in the first year of life nor in the future."""
        return min(max(r.birth + dt.timedelta(days=365), planner.years_ago(0.2, years)), today)

    def disability_odds(r: Resident) -> float:
        return (
            0 if age(r) < 3 else 0.3 if age(r) < 18 else 0.8 if age(r) < 60 else 1.6 if age(r) < 80 else 2.5
        )

    add = planner.plan.tags.append
    for r in draw(alive, 0.03, disability_odds):
        level = rng.choices([1, 2, 3, 4], weights=[10, 25, 30, 35])[0]
        add(TagPlan(r, Tag.DISABILITY, since(r, 25), level=level, note=rng.choice(DISABILITY_KINDS)))
    # 低保 is granted to a household: every registered member of the chosen households.
    by_household: dict[HouseholdPlan, list[Resident]] = {}
    for stay in planner.plan.stays:
        if (
            stay.household.kind == HouseholdKind.REGISTERED
            and stay.left is None
            and stay.person.status == PersonStatus.ACTIVE
        ):
            by_household.setdefault(stay.household, []).append(stay.person)
    households = list(by_household.values())
    rng.shuffle(households)
    households.sort(key=lambda members: len(members) > 2)  # small households first
    poor: list[Resident] = []
    for members in households:
        if len(poor) >= len(alive) * 0.02:
            break
        granted = planner.years_ago(0.3, 8)
        for r in members:
            add(TagPlan(r, Tag.MINIMUM_INCOME, max(granted, r.birth + dt.timedelta(days=1))))
        poor += members
    ended = [r for r in registered if r not in poor]
    for r in draw(ended, 0.002, lambda r: 1 if age(r) >= 30 else 0):  # 低保 that ended
        start = planner.years_ago(4, 10)
        add(
            TagPlan(
                r,
                Tag.MINIMUM_INCOME,
                start,
                until=planner.day_between(start + dt.timedelta(days=200), today - dt.timedelta(days=30)),
                note="收入超标，停发",
            )
        )
    veterans = draw(
        registered, 0.02, lambda r: (3 if r.gender == Gender.MALE else 0.1) if age(r) >= 22 else 0
    )
    for r in veterans:
        add(
            TagPlan(
                r,
                Tag.VETERAN,
                since(r, 30),
                note=rng.choice(["退役士兵", "退役士兵", "转业干部", "复员军人"]),
            )
        )
    care_pool = [r for r in veterans if age(r) >= 70] + [
        r for r in registered if age(r) >= 75 and r not in veterans
    ]
    for r in draw(care_pool, 0.01, lambda r: 4 if r in veterans else 1):
        note = "在乡复员军人" if r in veterans else rng.choice(["烈士遗属", "因公牺牲军人遗属", "伤残军人"])
        add(TagPlan(r, Tag.SPECIAL_CARE, since(r, 20), note=note))
    alone = _living_alone(planner)
    for tag, count, note in (
        (Tag.THREE_NOS, 5, "无劳动能力、无生活来源、无法定赡养人"),
        (Tag.FIVE_GUARANTEES, 3, "原籍农村五保供养对象"),
    ):
        for r in rng.sample(alone, min(count, len(alone))):
            if not any(t.person is r and t.tag == tag for t in planner.plan.tags):
                add(TagPlan(r, tag, since(r, 15), note=note))
    helped = [r for r in poor if age(r) >= 18] + [
        t.person for t in planner.plan.tags if t.tag == Tag.DISABILITY and t.level in (1, 2)
    ]
    for r in rng.sample(helped, min(12, len(helped))):
        if not any(t.person is r and t.tag == Tag.KEY_ASSISTANCE for t in planner.plan.tags):
            add(
                TagPlan(
                    r, Tag.KEY_ASSISTANCE, since(r, 4), note=rng.choice(["因病致困", "重残无业", "独居困难"])
                )
            )


def _living_alone(planner: Planner) -> list[Resident]:
    members: dict[HouseholdPlan, list[Resident]] = {}
    for stay in planner.plan.stays:
        if stay.household.kind == HouseholdKind.ACTUAL and stay.left is None:
            members.setdefault(stay.household, []).append(stay.person)
    return [
        m[0]
        for m in members.values()
        if len(m) == 1
        and m[0].residence == ResidenceType.REGISTERED
        and planner.today.year - m[0].birth.year >= 70
    ]


# ------------------------------------------------------------------------------ writing


def _at(day: dt.date) -> dt.datetime:
    """When a fact began, for its history row: 9 am that day, Shanghai time."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=timezone.get_current_timezone())


def _dated(row: M, day: dt.date) -> M:
    """Date the row's coming history row (simple_history reads `_history_date`)."""
    row._history_date = _at(day)  # type: ignore[attr-defined]
    return row


def _avoid_taken_ids(planner: Planner) -> None:
    """Skip document numbers already in the table (the lead's or another module's residents)."""
    numbers = [r.id_number for r in planner.plan.residents]
    taken: set[str] = set()
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        taken.update(Person.objects.filter(id_number__in=chunk).values_list("id_number", flat=True))
    for resident in planner.plan.residents:
        while resident.id_number in taken:
            if resident.id_type == DocumentType.RESIDENT_ID:
                resident.id_number = planner.resident_id(
                    resident.id_number[:6], resident.birth, resident.gender
                )
            else:
                resident.id_number = resident.id_number[:-1] + str((int(resident.id_number[-1]) + 1) % 10)


def _committees(plan: Plan) -> dict[Resident, str]:
    """Each person's committee: that of their current actual home, else their last one, else
    their registration's."""
    committee: dict[Resident, str] = {}
    for stay in plan.stays:
        if stay.household.kind == HouseholdKind.ACTUAL and (
            stay.left is None or stay.person not in committee
        ):
            committee[stay.person] = stay.household.house.committee
    for stay in plan.stays:
        committee.setdefault(stay.person, stay.household.house.committee)
    return committee


def write(planner: Planner) -> int:
    """Everything in bulk, each row with its first history row dated when it began; then what
    ended later (moves, deaths) as a second history row on its own date."""
    plan = planner.plan
    _avoid_taken_ids(planner)
    began: dict[object, dt.date] = {}
    for stay in plan.stays:
        for key in (stay.person, stay.household, stay.household.house):
            began[key] = min(began.get(key, stay.joined), stay.joined)

    committees = {h.committee for h in plan.houses}
    existing = {
        (h.place_code, h.estate, h.building, h.unit, h.room): h
        for h in House.objects.filter(place_code__in=committees)
    }
    houses: dict[HousePlan, House] = {}
    new_houses: list[House] = []
    for hp in plan.houses:
        house = existing.get((hp.committee, hp.estate.name, hp.building, hp.unit, hp.room))
        if house is None:
            house = House(
                place_code=hp.committee,
                grid_code=hp.grid,
                estate=hp.estate.name,
                building=hp.building,
                unit=hp.unit,
                room=hp.room,
                kind=hp.kind,
                address=compose_address(hp.estate.name, hp.building, hp.unit, hp.room),
            )
            _dated(house, began.get(hp, dt.date(hp.estate.built, 6, 1)))
            new_houses.append(house)
        houses[hp] = house
    bulk_create_with_history(new_houses, House)

    households: dict[HouseholdPlan, Household] = {}
    for hh in plan.households:
        household = Household(
            kind=hh.kind, number=hh.number, house=houses[hh.house], place_code=hh.house.committee
        )
        households[hh] = _dated(household, began[hh])
    bulk_create_with_history(list(households.values()), Household)

    committee = _committees(plan)
    pinyin: dict[str, tuple[str, str]] = {}
    persons: dict[Resident, Person] = {}
    for r in plan.residents:
        full, initials = pinyin.get(r.name) or pinyin.setdefault(r.name, pinyin_keys(r.name))
        person = Person(
            name=r.name,
            name_pinyin=full,
            name_initials=initials,
            id_type=r.id_type,
            id_number=r.id_number,
            gender=r.gender,
            birth_date=r.birth,
            phone=r.phone,
            residence_type=r.residence,
            residence_permit_number=r.permit,
            residence_permit_expiry=r.permit_expiry,
            registered_address=r.registered_address,
            place_code=committee[r],
        )
        persons[r] = _dated(person, began[r])
    bulk_create_with_history(list(persons.values()), Person)

    memberships: dict[Stay, Membership] = {}
    for stay in plan.stays:
        membership = Membership(
            household=households[stay.household],
            person=persons[stay.person],
            kind=stay.household.kind,
            relation=stay.relation,
            joined_on=stay.joined,
        )
        memberships[stay] = _dated(membership, stay.joined)
    # Stays that ended go in first and are ended at once, so that a person is never in two
    # current households of a kind (the constraint holds at every step, as it did in life).
    ended = [s for s in plan.stays if s.left is not None]
    bulk_create_with_history([memberships[s] for s in ended], Membership)
    for stay in ended:
        assert stay.left is not None
        membership = memberships[stay]
        membership.left_on, membership.left_reason = stay.left, stay.reason
        _dated(membership, stay.left)
    bulk_update_with_history([memberships[s] for s in ended], Membership, ["left_on", "left_reason"])
    bulk_create_with_history([memberships[s] for s in plan.stays if s.left is None], Membership)

    changed = []
    for r in plan.residents:
        if r.status_on is not None:
            person = persons[r]
            person.status, person.status_on = r.status, r.status_on
            changed.append(_dated(person, r.status_on))
    bulk_update_with_history(changed, Person, ["status", "status_on"])

    tags = [
        _dated(
            PersonTag(
                person=persons[t.person],
                tag=t.tag,
                level=t.level,
                source=SOURCES[Tag(t.tag)],
                since=t.since,
                until=t.until,
                note=t.note,
            ),
            t.since,
        )
        for t in plan.tags
    ]
    bulk_create_with_history(tags, PersonTag)

    leases = plan.rentals
    rentals = Rental.objects.bulk_create(
        [
            Rental(
                house=houses[r.house],
                landlord=persons[r.landlord],
                starts_on=r.starts,
                ends_on=r.ends,
                place_code=r.house.committee,
            )
            for r in leases
        ]
    )
    through = Rental.tenants.through
    through.objects.bulk_create(
        [
            through(rental_id=rental.pk, person_id=persons[tenant].pk)
            for rental, lease in zip(rentals, leases, strict=True)
            for tenant in lease.tenants
        ]
    )
    return len(new_houses) + len(households) + len(persons) + len(memberships) + len(tags) + len(rentals)


def _grids(street: str) -> dict[str, list[str]]:
    grids: dict[str, list[str]] = {}
    for code in (
        Place.objects.filter(kind="grid", code__startswith=street)
        .order_by("code")
        .values_list("code", flat=True)
    ):
        grids.setdefault(code[:12], []).append(code)
    return grids


@transaction.atomic
def load(today: dt.date | None = None) -> int:
    """The streets' residents (see the module doc); returns the rows made, 0 if already there."""
    today = today or timezone.localdate()
    made = 0
    for number, street in enumerate((STREET, NEIGHBOUR)):
        if not Place.objects.filter(code=street).exists():
            continue
        if Person.objects.filter(place_code__startswith=street).exists():
            continue  # loaded before, or real residents: never mix demo people in
        planner = Planner(today, SEED + 100 * number)
        plan_street(planner, street, _grids(street))
        plan_tags(planner)
        made += write(planner)
        if street == STREET:
            made += _pending_change(street)
    return made


def _pending_change(street: str) -> int:
    """One correction waiting for the street's approval, so the approvals page has work: the
    committee worker fixes a registered address (residence changes need approval by default)."""
    from shequ.accounts.models import User

    from .changes import request_change

    worker = User.objects.filter(username="committee").first()
    person = (
        Person.objects.filter(
            place_code__startswith=f"{street}001", residence_type="registered", status="active"
        )
        .order_by("id")
        .first()
    )
    if worker is None or person is None:
        return 0
    request_change(
        by=worker,
        person=person,
        group=FieldGroup.RESIDENCE,
        values={"registered_address": "上海市黄浦区蒙自路 88 弄 5 号 301 室"},
        reason="居民持户口簿来居委会核对，户籍地址有误",
        expected_version=person.version,
    )
    return 1


loaders.register("people", load)
