"""The resident database at city scale: a COPY generator and the look-up benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shequ_bench python bench/run.py --persons 2500000

The generator writes synthetic, plausible residents straight into PostgreSQL with COPY: the 16
real districts, four streets of eight committees in each (codes 310xxx7SS0CC, clear of the demo's
real streets), houses of 1-5 people, one actual household per house and, for four in five
houses, a registered household too. Names follow the frequencies of Chinese surnames (Faker
zh_CN's weighted table) and a skewed choice of given-name characters, so common names are common
as in life; ID numbers are valid (GB 11643 check digit) with real Shanghai area codes and each
unique by construction. History rows (django-simple-history) are not generated: nothing read here
uses them.

The benchmarks search as a district leader, through the same selector and scoping as the page.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection
from django.utils import timezone
from faker.providers.person.zh_CN import Provider as ChineseNames
from pypinyin import lazy_pinyin

from shequ.accounts.choices import Role
from shequ.accounts.models import RoleAssignment, User
from shequ.accounts.scoping import VIEW, restrict
from shequ.core.idnumbers import make_resident_id
from shequ.people import selectors
from shequ.people.models import House, Person
from shequ.people.services import pinyin_keys
from shequ.places.models import Place

STREETS_PER_DISTRICT = 4
COMMITTEES_PER_STREET = 8
BIRTH_DAYS = 32_872  # 90 years of birth dates
BENCH_LEADER = "bench_district_leader"
BENCH_DISTRICT = "310104"  # 徐汇区: the leader searches one district of the sixteen


def _districts() -> list[Place]:
    return list(Place.objects.filter(kind="district", code__startswith="31").order_by("code"))


def committees() -> list[str]:
    """The bench committees, created if missing (a street is `district` + 7SS, its committees + 0CC)."""
    made: list[str] = []
    for district in _districts():
        for s in range(1, STREETS_PER_DISTRICT + 1):
            street, _ = Place.objects.get_or_create(
                code=f"{district.code}7{s:02d}",
                defaults={"name": f"测试{s}街道", "kind": "street", "parent": district, "source": "bench"},
            )
            for c in range(1, COMMITTEES_PER_STREET + 1):
                code = f"{street.code}0{c:02d}"
                Place.objects.get_or_create(
                    code=code,
                    defaults={
                        "name": f"测试{s}-{c}居委会",
                        "kind": "committee",
                        "parent": street,
                        "source": "bench",
                    },
                )
                made.append(code)
    return made


class Names:
    """Names drawn with realistic skew, with their pinyin keys composed from parts computed once."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        surnames = list(ChineseNames.last_names.items())
        self.surnames = [s for s, _ in surnames]
        self.surname_weights = [w for _, w in surnames]
        self.chars = list(dict.fromkeys(ChineseNames.first_names))
        self.char_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.chars))]
        self.surname_keys = {s: pinyin_keys(s) for s in self.surnames}
        self.char_keys = {c: (lazy_pinyin(c)[0], lazy_pinyin(c)[0][:1]) for c in self.chars}

    def draw(self) -> tuple[str, str, str]:
        surname = self.rng.choices(self.surnames, self.surname_weights)[0]
        given = self.rng.choices(self.chars, self.char_weights, k=1 if self.rng.random() < 0.35 else 2)
        full, initials = self.surname_keys[surname]
        for char in given:
            full += self.char_keys[char][0]
            initials += self.char_keys[char][1]
        return surname + "".join(given), full, initials


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def _copy(table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
                count += 1
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    return count


def generate_people(total: int, log: Callable[[str], None] = print) -> None:
    """Top the bench committees up to `total` persons (nothing is written if they hold that many)."""
    codes = committees()
    have = Person.objects.filter(place_code__in=codes).count()
    if have >= total:
        return
    rng = random.Random(25)
    names = Names(rng)
    districts = [d.code for d in _districts()]
    now = timezone.now()
    started = timezone.now()
    person_id, house_id, household_id = (
        _next_id("people_person"),
        _next_id("people_house"),
        _next_id("people_household"),
    )
    persons: list[tuple[Any, ...]] = []
    houses: list[tuple[Any, ...]] = []
    households: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    base_birth = dt.date(1935, 1, 1)
    index = have
    house_serial = House.objects.filter(place_code__in=codes).count()
    while index < total:
        place = codes[house_serial % len(codes)]
        house_serial += 1
        building, room = divmod(house_serial // len(codes), 60)
        houses.append(
            (
                house_id,
                place,
                "",
                f"测试路{house_serial % 97 + 1}弄",
                str(building + 1),
                "",
                f"{room // 6 + 1}0{room % 6 + 1}",
                "owned",
                f"测试路{house_serial % 97 + 1}弄{building + 1}号{room // 6 + 1}0{room % 6 + 1}室",
                now,
                now,
            )
        )
        actual = household_id
        households.append((actual, "actual", "", house_id, place, now, now))
        registered = household_id + 1 if rng.random() < 0.8 else None
        if registered:
            households.append((registered, "registered", f"H{house_id:08d}", house_id, place, now, now))
        household_id += 2 if registered else 1
        house_id += 1
        size = min(rng.choice((1, 1, 2, 2, 2, 3, 3, 3, 4, 5)), total - index)
        for seat in range(size):
            name, full, initials = names.draw()
            block = index // len(districts)
            birth = base_birth + dt.timedelta(days=block * 7919 % BIRTH_DAYS)
            sequence = index // (len(districts) * BIRTH_DAYS)
            number = make_resident_id(districts[index % len(districts)], birth, sequence)
            gender = "M" if int(number[16]) % 2 else "F"
            phone = f"1{3 + index % 7}{index:09d}"[:11]
            persons.append(
                (
                    person_id,
                    name,
                    full,
                    initials,
                    "resident_id",
                    number,
                    gender,
                    birth,
                    phone,
                    "registered",
                    "",
                    None,
                    "",
                    "active",
                    None,
                    place,
                    1,
                    now,
                    now,
                )
            )
            relation = "head" if seat == 0 else rng.choice(("spouse", "child", "parent", "grandchild"))
            joined = dt.date(2000, 1, 1) + dt.timedelta(days=index % 9000)
            members.append((actual, person_id, "actual", relation, joined, None, ""))
            if registered:
                members.append((registered, person_id, "registered", relation, joined, None, ""))
            person_id += 1
            index += 1
        if len(persons) >= 100_000 or index >= total:
            _flush(houses, households, persons, members)
            log(f"  people: {index:,} / {total:,} ({(timezone.now() - started).total_seconds():.0f} s)")
            houses, households, persons, members = [], [], [], []
    with connection.cursor() as cursor:
        # VACUUM also moves the GIN index's pending list (fast-update) into the index proper, as
        # autovacuum would after a real load; ANALYZE gives the planner the new sizes.
        for table in ("people_person", "people_house", "people_household", "people_membership"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _flush(houses: list, households: list, persons: list, members: list) -> None:
    _copy(
        "people_house",
        [
            "id",
            "place_code",
            "grid_code",
            "estate",
            "building",
            "unit",
            "room",
            "kind",
            "address",
            "created_at",
            "updated_at",
        ],
        iter(houses),
    )
    _copy(
        "people_household",
        ["id", "kind", "number", "house_id", "place_code", "created_at", "updated_at"],
        iter(households),
    )
    _copy(
        "people_person",
        [
            "id",
            "name",
            "name_pinyin",
            "name_initials",
            "id_type",
            "id_number",
            "gender",
            "birth_date",
            "phone",
            "residence_type",
            "residence_permit_number",
            "residence_permit_expiry",
            "registered_address",
            "status",
            "status_on",
            "place_code",
            "version",
            "created_at",
            "updated_at",
        ],
        iter(persons),
    )
    _copy(
        "people_membership",
        ["household_id", "person_id", "kind", "relation", "joined_on", "left_on", "left_reason"],
        iter(members),
    )


def district_leader() -> User:
    user, created = User.objects.get_or_create(username=BENCH_LEADER, defaults={"full_name": "基准测试"})
    if created:
        RoleAssignment.objects.create(
            user=user, role=Role.LEADER, place=Place.objects.get(code=BENCH_DISTRICT)
        )
    return User.objects.get(pk=user.pk)


def search_operations(repeat: int, measure: Callable[..., Any]) -> list[Any]:
    """ID look-up and name searches (two-character piece, full name, surname, pinyin) as the district
    leader sees them: scoped to the district, the page's limit of 51 rows."""
    leader = district_leader()
    scoped = restrict(Person.objects.all(), leader, VIEW)
    rng = random.Random(3)
    in_district = list(
        Person.objects.filter(place_code__startswith=BENCH_DISTRICT).values_list(
            "id_number", "name", "name_initials"
        )[:20_000]
    )
    sample = rng.sample(in_district, min(len(in_district), 2000))
    pieces = [name[-2:] for _, name, _ in sample if len(name) >= 3]
    results = []

    def run(texts: list[str]) -> Callable[[int], object]:
        return lambda i: selectors.search(scoped, texts[i % len(texts)], limit=51)

    results.append(
        measure("people: look-up by ID number (district leader)", run([n for n, _, _ in sample]), repeat)
    )
    results.append(measure("people: search by whole name", run([name for _, name, _ in sample]), repeat))
    results.append(measure("people: search by part of a name (2 characters)", run(pieces), repeat))
    common = _most_common_piece()
    results.append(
        measure(
            f"people: search by the commonest 2-character piece ({common})",
            run([common]),
            max(50, repeat // 5),
        )
    )
    results.append(measure("people: search by pinyin initials", run([i for _, _, i in sample]), repeat))
    results.append(
        measure("people: search by surname (1 character)", run(["王", "李", "张", "刘", "陈"]), repeat)
    )
    return results


def _most_common_piece() -> str:
    """The given name (last two characters) most frequent among bench persons: the worst case of
    the two-character search."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT right(name, 2) AS piece FROM people_person WHERE char_length(name) = 3 "
            "GROUP BY piece ORDER BY count(*) DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else "秀英"


def explain_name_search(text: str) -> str:
    leader = district_leader()
    scoped = restrict(Person.objects.all(), leader, VIEW)
    queryset = selectors.search_queryset(scoped, text, limit=51)
    assert queryset is not None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


INDEX_DESIGN = """\
Index design of the resident database (people_person):

* ID number: the unique index on (id_type, id_number); the search names the document types, so
  the look-up is an index probe per type, never a scan.
* Whole name and surname: a btree on name with varchar_pattern_ops serves `name LIKE '王%'` and
  the ORDER BY name of the result page.
* Part of a name: a GIN index on people_name_bigrams(name), every two-character piece of the name
  (王秀英 → {王秀, 秀英}). A search for 秀英 asks for names whose pieces contain {秀英} and rechecks
  `name LIKE '%秀英%'`. pg_trgm cannot serve this: a two-character pattern has no trigrams.
* Pinyin: btrees (varchar_pattern_ops) on name_pinyin and name_initials, prefix searches.
* Scope: every query also carries the user's place prefix (`place_code LIKE '310104%'`), served by
  the btree on place_code when it is the more selective condition.
"""


def report_section() -> list[str]:
    common = _most_common_piece()
    return [
        "## Resident database: index design and plans",
        "",
        INDEX_DESIGN,
        f"Plan of the worst two-character search ({common}, the commonest given name):",
        "",
        "```",
        explain_name_search(common),
        "```",
        "",
    ]


IMPORT_STREET = f"{BENCH_DISTRICT}799"  # 导入测试街道: a fresh committee under it per run


def _fresh_committee() -> tuple[str, int]:
    district = Place.objects.get(code=BENCH_DISTRICT)
    street, _ = Place.objects.get_or_create(
        code=IMPORT_STREET,
        defaults={"name": "导入测试街道", "kind": "street", "parent": district, "source": "bench"},
    )
    taken = Place.objects.filter(parent=street).count()
    code = f"{IMPORT_STREET}{taken + 1:03d}"
    Place.objects.create(
        code=code, name=f"导入测试{taken + 1}居委会", kind="committee", parent=street, source="bench"
    )
    return code, taken + 1


def import_operations(persons: int = 20_000) -> list[tuple[str, float, int]]:
    """A committee's sheets through `imports.import_file`, as the upload page runs them: first the
    houses (CSV), then the persons with their households and relations (CSV), then both again
    as one .xlsx into another fresh committee. Returns (name, seconds, rows)."""
    from openpyxl import Workbook

    from shequ.people import imports

    admin = User.objects.get(username="admin")
    names = Names(random.Random(11))
    results = []
    code, run = _fresh_committee()
    house_rows, person_rows = _sheet_rows(persons, names, run)
    houses_csv = "\n".join(",".join(r) for r in [["小区/路弄", "楼号", "单元", "室号"], *house_rows]).encode()
    persons_csv = "\n".join(
        ",".join(r)
        for r in [
            ["姓名", "证件号码", "与户主关系", "小区/路弄", "楼号", "单元", "室号", "户号"],
            *person_rows,
        ]
    ).encode()
    for label, data, rows in (
        ("houses.csv", houses_csv, len(house_rows)),
        ("persons.csv", persons_csv, len(person_rows)),
    ):
        start = time.perf_counter()
        outcome = imports.import_file(data, label, by=admin, place_code=code)
        elapsed = time.perf_counter() - start
        assert outcome.status == "done", outcome.errors[:5]
        results.append((f"people: import {label} ({rows:,} rows)", elapsed, rows))
    code, run = _fresh_committee()
    house_rows, person_rows = _sheet_rows(persons, names, run)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    sheet = book.create_sheet(imports.HOUSES)
    sheet.append(["小区/路弄", "楼号", "单元", "室号"])
    for row in house_rows:
        sheet.append(row)
    sheet = book.create_sheet(imports.PERSONS)
    sheet.append(["姓名", "证件号码", "与户主关系", "小区/路弄", "楼号", "单元", "室号", "户号"])
    for row in person_rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    start = time.perf_counter()
    outcome = imports.import_file(out.getvalue(), "committee.xlsx", by=admin, place_code=code)
    elapsed = time.perf_counter() - start
    assert outcome.status == "done", outcome.errors[:5]
    rows = len(house_rows) + len(person_rows)
    results.append((f"people: import one .xlsx, houses and persons ({rows:,} rows)", elapsed, rows))
    return results


def _sheet_rows(persons: int, names: Names, run: int) -> tuple[list[list[str]], list[list[str]]]:
    """Houses of 1-5 people and their persons; ID numbers unique to this run (sequence 900+run)."""
    rng = random.Random(run)
    houses: list[list[str]] = []
    people: list[list[str]] = []
    relations = ("配偶", "子女", "父母", "孙子女")
    while len(people) < persons:
        n = len(houses)
        house = ["导入路1弄", str(n // 60 + 1), "", f"{n % 60 // 6 + 1}0{n % 6 + 1}"]
        houses.append(house)
        for seat in range(min(rng.choice((1, 2, 2, 3, 3, 4, 5)), persons - len(people))):
            i = len(people)
            birth = dt.date(1935, 1, 1) + dt.timedelta(days=i * 7919 % BIRTH_DAYS)
            number = make_resident_id(BENCH_DISTRICT, birth, 900 + run % 100)
            name = names.draw()[0]
            people.append([name, number, "户主" if seat == 0 else rng.choice(relations), *house, "1"])
    return houses, people
